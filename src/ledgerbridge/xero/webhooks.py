"""Xero's webhooks: signature, intake, event processing, pruning.

Webhook requests only verify and store (Xero wants an answer within 5 s); a
worker then groups the stored events per organisation and has
``polling.xero_documents_refresh`` read the changed invoices and credit notes
that are ours. Events name resources only, so ten events for one invoice cost
one id in one batch.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections import defaultdict
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.errors import ApplicationError

from .errors import XeroError
from .models import (
    LinkStatus,
    XeroConnection,
    XeroWebhookDelivery,
    XeroWebhookEvent,
    XeroWebhookHandshake,
)
from .polling import RefreshReport, xero_documents_refresh

log = structlog.get_logger(__name__)

INVOICE = "INVOICE"
CREDITNOTE = "CREDITNOTE"
# Events for documents we are still posting wait this long for our record.
STRANGER_GRACE = dt.timedelta(minutes=10)


# -- webhook intake --------------------------------------------------------------------
def xero_webhook_signature_valid(*, body: bytes, signature: str) -> bool:
    """Xero signs the raw body: base64(HMAC-SHA256(webhook key, body))."""
    key = settings.XERO_WEBHOOK_KEY
    if not key or not signature:
        return False
    expected = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), signature.encode())


class InvalidWebhookBody(ApplicationError):
    pass


def _event_date(raw: Any) -> dt.datetime | None:
    if not isinstance(raw, str):
        return None
    parsed = parse_datetime(raw)
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed


REPLAYED = "older than the replay window"


def xero_webhook_receive(*, body: bytes, now: dt.datetime) -> int:
    """Store a verified delivery's events and nudge the worker; returns how many.

    Only inserts: the processing (Xero calls) happens in the worker, so the
    answer goes back well within Xero's 5 seconds even for large batches.
    Replay defence: a body seen before (Xero's retry, or someone replaying a
    captured delivery) stores nothing again; events older than
    ``XERO_WEBHOOK_MAX_AGE`` are stored already processed, as ignored.
    """
    try:
        payload = json.loads(body or b"{}")
        events = payload.get("events") or []
    except (ValueError, AttributeError) as error:
        raise InvalidWebhookBody("The webhook body is not Xero's JSON.") from error
    if not isinstance(events, list):
        raise InvalidWebhookBody("The webhook body's events are not a list.")
    oldest = now - settings.XERO_WEBHOOK_MAX_AGE
    rows = []
    for event in events:
        if not isinstance(event, dict):
            continue
        event_date = _event_date(event.get("eventDateUtc"))
        stale = event_date is not None and event_date < oldest
        rows.append(
            XeroWebhookEvent(
                tenant_id=str(event.get("tenantId") or "")[:64],
                resource_id=str(event.get("resourceId") or "")[:64],
                category=str(event.get("eventCategory") or "")[:20],
                event_type=str(event.get("eventType") or "")[:20],
                event_date=event_date,
                received_at=now,
                processed_at=now if stale else None,
                outcome=REPLAYED if stale else "",
            )
        )
    if not events:
        # Xero's intent-to-receive sends signed empty batches: remember it passed.
        xero_webhook_handshake_record(now=now)
    if not rows:
        return 0
    digest = hashlib.sha256(body).hexdigest()
    with transaction.atomic():
        _, first = XeroWebhookDelivery.objects.get_or_create(
            body_sha256=digest, defaults={"received_at": now, "event_count": len(rows)}
        )
        if not first:
            XeroWebhookDelivery.objects.filter(body_sha256=digest).update(repeats=F("repeats") + 1)
            log.info("xero.webhook_delivery_repeated", body_sha256=digest[:12])
            return 0
        XeroWebhookDelivery.objects.filter(received_at__lt=oldest).delete()
        XeroWebhookEvent.objects.bulk_create(rows, batch_size=500)
        if any(row.processed_at is None for row in rows):
            transaction.on_commit(_enqueue_processing)
    return len(rows)


def webhook_key_sha256() -> str:
    return hashlib.sha256(settings.XERO_WEBHOOK_KEY.encode()).hexdigest()


def xero_webhook_handshake_record(*, now: dt.datetime) -> None:
    XeroWebhookHandshake.objects.update_or_create(
        pk=1, defaults={"received_at": now, "key_sha256": webhook_key_sha256()}
    )


def xero_webhook_handshake_last() -> XeroWebhookHandshake | None:
    return XeroWebhookHandshake.objects.filter(pk=1).first()


# Processed events are hints already acted on; a month of them is kept to look
# back on, then they go, or the table would grow with every payment for ever.
PROCESSED_EVENTS_KEPT = dt.timedelta(days=30)


def xero_webhook_events_prune(*, now: dt.datetime) -> int:
    """Forget processed events older than ``PROCESSED_EVENTS_KEPT``; unprocessed ones stay."""
    deleted, _ = XeroWebhookEvent.objects.filter(
        processed_at__isnull=False, processed_at__lt=now - PROCESSED_EVENTS_KEPT
    ).delete()
    return deleted


def _enqueue_processing() -> None:
    from .tasks import process_xero_webhooks

    process_xero_webhooks()


# -- processing stored events ---------------------------------------------------------
def xero_webhook_events_process(*, now: dt.datetime, limit: int = 5000) -> RefreshReport:
    """Look again at every document named by unprocessed events, per organisation.

    Events name resources only; the current state is read from Xero, so ten
    events for one invoice cost one id in one batch. Resources we never posted
    and unknown organisations are recorded as such and cost no call.
    """
    total = RefreshReport()
    pending = list(
        XeroWebhookEvent.objects.filter(processed_at__isnull=True).order_by("id")[:limit]
    )
    by_tenant: dict[str, list[XeroWebhookEvent]] = defaultdict(list)
    for event in pending:
        by_tenant[event.tenant_id.lower()].append(event)
    links = {
        link.tenant_id.lower(): link
        for link in XeroConnection.objects.filter(
            tenant_id__in=[e.tenant_id for e in pending], status=LinkStatus.CONNECTED
        ).select_related("company")
    }
    for tenant_id, events in by_tenant.items():
        link = links.get(tenant_id)
        ids = [e.pk for e in events]
        if link is None:
            XeroWebhookEvent.objects.filter(pk__in=ids).update(
                processed_at=now, outcome="unknown organisation"
            )
            total.events += len(ids)
            continue
        company = link.company
        ours = {
            external_id.lower()
            for external_id in SyncRecord.objects.filter(
                company=company,
                status=SyncStatus.POSTED,
                external_id__in={e.resource_id for e in events}
                | {e.resource_id.lower() for e in events},
            ).values_list("external_id", flat=True)
        }
        invoice_ids = sorted(
            {
                e.resource_id
                for e in events
                if e.category == INVOICE and e.resource_id.lower() in ours
            }
        )
        credit_ids = sorted(
            {
                e.resource_id
                for e in events
                if e.category == CREDITNOTE and e.resource_id.lower() in ours
            }
        )
        try:
            report = xero_documents_refresh(
                company=company,
                invoice_ids=invoice_ids,
                credit_note_ids=credit_ids,
                source="webhook",
                now=now,
            )
        except XeroError as error:
            # Left unprocessed: the next nudge or the poll picks them up.
            log.warning(
                "xero.webhook_processing_failed",
                company_id=company.pk,
                error=type(error).__name__,
                reason=error.message,
            )
            continue
        total.calls += report.calls
        total.changed += report.changed
        total.checked += report.checked
        total.edits += report.edits
        total.events += len(ids)
        mine = [e.pk for e in events if e.resource_id.lower() in ours]
        XeroWebhookEvent.objects.filter(pk__in=mine).update(
            processed_at=now, outcome="checked", company=company
        )
        strangers = [e for e in events if e.resource_id.lower() not in ours]
        # Xero tells us about a document we are posting before our worker has
        # committed its ID: those events wait (a while) for the record instead
        # of being dropped.
        in_flight = SyncRecord.objects.filter(
            company=company, status__in=[SyncStatus.PENDING, SyncStatus.POSTING]
        ).exists()
        waiting = [e.pk for e in strangers if in_flight and now - e.received_at < STRANGER_GRACE]
        total.deferred += len(waiting)
        total.events -= len(waiting)
        XeroWebhookEvent.objects.filter(pk__in=[e.pk for e in strangers]).exclude(
            pk__in=waiting
        ).update(processed_at=now, outcome="not a document we posted", company=company)
    return total
