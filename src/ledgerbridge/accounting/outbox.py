"""The outbox: every document's journey to the accounting package, step by step.

The database is the truth. Completing the "Post to Xero" task writes a
``pending`` record in the same transaction and nudges the queue after commit.
A worker claims due records of one company, settles any whose last request had
an unknown outcome by looking them up in the package, posts the rest in
batches with an idempotency key stored *before* sending, then attaches PDFs and
allocates credit notes. A worker may die anywhere: the next run finds the
record ``posting`` with its key and settles it the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import structlog
from django.db import transaction
from django.db.models import Case, F, PositiveIntegerField, Q, When
from django.utils import timezone

from ledgerbridge.companies.models import Company
from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import ApplicationError, NotFoundError
from ledgerbridge.invoicing.figures import (
    documents_with_figure_problems,
    figures_need_correction_message,
)
from ledgerbridge.invoicing.models import CREDIT_NOTE_TYPES, Document
from ledgerbridge.invoicing.money import format_money
from ledgerbridge.invoicing.pdf import document_pdf_ensure
from ledgerbridge.invoicing.services import duplicate_override_reason_clean

from .connector import (
    AccountingConnector,
    ExternalDocument,
    NotLinked,
    PausedUntil,
    Problem,
    Rejected,
    TryLater,
    company_package_name,
    connector_for,
    package_call_id,
    package_calls,
)
from .golive import golive_wait_for_confirming, held_records_note, posting_held
from .leases import Lease, LeaseLost, lease_take, leases_held
from .models import (
    AccountingPackage,
    AccountingSettings,
    ExportBatchDocument,
    StepStatus,
    SyncAttempt,
    SyncRecord,
    SyncStatus,
    WaitReason,
)
from .workflow import post_tasks_follow

log = structlog.get_logger(__name__)

# Work per run is bounded so that one company's backlog does not hold a worker:
# the run re-queues itself behind the other companies' jobs. One Xero batch (50)
# per turn keeps companies finishing close together: with 200 documents each,
# the first company is done after 3 of its 4 turns, at about 3/4 of the run.
CLAIM_LIMIT = 50
STEP_LIMIT = 100
# Only the holder of this lease works on a company's outbox (see leases.py).
LEASE_PREFIX = "sync-company-"
MAX_TRANSIENT_ATTEMPTS = 8
NOT_LINKED_RECHECK = dt.timedelta(minutes=15)
# A person who retried a document waits about this long for it; until then it
# goes first and its calls go ahead of the backlog's, after it with the rest.
PERSON_WAITS = dt.timedelta(minutes=2)


def _backoff(attempts: int) -> dt.timedelta:
    base = min(30 * 2 ** max(attempts - 1, 0), 3600)
    return dt.timedelta(seconds=base * (0.75 + random.random() / 2))  # noqa: S311 - jitter


# ------------------------------------------------------------------ requesting


def sync_record_request(*, document: Document, now: dt.datetime) -> SyncRecord:
    """Ask for a document to be posted (or posted again after a failure).

    Runs inside the caller's transaction (the task completion); the wake-up is
    sent after commit. A document in an import file is not posted: importing the
    file puts it in the package already.
    """
    _refuse_if_in_a_file(document)
    golive_wait_for_confirming(document.company_id)
    record, created = SyncRecord.objects.select_for_update().get_or_create(
        document=document,
        defaults={
            "company": document.company,
            "allocation_status": (
                StepStatus.WAITING if document.original_id else StepStatus.NOT_NEEDED
            ),
        },
    )
    if not created:
        if record.status == SyncStatus.POSTED:
            # Posted already: only unfinished follow-up steps are retried.
            if record.attachment_status == StepStatus.FAILED:
                record.attachment_status = StepStatus.PENDING
            if record.allocation_status == StepStatus.FAILED:
                record.allocation_status = StepStatus.WAITING
        elif record.status in (SyncStatus.FAILED, SyncStatus.NEEDS_ATTENTION):
            record.status = SyncStatus.PENDING
        record.next_attempt_at = None
        record.waiting_for = WaitReason.NONE
        record.message = ""
        record.problems = []
        record.save()
    company_id = document.company_id
    transaction.on_commit(lambda: wake(company_id))
    return record


class DocumentInImportFile(ApplicationError):
    """Posting would put a document in the package a second time, beside its import file."""


def _refuse_if_in_a_file(document: Document) -> None:
    entry = (
        ExportBatchDocument.objects.filter(document=document)
        .select_related("batch")
        .order_by("-batch__number")
        .first()
    )
    if entry is None:
        return
    if SyncRecord.objects.filter(document=document, status=SyncStatus.POSTED).exists():
        return  # posted already: only its follow-up steps are asked for
    package = company_package_name(document.company_id)
    raise DocumentInImportFile(
        f"{document} is in the {package} import file of export {entry.batch.number}; posting "
        f"it through the API as well would put it in {package} twice. Import the file instead."
    )


def wake(company_id: int) -> None:
    from .tasks import sync_company

    sync_company(company_id)


def sync_record_retry(
    *,
    actor: Actor,
    document_id: int,
    now: dt.datetime | None = None,
    duplicate_override_reason: str = "",
) -> SyncRecord:
    """A user retries a failed or stuck document; it goes ahead of the backlog.

    One refused because the package already holds the same supplier document is
    sent anyway only with a reason, kept in the audit log; without one it is
    checked again (the other may have been voided meanwhile).
    """
    require(actor, Permission.WORK_DOCUMENTS)
    now = now or timezone.now()
    with transaction.atomic():
        record = (
            SyncRecord.objects.select_for_update()
            .select_related("document")
            .filter(company=actor.company, document_id=document_id)
            .first()
        )
        if record is None:
            raise NotFoundError("This document has not been sent yet.")
        if record.status in (SyncStatus.PENDING, SyncStatus.POSTING):
            raise ApplicationError("This document is already on its way.")
        if duplicate_override_reason.strip() and record.duplicate_url:
            reason = duplicate_override_reason_clean(duplicate_override_reason)
            record.allow_duplicate = True
            record.save(update_fields=["allow_duplicate", "updated_at"])
            audit_record(
                actor=actor,
                company=actor.company,
                action="duplicate posted anyway",
                target=str(record.document),
                changes={
                    "reason": reason,
                    "document_id": document_id,
                    "supplier_reference": record.document.supplier_reference,
                    "duplicate_in_package": record.duplicate_url,
                },
            )
        record = sync_record_request(document=record.document, now=now)
        if record.status == SyncStatus.PENDING:  # not a posted one's follow-up steps
            record.wanted_at = now
            record.save(update_fields=["wanted_at", "updated_at"])
        post_tasks_follow([record])
        return record


# ------------------------------------------------------------------ the worker


@dataclass
class RunReport:
    settled: int = 0
    posted: int = 0
    failed: int = 0
    attached: int = 0
    allocated: int = 0
    waiting: str = ""
    retry_in: float | None = None  # seconds until it is worth running again
    more: bool = False  # work left over for another run

    def later(self, seconds: float | None) -> None:
        if seconds is not None and (self.retry_in is None or seconds < self.retry_in):
            self.retry_in = seconds


def sync_company_run(*, company_id: int, now: dt.datetime | None = None) -> RunReport:
    """Do everything that is due for one company. Safe to run twice at once:
    the second run finds the company's lease taken and does nothing."""
    now = now or timezone.now()
    report = RunReport()
    settings = AccountingSettings.objects.filter(company_id=company_id).first()
    if settings is None or settings.package != AccountingPackage.XERO_API:
        return report
    if settings.paused_until and settings.paused_until > now:
        report.waiting = f"paused until {settings.paused_until:%H:%M}"
        return report
    connector = connector_for(settings.package)
    if connector is None:
        return report
    lease = lease_take(f"{LEASE_PREFIX}{company_id}", now=now)
    if lease is None:
        report.waiting = "another worker is on it"
        return report
    with structlog.contextvars.bound_contextvars(company_id=company_id):
        try:
            _run(connector, settings, lease, now, report)
        finally:
            lease.release()
        # Documents that arrived while this run held the lease: their nudge
        # found it taken, so this run asks for another.
        if not report.more and report.retry_in is None and _due(company_id, timezone.now()):
            report.more = True
    return report


