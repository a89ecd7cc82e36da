"""Payment status back from Xero: webhook intake, event processing and polling.

Webhook requests only verify and store (Xero wants an answer within 5 s); a
worker then groups the stored events per organisation, reads the changed
invoices and credit notes in batches of 100 ids, and hands each of ours to
``accounting.payments`` in neutral terms. Polling with ``If-Modified-Since``
is the safety net for missed webhooks and for setups without a public URL.
Everything Xero-shaped about payments lives here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.accounting.payments import (
    RemoteAllocation,
    RemoteDocumentState,
    RemotePayment,
    payment_state_apply,
    payment_states_checked,
)
from ledgerbridge.companies.models import Company
from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.errors import ApplicationError

from .client import XeroClient
from .errors import XeroError
from .models import (
    LinkStatus,
    XeroConnection,
    XeroPaymentPoll,
    XeroWebhookDelivery,
    XeroWebhookEvent,
)
from .ratelimit import rate_limiter

log = logging.getLogger(__name__)

# Xero's IDs= filter and pages both hold 100 documents: one call per 100 changed.
BATCH = 100
# Credit notes have no IDs= filter in the SDK; a where clause of Guid()s stays
# well within URL limits at 50.
CREDIT_NOTE_BATCH = 50
INVOICE = "INVOICE"
STRANGER_GRACE = dt.timedelta(minutes=10)
FIRST_POLL_MARGIN = dt.timedelta(days=1)
CREDITNOTE = "CREDITNOTE"


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
    if not rows:
        return 0
    digest = hashlib.sha256(body).hexdigest()
    with transaction.atomic():
        _, first = XeroWebhookDelivery.objects.get_or_create(
            body_sha256=digest, defaults={"received_at": now, "event_count": len(rows)}
        )
        if not first:
            XeroWebhookDelivery.objects.filter(body_sha256=digest).update(repeats=F("repeats") + 1)
            log.info("xero webhook delivery seen before: %s", digest[:12])
            return 0
        XeroWebhookDelivery.objects.filter(received_at__lt=oldest).delete()
        XeroWebhookEvent.objects.bulk_create(rows, batch_size=500)
        if any(row.processed_at is None for row in rows):
            transaction.on_commit(_enqueue_processing)
    return len(rows)


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


# -- reading Xero ----------------------------------------------------------------------
def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def _aware(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


def _status_name(value: Any) -> str:
    return str(getattr(value, "value", value) or "").upper()


def _payment_status(xero_status: str, settled: Decimal, amount_due: Decimal) -> str:
    if xero_status == "VOIDED":
        return "voided"
    if xero_status == "DELETED":
        return "deleted"
    if xero_status == "PAID" or (settled > 0 and amount_due <= 0):
        return "paid"
    return "partly_paid" if settled > 0 else "unpaid"


def invoice_state(invoice: Any) -> RemoteDocumentState:
    """An SDK Invoice in neutral terms (payments, credit notes, over- and prepayments)."""
    paid = _money(invoice.amount_paid)
    credited = _money(invoice.amount_credited)
    due = _money(invoice.amount_due)
    payments = [
        RemotePayment(
            external_id=str(p.payment_id),
            date=_date(p.date),
            amount=_money(p.amount),
            reference=p.reference or "",
        )
        for p in (invoice.payments or [])
        if p.payment_id
    ]
    allocations = [
        RemoteAllocation(
            kind="credit_note",
            external_id=str(c.credit_note_id),
            number=c.credit_note_number or "",
            date=_date(c.date),
            amount=_money(c.applied_amount),
        )
        for c in (invoice.credit_notes or [])
        if c.credit_note_id
    ]
    for kind, items, id_field in (
        ("overpayment", invoice.overpayments, "overpayment_id"),
        ("prepayment", invoice.prepayments, "prepayment_id"),
    ):
        allocations += [
            RemoteAllocation(
                kind=kind,
                external_id=str(getattr(item, id_field)),
                number="",
                date=_date(item.date),
                amount=_money(item.applied_amount),
            )
            for item in (items or [])
            if getattr(item, id_field)
        ]
    return RemoteDocumentState(
        external_id=str(invoice.invoice_id),
        status=_payment_status(_status_name(invoice.status), paid + credited, due),
        total=_money(invoice.total),
        amount_paid=paid,
        amount_credited=credited,
        amount_due=due,
        fully_paid_on=_date(invoice.fully_paid_on_date),
        updated_at=_aware(invoice.updated_date_utc),
        payments=payments,
        allocations=allocations,
    )


def credit_note_state(credit_note: Any) -> RemoteDocumentState:
    """An SDK CreditNote: "paid" once its credit is used up (allocated or refunded)."""
    total = _money(credit_note.total)
    remaining = _money(credit_note.remaining_credit)
    refunds = [
        RemotePayment(
            external_id=str(p.payment_id),
            date=_date(p.date),
            amount=_money(p.amount),
            reference=p.reference or "",
        )
        for p in (credit_note.payments or [])
        if p.payment_id
    ]
    refunded = sum((p.amount for p in refunds), Decimal("0"))
    allocations = [
        RemoteAllocation(
            kind="invoice",
            external_id=str(a.invoice.invoice_id) if a.invoice else "",
            number=(a.invoice.invoice_number or "") if a.invoice else "",
            date=_date(a.date),
            amount=_money(a.amount),
        )
        for a in (credit_note.allocations or [])
        if a.invoice is not None and not a.is_deleted
    ]
    allocated = sum((a.amount for a in allocations), Decimal("0"))
    status = _status_name(credit_note.status)
    return RemoteDocumentState(
        external_id=str(credit_note.credit_note_id),
        status=_payment_status(status, allocated + refunded, remaining),
        total=total,
        amount_paid=refunded,
        amount_credited=allocated,
        amount_due=remaining if status not in ("VOIDED", "DELETED") else Decimal("0"),
        fully_paid_on=_date(credit_note.fully_paid_on_date),
        updated_at=_aware(credit_note.updated_date_utc),
        payments=refunds,
        allocations=allocations,
    )


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class RefreshReport:
    calls: int = 0
    changed: int = 0
    checked: int = 0
    events: int = 0
    deferred: int = 0


def _apply(
    company: Company,
    states: list[RemoteDocumentState],
    *,
    source: str,
    now: dt.datetime,
    report: RefreshReport,
) -> None:
    by_id = {s.external_id.lower(): s for s in states}
    records = SyncRecord.objects.filter(
        company=company, status=SyncStatus.POSTED, external_id__in=list(by_id)
    ).select_related("document")
    found = {r.external_id.lower(): r for r in records}
    for external_id, state in by_id.items():
        record = found.get(external_id)
        if record is None:
            # Changed in Xero but never posted by us: not ours to track.
            log.info("xero document not ours, ignored", extra={"external_id": external_id})
            continue
        report.checked += 1
        if payment_state_apply(record=record, remote=state, source=source, now=now):
            report.changed += 1


def xero_documents_refresh(
    *,
    company: Company,
    invoice_ids: list[str],
    credit_note_ids: list[str],
    source: str,
    now: dt.datetime,
) -> RefreshReport:
    """Read these documents from Xero in batches and store their payment state."""
    report = RefreshReport()
    if not invoice_ids and not credit_note_ids:
        return report
    client = XeroClient(company)
    for chunk in _chunks(sorted(set(invoice_ids)), BATCH):
        result = client.call(client.api.get_invoices, i_ds=chunk, page=1)
        report.calls += 1
        _apply(
            company,
            [invoice_state(i) for i in (result.invoices or [])],
            source=source,
            now=now,
            report=report,
        )
    for chunk in _chunks(sorted(set(credit_note_ids)), CREDIT_NOTE_BATCH):
        where = " OR ".join(f'CreditNoteID==Guid("{i}")' for i in chunk)
        result = client.call(client.api.get_credit_notes, where=where, page=1)
        report.calls += 1
        _apply(
            company,
            [credit_note_state(c) for c in (result.credit_notes or [])],
            source=source,
            now=now,
            report=report,
        )
    return report


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
            log.warning("xero webhook processing failed: %s", error)
            continue
        total.calls += report.calls
        total.changed += report.changed
        total.checked += report.checked
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


# -- polling ---------------------------------------------------------------------------
def xero_payments_poll(
    *, company: Company, now: dt.datetime, interactive: bool = False
) -> RefreshReport:
    """Everything changed in Xero since the watermark, page by page (100 a call).

    ``interactive``: a person asked for it (Check payments now) and is waiting.

    The watermark is Xero's own UpdatedDateUTC of the newest document seen, so
    the two clocks never need to agree; re-reading the boundary document is
    harmless.
    """
    report = RefreshReport()
    poll, _ = XeroPaymentPoll.objects.get_or_create(company=company)
    first_posted = SyncRecord.objects.filter(
        company=company, status=SyncStatus.POSTED, posted_at__isnull=False
    ).aggregate(first=Min("posted_at"))["first"]
    if first_posted is None:
        # Nothing of ours in Xero yet: nothing to ask about.
        poll.last_polled_at = now
        poll.save(update_fields=["last_polled_at"])
        return report
    # The first poll starts a day before our first posting (a margin for the
    # two clocks), not at the beginning of the organisation's history.
    floor = first_posted - FIRST_POLL_MARGIN
    client = XeroClient(company, interactive=interactive)
    try:
        invoices_since = _poll_kind(
            client, company, poll.invoices_since or floor, "invoices", now=now, report=report
        )
        credits_since = _poll_kind(
            client,
            company,
            poll.credit_notes_since or floor,
            "credit_notes",
            now=now,
            report=report,
        )
    except XeroError as error:
        poll.last_error = error.message
        poll.save(update_fields=["last_error"])
        raise
    poll.invoices_since = invoices_since
    poll.credit_notes_since = credits_since
    poll.last_polled_at = now
    poll.last_error = ""
    poll.save()
    # Documents Xero did not report have not changed there: they are as checked as the rest.
    payment_states_checked(
        records=list(SyncRecord.objects.filter(company=company, status=SyncStatus.POSTED)),
        now=now,
    )
    return report


def _poll_kind(
    client: XeroClient,
    company: Company,
    since: dt.datetime | None,
    kind: str,
    *,
    now: dt.datetime,
    report: RefreshReport,
) -> dt.datetime | None:
    newest = since
    page = 1
    while True:
        kwargs: dict[str, Any] = {"page": page}
        if since is not None:
            kwargs["if_modified_since"] = since
        if kind == "invoices":
            result = client.call(client.api.get_invoices, **kwargs)
            items = result.invoices or []
            states = [invoice_state(i) for i in items]
        else:
            result = client.call(client.api.get_credit_notes, **kwargs)
            items = result.credit_notes or []
            states = [credit_note_state(c) for c in items]
        report.calls += 1
        _apply(company, states, source="poll", now=now, report=report)
        for state in states:
            if state.updated_at and (newest is None or state.updated_at > newest):
                newest = state.updated_at
        if len(items) < BATCH:
            return newest
        page += 1


def companies_due_for_poll(*, now: dt.datetime) -> list[int]:
    """Connected companies whose last poll is older than the polling interval."""
    interval = dt.timedelta(seconds=settings.XERO_PAYMENT_POLL_SECONDS)
    due = []
    polled = dict(XeroPaymentPoll.objects.values_list("company_id", "last_polled_at"))
    for company_id in XeroConnection.objects.filter(status=LinkStatus.CONNECTED).values_list(
        "company_id", flat=True
    ):
        last = polled.get(company_id)
        if last is None or now - last >= interval:
            due.append(company_id)
    return due


def xero_payments_check_now(*, actor: Actor, now: dt.datetime | None = None) -> None:
    """A Finance user's "Check payments now": poll the company's Xero at once,
    ahead of the backlog (the user is waiting for it)."""
    require(actor, Permission.WORK_DOCUMENTS)
    now = now or timezone.now()
    link = XeroConnection.objects.filter(company=actor.company).first()
    if link is None or link.status != LinkStatus.CONNECTED:
        raise ApplicationError("Xero is not connected for this company.")
    company_id = actor.company.pk
    # The backlog starts leaving room now, so the calls are free when the job runs.
    rate_limiter().someone_waiting(link.tenant_id, now=now.timestamp())

    def enqueue() -> None:
        from .tasks import poll_xero_payments

        poll_xero_payments(company_id, interactive=True)

    transaction.on_commit(enqueue)
