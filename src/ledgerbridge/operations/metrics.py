"""``/metrics``: what the database says, read at scrape time, and the processes'
counters (``ledgerbridge.metrics``) summed from their files.

The database is the truth for the backlog, the links, the pause, webhooks,
polls and worker heartbeats, so those are computed per scrape by a custom
collector rather than kept in memory. No label carries a per-company value
except the rate-limit allowance, which names only the ``ALLOWANCE_TOP``
organisations with the least left; everything else is summed over companies,
so the number of series does not grow with them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from ledgerbridge.accounting.heartbeats import HEARTBEAT_STALE
from ledgerbridge.accounting.models import (
    AccountingSettings,
    SyncAttempt,
    SyncRecord,
    SyncStatus,
    WorkerHeartbeat,
)
from ledgerbridge.xero.models import LinkStatus, XeroConnection, XeroPaymentPoll, XeroWebhookEvent
from ledgerbridge.xero.ratelimit import rate_limiter

# How many organisations the allowance gauges name (those with the least left).
ALLOWANCE_TOP = 10
_WAITING = [SyncStatus.PENDING, SyncStatus.POSTING]


def _age(now: dt.datetime, since: dt.datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since else 0.0


class DatabaseCollector:
    """Reads the state of the outbox, links, webhooks, polls and workers per scrape."""

    def __init__(self, *, now: dt.datetime | None = None, clock: float | None = None) -> None:
        self._now = now
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self._now or timezone.now()
        yield from self._outbox(now)
        yield from self._links(now)
        yield from self._webhooks(now)
        yield from self._polls(now)
        yield from self._workers(now)

    def _outbox(self, now: dt.datetime) -> Iterator[Metric]:
        records = GaugeMetricFamily(
            "ledgerbridge_outbox_records",
            "Documents in the outbox by status (all companies)",
            labels=["status"],
        )
        counts = dict(SyncRecord.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in SyncStatus.values:
            records.add_metric([status], counts.get(status, 0))
        yield records
        yield GaugeMetricFamily(
            "ledgerbridge_outbox_companies_with_pending",
            "Companies with documents pending or posting",
            value=SyncRecord.objects.filter(status__in=_WAITING)
            .values("company_id")
            .distinct()
            .count(),
        )
        linked = Q(company__xero_connection__status=LinkStatus.CONNECTED)
        oldest = SyncRecord.objects.filter(status__in=_WAITING).aggregate(
            linked=Min("created_at", filter=linked), unlinked=Min("created_at", filter=~linked)
        )
        age = GaugeMetricFamily(
            "ledgerbridge_outbox_oldest_pending_age_seconds",
            "Age of the oldest document pending or posting; linked: its company's Xero link "
            "is connected (0: none)",
            labels=["linked"],
        )
        age.add_metric(["true"], _age(now, oldest["linked"]))
        age.add_metric(["false"], _age(now, oldest["unlinked"]))
        yield age
        # Posted and failed as counters: a record settles once (a retry takes a
        # failed one back to pending, so failed can fall; Prometheus reads a fall
        # as a reset).
        for name, status in (("posted", SyncStatus.POSTED), ("failed", SyncStatus.FAILED)):
            yield CounterMetricFamily(
                f"ledgerbridge_outbox_{name}",
                f"Documents {name} (outbox records now {status})",
                value=counts.get(status, 0),
            )
        attempts = CounterMetricFamily(
            "ledgerbridge_outbox_attempts",
            "Outbox attempts logged, by action (post, lookup, attach, allocate) and outcome",
            labels=["action", "outcome"],
        )
        for action, outcome, n in (
            SyncAttempt.objects.values_list("action", "outcome")
            .annotate(n=Count("id"))
            .order_by("action", "outcome")
        ):
            attempts.add_metric([action, outcome], n)
        yield attempts
        yield GaugeMetricFamily(
            "ledgerbridge_companies_paused",
            "Companies whose posting is paused by Xero's daily limit",
            value=AccountingSettings.objects.filter(paused_until__gt=now).count(),
        )

    def _links(self, now: dt.datetime) -> Iterator[Metric]:
        links = GaugeMetricFamily(
            "ledgerbridge_xero_links", "Xero links by status", labels=["status"]
        )
        counts = dict(
            XeroConnection.objects.values_list("status").annotate(n=Count("id")).order_by()
        )
        for status in LinkStatus.values:
            links.add_metric([status], counts.get(status, 0))
        yield links
        tenants = dict(
            XeroConnection.objects.filter(status=LinkStatus.CONNECTED)
            .exclude(tenant_id="")
            .values_list("tenant_id", "company_id")
        )
        usage = rate_limiter().usage(list(tenants), now=self._clock)
        for window, per_tenant in (("minute", usage.minute), ("day", usage.day)):
            left = GaugeMetricFamily(
                f"ledgerbridge_xero_allowance_{window}_remaining",
                f"Calls left in Xero's rolling {window} for the {ALLOWANCE_TOP} organisations "
                "with the least left",
                labels=["company_id", "tenant_id"],
            )
            ranked = sorted(per_tenant.items(), key=lambda item: item[1].limit - item[1].used)
            for tenant, used in ranked[:ALLOWANCE_TOP]:
                left.add_metric([str(tenants[tenant]), tenant], used.limit - used.used)
            yield left
            lowest = ranked[0][1] if ranked else None
            yield GaugeMetricFamily(
                f"ledgerbridge_xero_allowance_{window}_remaining_min",
                f"Least calls left in Xero's rolling {window} over all organisations",
                value=(lowest.limit - lowest.used) if lowest else 0,
            )
        yield GaugeMetricFamily(
            "ledgerbridge_xero_app_allowance_minute_remaining",
            "Calls left in the app's rolling minute across all organisations",
            value=usage.app_minute.limit - usage.app_minute.used,
        )

    def _webhooks(self, now: dt.datetime) -> Iterator[Metric]:
        counts = XeroWebhookEvent.objects.aggregate(
            received=Count("id"),
            processed=Count("id", filter=Q(processed_at__isnull=False)),
            oldest=Min("received_at", filter=Q(processed_at__isnull=True)),
        )
        # Counted from the stored events: pruning old ones makes these fall
        # (a counter reset to Prometheus).
        yield CounterMetricFamily(
            "ledgerbridge_webhook_events_received",
            "Xero webhook events received (stored)",
            value=counts["received"],
        )
        yield CounterMetricFamily(
            "ledgerbridge_webhook_events_processed",
            "Xero webhook events processed (stored)",
            value=counts["processed"],
        )
        yield GaugeMetricFamily(
            "ledgerbridge_webhook_processing_lag_seconds",
            "Age of the oldest webhook event not processed yet (0: none)",
            value=_age(now, counts["oldest"]),
        )

    def _polls(self, now: dt.datetime) -> Iterator[Metric]:
        polls = XeroPaymentPoll.objects.filter(
            company__xero_connection__status=LinkStatus.CONNECTED
        ).aggregate(oldest=Min("last_polled_at"), failing=Count("id", filter=~Q(last_error="")))
        yield GaugeMetricFamily(
            "ledgerbridge_payment_poll_lag_seconds",
            "Time since the least recent payment poll of a linked company (0: none)",
            value=_age(now, polls["oldest"]),
        )
        yield GaugeMetricFamily(
            "ledgerbridge_payment_polls_failing",
            "Linked companies whose last payment poll failed",
            value=polls["failing"],
        )

    def _workers(self, now: dt.datetime) -> Iterator[Metric]:
        beats = WorkerHeartbeat.objects.aggregate(
            alive=Count("name", filter=Q(beat_at__gte=now - HEARTBEAT_STALE)),
        )
        newest = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True)
        yield GaugeMetricFamily(
            "ledgerbridge_workers_alive",
            f"Worker processes with a heartbeat in the last {HEARTBEAT_STALE.seconds} s",
            value=beats["alive"],
        )
        latest = newest.first()
        yield GaugeMetricFamily(
            "ledgerbridge_worker_heartbeat_age_seconds",
            "Time since the most recent heartbeat of any worker (-1: none ever)",
            value=_age(now, latest) if latest else -1,
        )


def metrics_exposition(**collector_args: Any) -> bytes:
    """The text a scrape gets: every process's counters and the database's state."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(settings.METRICS_DIR))
    registry.register(DatabaseCollector(**collector_args))  # type: ignore[arg-type]
    return generate_latest(registry)