def _run(
    connector: AccountingConnector,
    settings: AccountingSettings,
    lease: Lease,
    now: dt.datetime,
    report: RunReport,
) -> None:
    company = settings.company
    try:
        claimed = _claim(company, lease, now)
        wanted = [r for r in claimed if r.wanted_at and r.wanted_at > now - PERSON_WAITS]
        rest = [r for r in claimed if r not in wanted]
        # What a person is waiting for first, in requests of its own.
        for records, interactive in ((wanted, True), (rest, False)):
            _settle(
                connector,
                company,
                [r for r in records if r.request_key],
                now,
                report,
                lease,
                interactive=interactive,
            )
            _post(
                connector,
                company,
                [r for r in records if r.status == SyncStatus.POSTING and not r.request_key],
                now,
                report,
                lease,
                interactive=interactive,
            )
        _attach(connector, company, now, report, lease)
        _allocate(connector, company, now, report, lease)
        report.more = len(claimed) >= CLAIM_LIMIT or report.attached >= STEP_LIMIT
    except LeaseLost as error:
        # Too slow to renew: whoever holds the lease now settles what this run
        # left in ``posting``, by lookup, so nothing goes twice.
        log.warning("outbox.lease_lost", message=str(error))
    except NotLinked as error:
        # Linking the company wakes it at once (sync_records_resume); until then
        # the sweep need not try again every minute.
        _release(company, error.message, now=now, delay=NOT_LINKED_RECHECK)
        report.waiting = error.message
    except PausedUntil as error:
        AccountingSettings.objects.filter(pk=settings.pk).update(paused_until=error.until)
        _release(company, error.message, now=now, delay=error.until - now)
        report.waiting = error.message


