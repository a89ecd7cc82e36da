"""Payment status read from Xero: polling, refreshing named documents, companies due.

Polling with ``If-Modified-Since`` is the safety net for missed webhooks and
for setups without a public URL; ``xero_documents_refresh`` reads given
documents in batches of ids (for webhooks and polls alike) and hands each of
ours to ``accounting.payments`` in neutral terms (mapped by ``payloads``), and
its content to ``accounting.changes``, which compares it with what we sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from ledgerbridge.accounting.changes import remote_change_detect
from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.accounting.payments import (
    RemoteDocumentState,
    payment_state_apply,
    payment_states_checked,
)
from ledgerbridge.companies.models import Company
from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.errors import ApplicationError
from ledgerbridge.iterables import chunks

from .client import IDS_PER_CALL, XeroClient, url_groups
from .errors import XeroError
from .models import LinkStatus, XeroConnection, XeroPaymentPoll
from .payloads import credit_note_state, invoice_state
from .ratelimit import rate_limiter

log = structlog.get_logger(__name__)

# A page of Xero's lists holds 100 documents.
PAGE_SIZE = 100
FIRST_POLL_MARGIN = dt.timedelta(days=1)


@dataclass
class RefreshReport:
    calls: int = 0
    changed: int = 0
    checked: int = 0
    events: int = 0
    deferred: int = 0
    # Documents whose content in Xero newly differs from what we sent (or agrees again).
    edits: int = 0


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
            log.info("xero.document_not_ours", external_id=external_id)
            continue
        report.checked += 1
        if payment_state_apply(record=record, remote=state, source=source, now=now):
            report.changed += 1
        # Someone may have edited it in Xero: compared with what we sent, never applied.
        if state.fingerprint is not None and remote_change_detect(
            record=record,
            remote=state.fingerprint,
            status=state.status,
            remote_updated_at=state.updated_at,
            source=source,
            now=now,
        ):
            report.edits += 1


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
    for chunk in chunks(sorted(set(invoice_ids)), IDS_PER_CALL):
        result = client.call(client.api.get_invoices, i_ds=chunk, page=1)
        report.calls += 1
        _apply(
            company,
            [invoice_state(i) for i in (result.invoices or [])],
            source=source,
            now=now,
            report=report,
        )
    for _, where in url_groups(
        sorted(set(credit_note_ids)), lambda i: f'CreditNoteID==Guid("{i}")'
    ):
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
    try:
        # Inside: renewing the access token may fail too (login service down).
        client = XeroClient(company, interactive=interactive)
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
        if len(items) < PAGE_SIZE:
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