def _pending_due(now: dt.datetime) -> Q:
    """Records waiting to be sent whose next attempt (if any) has come; those held for
    going live wait for a Super Admin instead (``golive.py`` releases them)."""
    return (
        Q(status=SyncStatus.PENDING)
        & ~Q(waiting_for=WaitReason.GO_LIVE)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    )


def _due(company_id: int, now: dt.datetime) -> bool:
    return SyncRecord.objects.filter(_pending_due(now), company_id=company_id).exists()


def _claim(company: Company, lease: Lease, now: dt.datetime) -> list[SyncRecord]:
    due = _pending_due(now)
    # Whatever is still ``posting`` from before this lease was taken belongs to
    # a run that is over (ended, died or lost its lease): settle it now.
    stale = Q(status=SyncStatus.POSTING, claimed_at__lt=lease.started)
    # Going live: nothing is posted before a Super Admin confirms what the package
    # already holds, nor for a partner whose contact they have still to choose.
    held = posting_held(company.pk)
    if held is not None:
        held_records_note(company.pk, held, now=now)
    with transaction.atomic():
        claimable = SyncRecord.objects.select_for_update(skip_locked=True).filter(company=company)
        if held is not None:
            claimable = claimable.exclude(held & due)
        records = list(
            claimable.filter(due | stale)
            .select_related("document", "document__partner")
            .order_by(F("wanted_at").desc(nulls_last=True), "created_at", "id")[:CLAIM_LIMIT]
        )
        SyncRecord.objects.filter(pk__in=[r.pk for r in records]).update(
            attempts=Case(
                When(status=SyncStatus.PENDING, then=F("attempts") + 1),
                default=F("attempts"),
                output_field=PositiveIntegerField(),
            ),
            status=SyncStatus.POSTING,
            claimed_at=now,
        )
        for record in records:
            if record.status == SyncStatus.PENDING:
                record.attempts += 1
            record.status = SyncStatus.POSTING
            record.claimed_at = now
    return records


def _log(
    record: SyncRecord,
    *,
    now: dt.datetime,
    action: str,
    outcome: str,
    message: str = "",
    key: str = "",
) -> None:
    _attempt(record, now=now, action=action, outcome=outcome, message=message, key=key).save()


def _attempt(
    record: SyncRecord,
    *,
    now: dt.datetime,
    action: str,
    outcome: str,
    message: str = "",
    key: str = "",
) -> SyncAttempt:
    """A line of the record's attempt history (not saved yet), also written to the log."""
    log.info(
        "outbox.attempt",
        document_id=record.document_id,
        action=action,
        outcome=outcome,
        message=message[:300],
        call_id=package_call_id(),
    )
    return SyncAttempt(
        record=record,
        at=now,
        action=action,
        outcome=outcome,
        message=message[:2000],
        idempotency_key=key,
        call_id=package_call_id(),
    )


def _settle(
    connector: AccountingConnector,
    company: Company,
    records: Sequence[SyncRecord],
    now: dt.datetime,
    report: RunReport,
    lease: Lease,
    *,
    interactive: bool = False,
) -> None:
    """Records whose last request may or may not have reached the package."""
    if not records:
        return
    lease.renew()
    with package_calls():
        try:
            found = connector.find(company, records, interactive=interactive)
        except TryLater as error:
            for record in records:
                _retry_later(record, error, now=now, keep_key=True)
            return
        for record in records:
            if record.pk in found:
                _mark_posted(record, found[record.pk], now=now, action="lookup")
                report.settled += 1
            else:
                _log(
                    record,
                    now=now,
                    action="lookup",
                    outcome="ok",
                    key=record.request_key,
                    message="Not in the package: the earlier request did not go through; sending again.",
                )
                record.request_key = ""
                record.save(update_fields=["request_key", "updated_at"])
    remaining = [r for r in records if r.pk not in found]
    _post(connector, company, remaining, now, report, lease, interactive=interactive)


def _request_key(company: Company, records: Sequence[SyncRecord]) -> str:
    """Stable for one logical request: the same records at the same attempts."""
    material = ",".join(f"{r.pk}:{r.attempts}" for r in sorted(records, key=lambda r: r.pk))
    return f"lb-{company.pk}-" + hashlib.sha256(material.encode()).hexdigest()[:40]


def _post(
    connector: AccountingConnector,
    company: Company,
    records: Sequence[SyncRecord],
    now: dt.datetime,
    report: RunReport,
    lease: Lease,
    *,
    interactive: bool = False,
) -> None:
    records = _refuse_out_of_range(records, now)
    size = max(1, connector.batch_size)
    for start in range(0, len(records), size):
        with package_calls():
            batch = list(records[start : start + size])
            lease.renew()
            key = _request_key(company, batch)
            # The key is saved before sending, so a worker that dies mid-request
            # leaves evidence that the outcome must be settled by lookup.
            SyncRecord.objects.filter(pk__in=[r.pk for r in batch]).update(request_key=key)
            for record in batch:
                record.request_key = key
            try:
                outcomes = connector.post(company, batch, request_key=key, interactive=interactive)
            except TryLater as error:
                for record in batch:
                    _retry_later(record, error, now=now, keep_key=error.maybe_sent)
                report.later(error.retry_after)
                continue
            except (NotLinked, PausedUntil):
                # Refused before Xero acted on anything (401/403/429): nothing to settle.
                SyncRecord.objects.filter(pk__in=[r.pk for r in batch]).update(request_key="")
                raise
            # One transaction for the batch's outcomes: one commit instead of several
            # per document. A worker that dies here leaves the whole batch
            # ``posting`` with its key, settled by lookup like any unknown outcome.
            with transaction.atomic():
                by_id = {r.pk: r for r in batch}
                posted = []
                for outcome in outcomes:
                    record = by_id.pop(outcome.record_id)
                    if outcome.posted is not None:
                        posted.append((record, outcome.posted))
                        report.posted += 1
                    else:
                        record.duplicate_url = outcome.duplicate.url if outcome.duplicate else ""
                        joiner = " " if outcome.problems else "; "
                        message = joiner.join(outcome.messages) or "Refused."
                        # A duplicate already says what to do (check it, or post anyway).
                        _mark_failed(
                            record,
                            message,
                            now=now,
                            problems=outcome.problems,
                            task_message=message if outcome.duplicate else None,
                        )
                        report.failed += 1
                _mark_posted_all(posted, now=now, action="post")
                for record in by_id.values():  # the package said nothing about these
                    _retry_later(
                        record,
                        TryLater("No answer for this document.", maybe_sent=True),
                        now=now,
                        keep_key=True,
                    )


def _mark_posted(
    record: SyncRecord, posted: ExternalDocument, *, now: dt.datetime, action: str
) -> None:
    _mark_posted_all([(record, posted)], now=now, action=action)


RECORD_POSTED_FIELDS = [
    "status",
    "external_id",
    "external_number",
    "external_url",
    "external_total",
    "external_tax",
    "posted_at",
    "request_key",
    "next_attempt_at",
    "wanted_at",
    "waiting_for",
    "message",
    "duplicate_url",
    "problems",
    "fingerprint",
    "updated_at",
]


def _mark_posted_all(
    items: Sequence[tuple[SyncRecord, ExternalDocument]], *, now: dt.datetime, action: str
) -> None:
    """Record what the package answered, a few queries for the whole batch."""
    if not items:
        return
    attempts = []
    for record, posted in items:
        document = record.document
        record.status = SyncStatus.POSTED
        record.external_id = posted.external_id
        record.external_number = posted.number
        record.external_url = posted.url
        record.external_total = posted.total
        record.external_tax = posted.tax
        record.posted_at = now
        record.request_key = ""
        record.next_attempt_at = None
        record.wanted_at = None
        record.waiting_for = WaitReason.NONE
        record.message = ""
        record.duplicate_url = ""
        record.problems = []
        record.fingerprint = posted.fingerprint.to_json() if posted.fingerprint else None
        record.updated_at = timezone.now()
        if posted.total is not None and posted.total != document.gross_total:
            cur = document.currency
            tax = f" (tax {format_money(posted.tax, cur)})" if posted.tax is not None else ""
            record.message = (
                f"Totals differ: the package has {format_money(posted.total, cur)}{tax}, the "
                f"TMS {format_money(document.gross_total, cur)} "
                f"(tax {format_money(document.tax_total, cur)}). Check the lines in both."
            )
        elif posted.tax is not None and posted.tax != document.tax_total:
            record.message = (
                f"Tax differs: the package has {format_money(posted.tax, document.currency)}, "
                f"the TMS {format_money(document.tax_total, document.currency)}."
            )
        note = f" {record.message}" if record.message else ""
        attempts.append(
            _attempt(
                record,
                now=now,
                action=action,
                outcome="ok",
                key=posted.external_id,
                message=f"Posted as {posted.number}.{note}",
            )
        )
    # Row by row inside the caller's transaction: cheaper than bulk_update's
    # CASE expressions for a batch of 50, and still one commit.
    for record, _ in items:
        SyncRecord.objects.filter(pk=record.pk).update(
            **{name: getattr(record, name) for name in RECORD_POSTED_FIELDS}
        )
    SyncAttempt.objects.bulk_create(attempts)
    post_tasks_follow(record for record, _ in items)


def _mark_failed(
    record: SyncRecord,
    message: str,
    *,
    now: dt.datetime,
    problems: Sequence[Problem] = (),
    task_message: str | None = None,
) -> None:
    record.status = SyncStatus.FAILED
    record.wanted_at = None
    record.message = message
    record.problems = [asdict(p) for p in problems]
    record.waiting_for = WaitReason.NONE
    record.request_key = ""
    record.save()
    details = "; ".join(p.detail for p in problems if p.detail)
    _log(record, now=now, action="post", outcome="failed", message=details or message)
    post_tasks_follow([record], message=task_message)


def _refuse_out_of_range(records: Sequence[SyncRecord], now: dt.datetime) -> list[SyncRecord]:
    """The records that may be sent; those whose document holds a figure outside its
    bounds fail here, never sent: the package would store (or choke on) what we
    ourselves refuse."""
    problems = documents_with_figure_problems(r.document_id for r in records)
    if not problems:
        return list(records)
    for record in records:
        if record.document_id in problems:
            message = figures_need_correction_message(problems[record.document_id])
            _mark_failed(
                record,
                message,
                now=now,
                task_message=f"Not sent to {company_package_name(record.company_id)}. {message}",
            )
    return [r for r in records if r.document_id not in problems]


def _retry_later(record: SyncRecord, error: TryLater, *, now: dt.datetime, keep_key: bool) -> None:
    if error.retry_after is not None:
        # The package named when to come back (a rate-limit window): waiting for
        # it is not a failed attempt and does not count towards giving up.
        record.attempts = max(record.attempts - 1, 0)
    if record.attempts >= MAX_TRANSIENT_ATTEMPTS:
        record.status = SyncStatus.NEEDS_ATTENTION
        record.message = f"Still failing after {record.attempts} attempts: {error.message}"
        record.waiting_for = WaitReason.NONE
    else:
        record.status = SyncStatus.PENDING
        record.message = f"Will try again: {error.message}"
        record.waiting_for = (
            WaitReason.RATE_LIMIT if error.retry_after is not None else WaitReason.UNAVAILABLE
        )
    delay = (
        dt.timedelta(seconds=error.retry_after) if error.retry_after else _backoff(record.attempts)
    )
    record.next_attempt_at = now + delay
    if not keep_key:
        record.request_key = ""
    record.save()
    if record.status == SyncStatus.NEEDS_ATTENTION:
        post_tasks_follow([record])
    _log(
        record,
        now=now,
        action="post",
        outcome="retry",
        message=error.message,
        key=record.request_key,
    )


def _release(
    company: Company, message: str, *, now: dt.datetime, delay: dt.timedelta | None
) -> None:
    """Give claimed records back, with the reason shown on each document."""
    SyncRecord.objects.filter(company=company, status=SyncStatus.POSTING, request_key="").update(
        status=SyncStatus.PENDING,
        message=message,
        next_attempt_at=(now + delay) if delay else None,
        waiting_for=WaitReason.NONE,
        attempts=0,
    )
    post_tasks_follow(
        SyncRecord.objects.filter(company=company, status=SyncStatus.PENDING).only(
            "document_id", "status", "message"
        ),
        message=f"Waiting: {message}",
    )


def _attach(
    connector: AccountingConnector,
    company: Company,
    now: dt.datetime,
    report: RunReport,
    lease: Lease,
) -> None:
    records = SyncRecord.objects.filter(
        company=company, status=SyncStatus.POSTED, attachment_status=StepStatus.PENDING
    ).select_related("document", "document__company", "document__partner")[:STEP_LIMIT]
    for record in records:
        with package_calls():
            lease.renew()
            pdf = document_pdf_ensure(document=record.document)
            try:
                connector.attach(company, record, filename=pdf.filename, content=bytes(pdf.content))
            except TryLater as error:
                record.attachment_message = f"Will try again: {error.message}"
                record.save(update_fields=["attachment_message", "updated_at"])
                _log(record, now=now, action="attach", outcome="retry", message=error.message)
                report.later(error.retry_after or 60)
                return  # the rest wait for the next run too
            except Rejected as error:
                record.attachment_status = StepStatus.FAILED
                record.attachment_message = error.message
                record.save(update_fields=["attachment_status", "attachment_message", "updated_at"])
                _log(record, now=now, action="attach", outcome="failed", message=error.message)
                continue
            record.attachment_status = StepStatus.DONE
            record.attachment_message = ""
            record.save(update_fields=["attachment_status", "attachment_message", "updated_at"])
            _log(
                record, now=now, action="attach", outcome="ok", message=f"Attached {pdf.filename}."
            )
            report.attached += 1


def _allocate(
    connector: AccountingConnector,
    company: Company,
    now: dt.datetime,
    report: RunReport,
    lease: Lease,
) -> None:
    records = SyncRecord.objects.filter(
        company=company,
        status=SyncStatus.POSTED,
        allocation_status=StepStatus.WAITING,
        document__type__in=list(CREDIT_NOTE_TYPES),
    ).select_related("document")
    for record in records:
        with package_calls():
            original_id = record.document.original_id
            invoice = (
                SyncRecord.objects.filter(document_id=original_id, status=SyncStatus.POSTED).first()
                if original_id
                else None
            )
            if invoice is None:
                if record.allocation_message != "Waiting for the invoice to be posted.":
                    record.allocation_message = "Waiting for the invoice to be posted."
                    record.save(update_fields=["allocation_message", "updated_at"])
                continue
            lease.renew()
            try:
                outcome = connector.allocate(company, record, invoice, now=now)
            except TryLater as error:
                _log(record, now=now, action="allocate", outcome="retry", message=error.message)
                report.later(error.retry_after or 60)
                return
            except Rejected as error:
                record.allocation_status = StepStatus.FAILED
                record.allocation_message = error.message
                record.save(update_fields=["allocation_status", "allocation_message", "updated_at"])
                _log(record, now=now, action="allocate", outcome="failed", message=error.message)
                continue
            record.allocation_status = StepStatus.DONE if outcome.allocated else StepStatus.SKIPPED
            record.allocation_message = outcome.note
            record.save(update_fields=["allocation_status", "allocation_message", "updated_at"])
            _log(
                record,
                now=now,
                action="allocate",
                outcome="ok",
                message=outcome.note
                or f"Allocated {format_money(outcome.allocated, record.document.currency)}.",
            )
            report.allocated += 1


def sync_records_resume(*, company_id: int) -> None:
    """The company's link works again: everything waiting goes now (after commit)."""
    SyncRecord.objects.filter(company_id=company_id, status=SyncStatus.PENDING).update(
        next_attempt_at=None
    )
    transaction.on_commit(lambda: wake(company_id))


def companies_with_due_work(*, now: dt.datetime | None = None) -> list[int]:
    """For the periodic sweep: companies with due or stale records, or unfinished steps."""
    now = now or timezone.now()
    due = (
        _pending_due(now)
        | Q(status=SyncStatus.POSTING)  # left by a run that died, unless one is on it
        | Q(status=SyncStatus.POSTED, attachment_status=StepStatus.PENDING)
        | Q(status=SyncStatus.POSTED, allocation_status=StepStatus.WAITING)
    )
    busy = {int(name.removeprefix(LEASE_PREFIX)) for name in leases_held(LEASE_PREFIX, now=now)}
    return [
        company_id
        for company_id in SyncRecord.objects.filter(due)
        .values_list("company_id", flat=True)
        .distinct()
        if company_id not in busy
    ]
