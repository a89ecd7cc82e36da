"""Reconciliation: do the TMS's books and the package's still agree, and if not, where?

Every final document of a company's period and every invoice or credit note the
package holds for that period lands in one class (``ReconcileOutcome``): it
agrees; it is missing in the package (never posted, or posted and since voided or
deleted there, as we know); it is only in the package (entered there by hand in
our number series or for one of our partners' contacts, or a duplicate); it
differs (what the package holds now against the fingerprint of what we sent, so
our own sub-cent rounding is no change); or its status differs (voided, deleted
or paid in the package against what our payment state believes).

Reading is kept cheap in calls, which the package counts: the package's documents
are read in its largest pages with their lines, as many calls as summaries would
take, so none has to be read again by id to compare accounts, tax types and
tracking (more bytes, measured and reported with the calls). Only ours the pages
did not show (a date moved out of the period, gone from the package) are read in
detail (``documents_detail``), and, from a package that pages without lines,
those whose header differs or that it changed after we last knew them to agree.
An incremental run reads, with their lines, only what the package changed since
the previous run of the same period, and carries the other rows over; the
package's documents that the previous run listed as only there are matched
against ours too (read again when one of ours we never posted may be one).

``reconciliation_plan`` compares one of ours with one of the package's, pure;
``reconciliation_run`` reads, plans every row and stores the run. A person
acknowledges a row with a reason (``reconciliation_acknowledge``, audited); a
later run keeps the acknowledgement while the outcome and the differences stay
the same. ``reconciliation_act`` does the few actions that are safe from here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

import structlog
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ledgerbridge.companies.models import Company
from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import ApplicationError, NotFoundError
from ledgerbridge.invoicing.models import (
    CREDIT_NOTE_FOR,
    CREDIT_NOTE_TYPES,
    SALES_TYPES,
    Document,
    DocumentStatus,
    DocumentType,
    NumberSeries,
)

from .connector import (
    BooksReader,
    ConnectorError,
    ReadMeter,
    RemoteDocument,
    TryLater,
    company_package_name,
    package_name,
    reader_for,
)
from .fingerprint import DocumentFingerprint, fingerprint_compare
from .models import (
    AccountingPackage,
    AccountingSettings,
    PaymentState,
    PaymentStatus,
    ReconcileOutcome,
    ReconcileRunStatus,
    ReconciliationAcknowledgement,
    ReconciliationRow,
    ReconciliationRun,
    RemoteChange,
    StepStatus,
    SyncAttempt,
    SyncRecord,
    SyncStatus,
)

log = structlog.get_logger(__name__)

CENT = Decimal("0.01")
GONE = ("voided", "deleted")
# The package stamps a document when it stores it, a little after the clock our
# posting run started with (``posted_at``): a change stamped within this is the
# posting itself. A person's edit in those first minutes reaches us as a webhook
# (``RemoteChange``), and documents with one are always read in detail.
POSTING_SETTLES = dt.timedelta(minutes=2)
# A period longer than this is a mistake more often than a wish, and reads a lot.
LONGEST_PERIOD = dt.timedelta(days=366)
ACKNOWLEDGED = "acknowledged"
ROW_BATCH = 1000
ACTIONS = ("post", "recheck", "link", "credit", "post_again")
# A run in the background that the package asks to wait (its per-minute limit, used
# by a backlog's posting first; a passing outage) stays running and goes on by
# itself after the wait: at most this many times, each wait within these bounds, so
# a run never waits for ever (about the hour ``reconciliation_start`` keeps it).
WAITS = 10
SHORTEST_WAIT = dt.timedelta(seconds=5)
LONGEST_WAIT = dt.timedelta(minutes=5)


class ReconciliationError(ApplicationError):
    """A reconciliation cannot start or an action is not safe; the message says why."""


# ------------------------------------------------------------------ what is compared


@dataclass(frozen=True)
class Ours:
    """One of our final documents with what we know of it in the package."""

    document_id: int
    type: str
    number: str
    # The number the package knows it by: ours for sales, the supplier's for purchases.
    package_number: str
    partner_id: int
    partner_name: str
    currency: str
    date: dt.date
    due_date: dt.date
    reference: str
    net: Decimal
    tax: Decimal
    gross: Decimal
    line_count: int
    sync_status: str = ""
    external_id: str = ""
    posted_at: dt.datetime | None = None
    sent: DocumentFingerprint | None = None
    payment_status: str = ""
    amount_due: Decimal | None = None
    # We moved credit on it ourselves: a credit note we allocated, or an invoice one
    # of our credit notes was allocated to.
    credited: bool = False
    # The latest change on our side (document, outbox record, payment state).
    changed_at: dt.datetime | None = None

    @property
    def posted(self) -> bool:
        return self.sync_status == SyncStatus.POSTED and bool(self.external_id)

    def own_fingerprint(self, remote: RemoteDocument | None) -> DocumentFingerprint:
        """Our document's own values, for one posted before fingerprints were kept.

        What the package makes of the contact and the reference is the adapter's
        business, so they are taken as the package's; the rest is compared.
        """
        return DocumentFingerprint(
            contact_id=remote.contact_id if remote else "",
            currency=self.currency,
            date=self.date,
            # The package keeps no due date on credit notes.
            due_date=None if self.type in CREDIT_NOTE_TYPES else self.due_date,
            reference=remote.fingerprint.reference if remote else self.reference,
            net=self.net,
            tax=self.tax,
            gross=self.gross,
        )


@dataclass
class PlannedRow:
    """A row of a run before it is stored."""

    outcome: str
    type: str
    number: str = ""
    document_id: int | None = None
    external_id: str = ""
    contact_name: str = ""
    currency: str = ""
    ours: dict[str, str] = field(default_factory=dict)
    theirs: dict[str, str] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    acknowledgement_id: int | None = None


def _money(value: Decimal | None) -> str:
    return "" if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _our_status(ours: Ours) -> str:
    if ours.payment_status:
        return ours.payment_status
    if ours.posted:
        return "posted"
    return ours.sync_status or "not posted"


def _ours_values(ours: Ours) -> dict[str, str]:
    sent = ours.sent
    return {
        "number": ours.package_number,
        "contact": ours.partner_name,
        "date": _date(ours.date),
        "due_date": _date(ours.due_date),
        "reference": sent.reference if sent else ours.reference,
        "currency": ours.currency,
        "net": _money(sent.net if sent else ours.net),
        "tax": _money(sent.tax if sent else ours.tax),
        "gross": _money(sent.gross if sent else ours.gross),
        "line_count": str(sent.line_count if sent and sent.lines else ours.line_count),
        "status": _our_status(ours),
        "amount_due": _money(ours.amount_due),
    }


def _their_values(remote: RemoteDocument) -> dict[str, str]:
    fp = remote.fingerprint
    return {
        "number": remote.number,
        "contact": remote.contact_name,
        "date": _date(fp.date),
        "due_date": _date(fp.due_date),
        "reference": fp.reference,
        "currency": fp.currency,
        "net": _money(fp.net),
        "tax": _money(fp.tax),
        "gross": _money(fp.gross),
        "line_count": str(fp.line_count) if remote.lines_read else "",
        "status": remote.status,
        "amount_due": _money(remote.amount_due),
    }


def _header(fingerprint: DocumentFingerprint) -> DocumentFingerprint:
    return replace(fingerprint, lines=())


def content_differences(ours: Ours, remote: RemoteDocument) -> list[str]:
    """What differs between what we sent (or our document) and the package's copy.

    Lines are compared only when they were read and we kept what we sent of them;
    otherwise the header alone.
    """
    sent = ours.sent or ours.own_fingerprint(remote)
    theirs = remote.fingerprint
    if remote.lines_read and sent.lines:
        return fingerprint_compare(sent, theirs)
    differences = fingerprint_compare(_header(sent), _header(theirs))
    if remote.lines_read and not sent.lines and ours.line_count != theirs.line_count:
        differences.append(f"lines {ours.line_count} → {theirs.line_count}")
    return differences


def _their_payment(remote: RemoteDocument) -> str:
    """The package's state in our payment words."""
    if remote.status in GONE:
        return remote.status
    gross = remote.fingerprint.gross
    due = remote.amount_due
    if remote.status == "paid" or (gross > 0 and due <= 0):
        return PaymentStatus.PAID
    if remote.status in ("draft", "submitted"):
        return PaymentStatus.UNPAID
    if _money(due) != _money(gross):
        return PaymentStatus.PARTLY_PAID
    return PaymentStatus.UNPAID


def _label(status: str) -> str:
    try:
        return str(PaymentStatus(status).label).lower()
    except ValueError:
        return status.replace("_", " ")


def status_difference(ours: Ours, remote: RemoteDocument) -> str:
    """The package's status against what our payment state believes ("" if the same).

    A document whose payment state was never read is believed unpaid, unless we
    moved credit on it ourselves (a credit note we allocated is "paid" in the
    package, and its invoice paid or partly so, rightly): then only voided or
    deleted there contradicts what we know.
    """
    theirs = _their_payment(remote)
    if not ours.payment_status and ours.credited and theirs not in GONE:
        return ""
    believed = ours.payment_status or PaymentStatus.UNPAID
    if theirs == believed:
        if (
            theirs == PaymentStatus.PARTLY_PAID
            and ours.amount_due is not None
            and _money(ours.amount_due) != _money(remote.amount_due)
        ):
            return (
                f"due {_money(remote.amount_due)} in the package; "
                f"the TMS believes {_money(ours.amount_due)}"
            )
        return ""
    return f"{_label(theirs)} in the package; the TMS believes it {_label(believed)}"


def reconciliation_plan(
    ours: Ours | None,
    remote: RemoteDocument | None,
    *,
    matched_by_number: bool = False,
    copy_of: str = "",
) -> PlannedRow:
    """The row for one of ours, one of the package's, or both. Pure.

    ``matched_by_number``: the package's document is not one we posted but has the
    number, type and contact of one of ours that we did not post. ``copy_of``: the
    number of one of ours with the contact, date and total of the package's
    document that is only there (a duplicate typed by hand, most likely).
    """
    if ours is None and remote is None:
        raise ValueError("nothing to compare")
    if ours is None:
        assert remote is not None
        gone = [f"since {remote.status} in the package"] if remote.status in GONE else []
        if copy_of:
            gone.append(f"looks like a copy of {copy_of} (same contact, date and total)")
        return PlannedRow(
            outcome=ReconcileOutcome.ONLY_IN_PACKAGE,
            type=remote.type,
            number=remote.number,
            external_id=remote.external_id,
            contact_name=remote.contact_name,
            currency=remote.fingerprint.currency,
            theirs=_their_values(remote),
            differences=["entered in the package, not posted from the TMS", *gone],
        )
    row = PlannedRow(
        outcome=ReconcileOutcome.AGREES,
        type=ours.type,
        number=ours.number,
        document_id=ours.document_id,
        external_id=ours.external_id,
        contact_name=ours.partner_name,
        currency=ours.currency,
        ours=_ours_values(ours),
    )
    if remote is None:
        row.outcome = ReconcileOutcome.MISSING
        if ours.posted:
            row.differences = ["posted, but no longer in the package"]
        elif ours.sync_status in (SyncStatus.PENDING, SyncStatus.POSTING):
            row.differences = ["not posted yet: on its way to the package"]
        elif ours.sync_status in (SyncStatus.FAILED, SyncStatus.NEEDS_ATTENTION):
            row.differences = ["not posted: the package refused it or could not be reached"]
        else:
            row.differences = ["never posted"]
        return row
    row.external_id = remote.external_id
    row.theirs = _their_values(remote)
    if matched_by_number:
        row.outcome = ReconcileOutcome.ONLY_IN_PACKAGE
        differences = fingerprint_compare(
            _header(ours.own_fingerprint(remote)), _header(remote.fingerprint)
        )
        note = "" if differences else ", same total (it can be linked)"
        row.differences = [
            "entered in the package, not posted from the TMS: same number, type and contact "
            f"as ours{note}",
            *differences,
        ]
        return row
    if remote.status in GONE:
        if ours.payment_status in GONE:
            row.outcome = ReconcileOutcome.MISSING
            row.differences = [f"{remote.status} in the package"]
        else:
            row.outcome = ReconcileOutcome.STATUS_DIFFERS
            row.differences = [status_difference(ours, remote)]
        return row
    differences = content_differences(ours, remote)
    status = status_difference(ours, remote)
    if differences:
        row.outcome = ReconcileOutcome.DIFFERS
        row.differences = differences + ([status] if status else [])
    elif status:
        row.outcome = ReconcileOutcome.STATUS_DIFFERS
        row.differences = [status]
    return row


# ------------------------------------------------------------------ reading ours


def _ours_query(company: Company) -> QuerySet[Document]:
    return (
        Document.objects.filter(company=company, status=DocumentStatus.FINAL)
        .select_related("partner", "sync_record", "sync_record__payment")
        .annotate(line_total=Count("lines"))
        .order_by("issue_date", "id")
    )


def _ours_of(document: Document, credited: frozenset[int] = frozenset()) -> Ours:
    record: SyncRecord | None = getattr(document, "sync_record", None)
    payment = getattr(record, "payment", None) if record is not None else None
    changed = [document.updated_at]
    if record is not None:
        changed.append(record.updated_at)
    if payment is not None and payment.changed_at:
        changed.append(payment.changed_at)
    return Ours(
        document_id=document.pk,
        type=document.type,
        number=document.number,
        package_number=document.number if document.is_sales else document.supplier_reference,
        partner_id=document.partner_id,
        partner_name=document.partner.name,
        currency=document.currency,
        date=document.issue_date,
        due_date=document.due_date,
        reference=document.reference,
        net=document.net_total,
        tax=document.tax_total,
        gross=document.gross_total,
        line_count=getattr(document, "line_total", 0),
        sync_status=record.status if record else "",
        external_id=record.external_id if record else "",
        posted_at=record.posted_at if record else None,
        sent=(
            DocumentFingerprint.from_json(record.fingerprint)
            if record is not None and record.fingerprint
            else None
        ),
        payment_status=payment.status if payment is not None else "",
        amount_due=payment.amount_due if payment is not None else None,
        credited=document.pk in credited
        or (record is not None and record.allocation_status == StepStatus.DONE),
        changed_at=max(c for c in changed if c is not None),
    )


def _credited(company: Company) -> frozenset[int]:
    """Our invoices that one of our credit notes was allocated to in the package."""
    originals = SyncRecord.objects.filter(
        company=company,
        status=SyncStatus.POSTED,
        allocation_status=StepStatus.DONE,
        document__original__isnull=False,
    ).values_list("document__original_id", flat=True)
    return frozenset(pk for pk in originals if pk is not None)


def ours_read(company: Company, *, date_from: dt.date, date_to: dt.date) -> list[Ours]:
    """Our final documents dated in the period (two queries)."""
    credited = _credited(company)
    return [
        _ours_of(d, credited)
        for d in _ours_query(company).filter(issue_date__gte=date_from, issue_date__lte=date_to)
    ]


def _ours_by_external_id(company: Company, external_ids: Sequence[str]) -> dict[str, Ours]:
    """Ours posted as these package documents, whatever their date (one query)."""
    if not external_ids:
        return {}
    documents = _ours_query(company).filter(
        sync_record__status=SyncStatus.POSTED, sync_record__external_id__in=list(external_ids)
    )
    credited = _credited(company)
    found = (_ours_of(d, credited) for d in documents)
    return {o.external_id.lower(): o for o in found}


# Which package contacts belong to our partners, beyond those we posted to (an
# adapter that keeps its own link table registers how to read it).
_contact_links: dict[str, Callable[[Company], dict[str, int]]] = {}


def contact_links_register(package: str, links: Callable[[Company], dict[str, int]]) -> None:
    """``links(company)``: package contact id -> our partner id, as the adapter keeps them."""
    _contact_links[package] = links


# Whether the package takes a voided or deleted document's number again: ``rule(type)``
# is "" when it does, else why not in words (an adapter registers it; without one the
# number is taken to be refused).
_number_reuse: dict[str, Callable[[str], str]] = {}


def number_reuse_register(package: str, rule: Callable[[str], str]) -> None:
    _number_reuse[package] = rule


def number_reuse_refused(package: str, document_type: str) -> str:
    """Why the package would refuse a voided or deleted document's number again ("" if not)."""
    rule = _number_reuse.get(package)
    if rule is None:
        return f"{package_name(package)} may not take the same number twice."
    return rule(document_type)


def partner_contacts(company: Company, package: str) -> dict[str, int]:
    """Package contact id (lower case) -> our partner: the contacts of what we posted,
    and any link the adapter keeps."""
    links: dict[str, int] = {}
    rows = (
        SyncRecord.objects.filter(company=company, status=SyncStatus.POSTED)
        .exclude(fingerprint=None)
        .values_list("fingerprint__contact_id", "document__partner_id")
        .distinct()
    )
    for contact_id, partner_id in rows:
        if contact_id:
            links[str(contact_id).lower()] = partner_id
    adapter = _contact_links.get(package)
    if adapter is not None:
        links.update({key.lower(): value for key, value in adapter(company).items()})
    return links


def _series_patterns(company: Company) -> dict[str, re.Pattern[str]]:
    """Our sales number series, as patterns a number typed in the package may match.

    Shaped as the series formats them (``NumberSeries.format``: the year when it
    resets yearly, at least ``padding`` digits), so the package's own numbering
    of documents typed there (Xero's ``INV-0001``) is not taken for ours.
    """
    patterns = {}
    for series in NumberSeries.objects.filter(company=company, document_type__in=list(SALES_TYPES)):
        year = r"\d{4}-" if series.reset_yearly else ""
        patterns[series.document_type] = re.compile(
            rf"^{re.escape(series.prefix)}{year}\d{{{max(series.padding, 1)},}}$", re.IGNORECASE
        )
    return patterns


# ------------------------------------------------------------------ the run


@dataclass
class _Acknowledgements:
    by_document: dict[int, ReconciliationAcknowledgement]
    by_external_id: dict[str, ReconciliationAcknowledgement]

    @classmethod
    def of(cls, company: Company) -> _Acknowledgements:
        by_document: dict[int, ReconciliationAcknowledgement] = {}
        by_external_id: dict[str, ReconciliationAcknowledgement] = {}
        # Oldest first: the latest for a document is the one kept.
        for ack in ReconciliationAcknowledgement.objects.filter(company=company).order_by(
            "at", "id"
        ):
            if ack.document_id:
                by_document[ack.document_id] = ack
            elif ack.external_id:
                by_external_id[ack.external_id.lower()] = ack
        return cls(by_document, by_external_id)

    def apply(self, row: PlannedRow) -> None:
        """The row keeps a person's acknowledgement while its outcome and differences
        are the ones acknowledged; otherwise it is open again."""
        row.acknowledgement_id = None
        if row.outcome == ReconcileOutcome.AGREES:
            return
        ack = (
            self.by_document.get(row.document_id)
            if row.document_id
            else self.by_external_id.get(row.external_id.lower())
        )
        if ack is not None and ack.outcome == row.outcome and ack.differences == row.differences:
            row.acknowledgement_id = ack.pk


def _needs_lines(ours: Ours, remote: RemoteDocument, *, agreed_at: dt.datetime | None) -> bool:
    """Whether the package's summary is not enough to tell: its header differs, or
    it changed after we last knew it to agree (posting, or a previous run)."""
    if remote.lines_read or remote.status in GONE:
        return False
    if content_differences(ours, remote):
        return True
    known = ours.posted_at + POSTING_SETTLES if ours.posted_at else None
    if agreed_at is not None and (known is None or agreed_at > known):
        known = agreed_at
    return remote.updated_at is None or known is None or remote.updated_at > known


@dataclass
class _Reading:
    rows: list[PlannedRow]
    carried: list[ReconciliationRow]
    documents_read: int


def _previous(
    company: Company, date_from: dt.date, date_to: dt.date, *, exclude: int
) -> ReconciliationRun | None:
    return (
        ReconciliationRun.objects.filter(
            company=company,
            period_from=date_from,
            period_to=date_to,
            status=ReconcileRunStatus.DONE,
        )
        .exclude(pk=exclude)
        .order_by("-started_at", "-id")
        .first()
    )


def _read(
    company: Company,
    package: str,
    *,
    date_from: dt.date,
    date_to: dt.date,
    previous: ReconciliationRun | None,
    incremental: bool,
    reader: BooksReader,
    meter: ReadMeter,
) -> _Reading:
    ours = ours_read(company, date_from=date_from, date_to=date_to)
    since = previous.started_at if (incremental and previous is not None) else None
    # With lines: a page with lines costs the package's call as a page of summaries
    # does, so reading them with the page is never more calls than summaries and
    # then the changed documents again by id (at 15 % changed, half the calls).
    remote_documents = list(
        reader.documents_read(
            company,
            date_from=date_from,
            date_to=date_to,
            meter=meter,
            modified_since=since,
            lines=True,
        )
    )
    # Whole rows only to carry them over; a full run needs just which agreed.
    previous_rows: list[ReconciliationRow] = (
        list(previous.rows.all()) if previous is not None and incremental else []
    )
    agreed: set[int] = (
        set(
            previous.rows.filter(outcome=ReconcileOutcome.AGREES, document__isnull=False)
            .values_list("document_id", flat=True)
            .iterator()
        )
        if previous is not None
        else set()
    )
    agreed_at = previous.started_at if previous else None
    changed_there = set(
        RemoteChange.objects.filter(company=company).values_list("record__document_id", flat=True)
    )

    by_external = {o.external_id.lower(): o for o in ours if o.posted}
    unmatched: list[RemoteDocument] = []
    pairs: list[tuple[Ours, RemoteDocument]] = []
    for remote in remote_documents:
        mine = by_external.get(remote.external_id.lower())
        if mine is not None:
            pairs.append((mine, remote))
        else:
            unmatched.append(remote)
    # Ours whose date is outside the period (changed here or in the package).
    elsewhere = _ours_by_external_id(company, [r.external_id for r in unmatched])
    still: list[RemoteDocument] = []
    for remote in unmatched:
        mine = elsewhere.get(remote.external_id.lower())
        if mine is not None:
            pairs.append((mine, remote))
        else:
            still.append(remote)

    paired = {o.document_id for o, _ in pairs}
    fresh_external = {r.external_id.lower() for r in remote_documents}
    previous_by_document = {r.document_id: r for r in previous_rows if r.document_id}

    def untouched(o: Ours) -> bool:
        row = previous_by_document.get(o.document_id)
        return (
            incremental
            and previous is not None
            and row is not None
            and o.changed_at is not None
            and o.changed_at <= previous.started_at
        )

    kept = {o.document_id for o in ours if untouched(o)}
    # Ours we never posted and do not carry over: the package's documents listed
    # last time as only there, and unchanged since (so not read now), may be one of
    # them (finalised or changed here since): read those again to match by number.
    unposted: dict[tuple[str, str], list[Ours]] = {}
    for o in ours:
        if not o.posted and o.package_number:
            unposted.setdefault((o.type, o.package_number.casefold()), []).append(o)
    pending = {
        key
        for key, candidates in unposted.items()
        if any(o.document_id not in kept for o in candidates)
    }
    again = {
        row.external_id
        for row in previous_rows
        if row.outcome == ReconcileOutcome.ONLY_IN_PACKAGE
        and row.external_id
        and row.external_id.lower() not in fresh_external
        and row.external_id.lower() not in by_external
        and row.document_id not in kept
        and (row.type, str(row.theirs.get("number", "")).casefold()) in pending
    }

    # Ours the package's pages did not show: read in detail when posted (a date
    # moved out of the period, or gone from the package), unless an incremental
    # run carries them over untouched; and those read without their lines whose
    # header differs or that changed after we last knew them to agree.
    wanted = {o.external_id for o in ours if o.posted and o.document_id not in paired | kept}
    for o, remote in pairs:
        if remote.status in GONE or remote.lines_read:
            continue
        if o.document_id in changed_there or _needs_lines(
            o, remote, agreed_at=agreed_at if o.document_id in agreed else None
        ):
            wanted.add(remote.external_id)
    detailed: dict[str, RemoteDocument] = {}
    if wanted or again:
        for remote in reader.documents_detail(company, sorted(wanted | again), meter=meter):
            detailed[remote.external_id.lower()] = remote
    read_again = {i.lower() for i in again} & detailed.keys()
    still += [detailed[i] for i in sorted(read_again)]

    # The package's documents that are not ours by id: one of ours we never
    # posted (same number, type and contact), else only in the package when it
    # belongs to us.
    links = partner_contacts(company, package)
    series = _series_patterns(company)
    by_number: list[tuple[Ours, RemoteDocument]] = []
    alone: list[RemoteDocument] = []
    taken: set[int] = set()
    for remote in still:
        if remote.status in GONE:
            continue  # typed and thrown away in the package: not a difference
        contact = remote.contact_id.lower()
        candidates = unposted.get((remote.type, remote.number.casefold()), [])
        mine = next(
            (
                o
                for o in candidates
                if o.document_id not in taken
                and (
                    links.get(contact) == o.partner_id
                    or remote.contact_name.casefold() == o.partner_name.casefold()
                )
            ),
            None,
        )
        if mine is not None:
            taken.add(mine.document_id)
            by_number.append((mine, remote))
            continue
        pattern = series.get(remote.type)
        if contact in links or (pattern is not None and pattern.match(remote.number)):
            alone.append(remote)

    unseen = [o for o in ours if o.document_id not in paired | taken]
    carried_documents = {o.document_id for o in unseen if o.document_id in kept}

    rows = [
        reconciliation_plan(o, detailed.get(remote.external_id.lower(), remote))
        for o, remote in pairs
    ]
    rows += [reconciliation_plan(o, remote, matched_by_number=True) for o, remote in by_number]
    rows += [
        reconciliation_plan(None, remote, copy_of=_copy_of(remote, ours, links)) for remote in alone
    ]
    for o in unseen:
        if o.document_id in carried_documents:
            continue
        found = detailed.get(o.external_id.lower()) if o.posted else None
        rows.append(reconciliation_plan(o, found))

    carried: list[ReconciliationRow] = []
    if incremental and previous is not None:
        in_period = {o.document_id for o in ours}
        for row in previous_rows:
            if row.document_id:
                keep = row.document_id in carried_documents
            else:  # only in the package: unless the package changed it, it is ours
                # now, or it was read again above
                external_id = row.external_id.lower()
                keep = (
                    bool(external_id)
                    and external_id not in fresh_external
                    and external_id not in by_external
                    and external_id not in read_again
                )
            if keep and (row.document_id is None or row.document_id in in_period):
                carried.append(row)
    return _Reading(rows=rows, carried=carried, documents_read=len(remote_documents))


def _copy_of(remote: RemoteDocument, ours: Sequence[Ours], links: dict[str, int]) -> str:
    """The number of one of ours of the same type, contact, date and total as a
    document only in the package ("" when none is)."""
    fp = remote.fingerprint
    contact = remote.contact_id.lower()
    for o in ours:
        if (
            o.type == remote.type
            and o.date == fp.date
            and _money(o.gross) == _money(fp.gross)
            and (
                links.get(contact) == o.partner_id
                or remote.contact_name.casefold() == o.partner_name.casefold()
            )
        ):
            return o.number
    return ""


def _reader(company: Company, *, required: bool = True) -> tuple[str, BooksReader | None]:
    """The company's package and its reader (None when it has none and none is required)."""
    settings = AccountingSettings.objects.filter(company=company).first()
    package = settings.package if settings else AccountingPackage.NONE
    reader = reader_for(package)
    if reader is None and required:
        raise ReconciliationError(
            f"{company} does not post through an accounting package's API, so there is "
            "nothing to reconcile with. Choose the package in the company's settings."
        )
    return package, reader


def _check_period(date_from: dt.date, date_to: dt.date) -> None:
    if date_from > date_to:
        raise ReconciliationError("The period ends before it starts.", field="date_to")
    if date_to - date_from > LONGEST_PERIOD:
        raise ReconciliationError(
            "Reconcile at most a year at a time; choose a shorter period.", field="date_from"
        )


def _counts(outcomes: Iterable[tuple[str, bool]]) -> dict[str, int]:
    counts = dict.fromkeys([*ReconcileOutcome.values, ACKNOWLEDGED], 0)
    for outcome, acknowledged in outcomes:
        counts[ACKNOWLEDGED if acknowledged else outcome] += 1
    return counts


def reconciliation_run(
    company: Company,
    *,
    date_from: dt.date,
    date_to: dt.date,
    incremental: bool = False,
    reader: BooksReader | None = None,
    now: dt.datetime,
    actor: Actor | None = None,
    run: ReconciliationRun | None = None,
    attempt: int | None = None,
    wait: Callable[[float, str], None] | None = None,
) -> ReconciliationRun:
    """Compare the company's final documents of the period with the package's; store
    the run and its rows and return it (``failed``, with the reason, when the
    package could not be read).

    ``reader``: the package's (the company's registered one if None). ``run``: a
    run already created (``reconciliation_start``), filled in here. Incremental:
    reads only what the package changed since the previous done run of the same
    period and carries the rest over; without a previous run it reads everything.
    ``attempt``: the background's (1 for the first); when the package asks to wait,
    the run stays running and goes on by itself (``WAITS`` times at most). Without
    it (a run in the foreground), the run fails instead, unless ``wait`` is given: a
    package that says how long to wait (its per-minute limit) is then waited for
    in the foreground, ``wait(seconds, words)`` doing the waiting (``WAITS`` times
    at most).
    """
    _check_period(date_from, date_to)
    package, registered = _reader(company, required=reader is None)
    if reader is not None:
        registered = reader
    assert registered is not None
    if run is None:
        run = ReconciliationRun.objects.create(
            company=company,
            period_from=date_from,
            period_to=date_to,
            incremental=incremental,
            started_at=now,
            requested_by=actor.user if actor else None,
            requested_by_label=actor.name if actor else "system",
        )
    previous = _previous(company, date_from, date_to, exclude=run.pk)
    run.incremental = incremental and previous is not None
    meter = ReadMeter()
    waited = 0
    try:
        while True:
            try:
                reading = _read(
                    company,
                    package,
                    date_from=date_from,
                    date_to=date_to,
                    previous=previous,
                    incremental=run.incremental,
                    reader=registered,
                    meter=meter,
                )
                break
            except TryLater as error:
                if wait is None or error.retry_after is None or waited >= WAITS:
                    raise
                waited += 1
                seconds = _wait_time(error).total_seconds()
                wait(
                    seconds,
                    f"Waiting {seconds:.0f} s for {package_name(package)}'s per-minute limit.",
                )
    except TryLater as error:
        if attempt is not None and attempt <= WAITS:
            return _wait(run, error, package=package, meter=meter, attempt=attempt, now=now)
        words = error.message
        if attempt is not None:
            words = (
                f"{package_name(package)} asked the reconciliation to wait {WAITS} times in a "
                f"row, so it stopped; start it again in a few minutes. ({error.message})"
            )
        return _fail(run, words, meter=meter, now=now)
    except ConnectorError as error:
        return _fail(run, error.message, meter=meter, now=now)
    acknowledgements = _Acknowledgements.of(company)
    for planned in reading.rows:
        acknowledgements.apply(planned)
    stored = [_row(run, planned) for planned in reading.rows]
    for old in reading.carried:
        stored.append(_carry(run, old, acknowledgements))
    with transaction.atomic():
        # The same attempt delivered twice by the queue: the first one's rows stand.
        if (
            ReconciliationRun.objects.select_for_update()
            .filter(pk=run.pk, status=ReconcileRunStatus.DONE)
            .exists()
        ):
            return ReconciliationRun.objects.get(pk=run.pk)
        ReconciliationRow.objects.bulk_create(stored, batch_size=ROW_BATCH)
        run.counts = _counts((r.outcome, r.acknowledgement_id is not None) for r in stored)
        run.documents_read = reading.documents_read
        # The calls of the attempts that waited were spent too (added when they waited).
        run.calls += meter.calls
        run.bytes_read += meter.bytes
        run.status = ReconcileRunStatus.DONE
        run.finished_at = now
        run.error = ""
        run.save()
    log.info(
        "reconcile.done",
        company_id=company.pk,
        run_id=run.pk,
        rows=len(stored),
        carried=len(reading.carried),
        calls=meter.calls,
        bytes=meter.bytes,
    )
    return run


def _fail(
    run: ReconciliationRun, words: str, *, meter: ReadMeter, now: dt.datetime
) -> ReconciliationRun:
    run.status = ReconcileRunStatus.FAILED
    run.error = words
    run.finished_at = now
    run.calls += meter.calls
    run.bytes_read += meter.bytes
    run.save()
    log.warning("reconcile.failed", company_id=run.company_id, run_id=run.pk, error=words)
    return run


def _wait_time(error: TryLater) -> dt.timedelta:
    """How long to wait before reading again: the package's word, within bounds."""
    wait = dt.timedelta(seconds=error.retry_after or 60)
    return min(max(wait, SHORTEST_WAIT), LONGEST_WAIT)


def _wait(
    run: ReconciliationRun,
    error: TryLater,
    *,
    package: str,
    meter: ReadMeter,
    attempt: int,
    now: dt.datetime,
) -> ReconciliationRun:
    """Keep the run running and go on after the package's wait; the page says until
    when. Nothing read is kept (the next attempt reads again), only what it cost."""
    wait = _wait_time(error)
    at = now + wait
    name = package_name(package)
    why = f"{name}'s per-minute limit" if error.retry_after else f"{name} to answer again"
    run.error = f"Waiting for {why}: goes on at {timezone.localtime(at):%H:%M}."
    run.calls += meter.calls
    run.bytes_read += meter.bytes
    run.save(update_fields=["error", "calls", "bytes_read"])
    run_id = run.pk
    transaction.on_commit(lambda: _enqueue(run_id, attempt=attempt + 1, delay=wait))
    log.info("reconcile.waiting", run_id=run_id, attempt=attempt, seconds=wait.total_seconds())
    return run


def _row(run: ReconciliationRun, planned: PlannedRow) -> ReconciliationRow:
    return ReconciliationRow(
        run=run,
        company_id=run.company_id,
        outcome=planned.outcome,
        document_id=planned.document_id,
        external_id=planned.external_id,
        type=planned.type,
        number=planned.number,
        contact_name=planned.contact_name,
        currency=planned.currency,
        ours=planned.ours,
        theirs=planned.theirs,
        differences=planned.differences,
        acknowledgement_id=planned.acknowledgement_id,
    )


def _planned(row: ReconciliationRow) -> PlannedRow:
    return PlannedRow(
        outcome=row.outcome,
        type=row.type,
        number=row.number,
        document_id=row.document_id,
        external_id=row.external_id,
        contact_name=row.contact_name,
        currency=row.currency,
        ours=dict(row.ours),
        theirs=dict(row.theirs),
        differences=list(row.differences),
    )


def _carry(
    run: ReconciliationRun, old: ReconciliationRow, acknowledgements: _Acknowledgements
) -> ReconciliationRow:
    planned = _planned(old)
    acknowledgements.apply(planned)
    return _row(run, planned)


# ------------------------------------------------------------------ starting one


def reconciliation_start(
    *,
    actor: Actor,
    date_from: dt.date,
    date_to: dt.date,
    incremental: bool = False,
    now: dt.datetime,
) -> ReconciliationRun:
    """A person asks for a reconciliation: the run is created ``running`` and a
    worker does it (after commit)."""
    require(actor, Permission.WORK_DOCUMENTS)
    _check_period(date_from, date_to)
    _reader(actor.company)
    running = ReconciliationRun.objects.filter(
        company=actor.company,
        period_from=date_from,
        period_to=date_to,
        status=ReconcileRunStatus.RUNNING,
        started_at__gt=now - dt.timedelta(hours=1),
    ).first()
    if running is not None:
        return running
    run = ReconciliationRun.objects.create(
        company=actor.company,
        period_from=date_from,
        period_to=date_to,
        incremental=incremental,
        started_at=now,
        requested_by=actor.user,
        requested_by_label=actor.name,
    )
    run_id = run.pk
    transaction.on_commit(lambda: _enqueue(run_id))
    return run


def _enqueue(run_id: int, *, attempt: int = 1, delay: dt.timedelta | None = None) -> None:
    from .reconcile_tasks import reconcile

    if delay is None:
        reconcile(run_id)
    else:
        reconcile.schedule((run_id,), {"attempt": attempt}, delay=delay.total_seconds())


def reconciliation_run_continue(
    *, run_id: int, now: dt.datetime, attempt: int = 1
) -> ReconciliationRun | None:
    """The worker's side of ``reconciliation_start``: fill in a running run
    (``attempt``: how many times the package made it wait, plus one)."""
    run = ReconciliationRun.objects.select_related("company").filter(pk=run_id).first()
    if run is None or run.status != ReconcileRunStatus.RUNNING:
        return run
    try:
        _, reader = _reader(run.company)
    except ReconciliationError as error:
        run.status = ReconcileRunStatus.FAILED
        run.error = error.message
        run.finished_at = now
        run.save()
        return run
    try:
        return reconciliation_run(
            run.company,
            date_from=run.period_from,
            date_to=run.period_to,
            incremental=run.incremental,
            reader=reader,
            now=now,
            run=run,
            attempt=attempt,
        )
    except Exception:
        # Not left "running" for ever: the page says it failed; the log has the rest.
        ReconciliationRun.objects.filter(pk=run.pk).update(
            status=ReconcileRunStatus.FAILED,
            error="The reconciliation stopped on an unexpected error; start it again.",
            finished_at=now,
        )
        raise


# ------------------------------------------------------------------ reading runs


def reconciliation_runs(*, actor: Actor) -> QuerySet[ReconciliationRun]:
    require(actor, Permission.VIEW)
    return ReconciliationRun.objects.filter(company=actor.company).order_by("-started_at", "-id")


def reconciliation_run_get(*, actor: Actor, run_id: int) -> ReconciliationRun:
    require(actor, Permission.VIEW)
    run = ReconciliationRun.objects.filter(company=actor.company, pk=run_id).first()
    if run is None:
        raise NotFoundError("There is no such reconciliation in this company.")
    return run


def reconciliation_rows(
    *, actor: Actor, run_id: int, outcome: str | None = None
) -> QuerySet[ReconciliationRow]:
    """A run's rows; ``outcome`` one of ``ReconcileOutcome`` (open rows of that class),
    ``acknowledged``, ``open`` (every row that does not agree and is not
    acknowledged), or None for all."""
    run = reconciliation_run_get(actor=actor, run_id=run_id)
    rows = ReconciliationRow.objects.filter(run=run).select_related("acknowledgement")
    if not outcome:
        return rows.order_by("id")
    if outcome == ACKNOWLEDGED:
        return rows.filter(acknowledgement__isnull=False).order_by("id")
    if outcome == "open":
        return rows.filter(
            ~Q(outcome=ReconcileOutcome.AGREES), acknowledgement__isnull=True
        ).order_by("id")
    if outcome not in ReconcileOutcome.values:
        choices = ", ".join([*ReconcileOutcome.values, ACKNOWLEDGED, "open"])
        raise ReconciliationError(f"Unknown class; choose {choices}.", field="outcome")
    return rows.filter(outcome=outcome, acknowledgement__isnull=True).order_by("id")


def reconciliation_row_get(*, actor: Actor, row_id: int) -> ReconciliationRow:
    require(actor, Permission.VIEW)
    row = (
        ReconciliationRow.objects.select_related("run", "acknowledgement")
        .filter(company=actor.company, pk=row_id)
        .first()
    )
    if row is None:
        raise NotFoundError("There is no such reconciliation row in this company.")
    return row


# ------------------------------------------------------------------ acknowledging


def _recount(run: ReconciliationRun) -> None:
    rows = ReconciliationRow.objects.filter(run=run).values_list("outcome", "acknowledgement_id")
    run.counts = _counts((outcome, ack is not None) for outcome, ack in rows)
    run.save(update_fields=["counts"])


def _target(row: ReconciliationRow) -> str:
    label = DocumentType(row.type).label if row.type in DocumentType.values else row.type
    return f"{label} {row.number or row.external_id}"


def reconciliation_acknowledge(
    row: ReconciliationRow, *, reason: str, actor: Actor, now: dt.datetime
) -> ReconciliationRow:
    """A person accepts a row that does not agree, with a reason (audited). Later
    runs keep it while the outcome and the differences stay the same."""
    require(actor, Permission.WORK_DOCUMENTS)
    if row.company_id != actor.company.pk:
        raise NotFoundError("There is no such reconciliation row in this company.")
    reason = reason.strip()
    if not reason:
        raise ReconciliationError("Say why this is acceptable.", field="reason")
    if len(reason) > 2000:
        raise ReconciliationError("Keep the reason under 2,000 characters.", field="reason")
    if row.outcome == ReconcileOutcome.AGREES:
        raise ReconciliationError("This document agrees; there is nothing to acknowledge.")
    with transaction.atomic():
        row = ReconciliationRow.objects.select_for_update().select_related("run").get(pk=row.pk)
        if row.acknowledgement_id is not None:
            raise ReconciliationError("This row is acknowledged already.")
        ack = ReconciliationAcknowledgement.objects.create(
            company_id=row.company_id,
            document_id=row.document_id,
            external_id=row.external_id,
            outcome=row.outcome,
            differences=row.differences,
            reason=reason,
            by=actor.user,
            by_label=actor.name,
            at=now,
        )
        row.acknowledgement = ack
        row.save(update_fields=["acknowledgement"])
        run = ReconciliationRun.objects.select_for_update().get(pk=row.run_id)
        _recount(run)
        row.run = run
        audit_record(
            actor=actor,
            company=actor.company,
            action="reconciliation acknowledged",
            target=_target(row),
            changes={
                "outcome": row.outcome,
                "differences": row.differences,
                "reason": reason,
                "external_id": row.external_id,
                "run_id": row.run_id,
            },
            now=now,
        )
    return row


# ------------------------------------------------------------------ acting


def reconciliation_act(
    row: ReconciliationRow,
    action: str,
    *,
    actor: Actor,
    now: dt.datetime,
    reader: BooksReader | None = None,
) -> ReconciliationRow:
    """Do a safe action on a row and return it as it stands after:

    - ``post``: a document missing in the package that was never posted is queued
      for posting, through its "Post to" task as any other;
    - ``recheck``: read that one document from the package again and re-plan its row;
    - ``link``: a document entered in the package by hand with our number, contact
      and total becomes our document's copy there (recorded as posted, never sent);
    - ``credit`` and ``post_again``: the choices for one of ours voided or deleted
      in the package (``document_gone_credit``, ``document_post_again``).

    Anything else is refused with the reason.
    """
    require(actor, Permission.WORK_DOCUMENTS)
    if row.company_id != actor.company.pk:
        raise NotFoundError("There is no such reconciliation row in this company.")
    if action not in ACTIONS:
        raise ReconciliationError(f"Unknown action; choose {', '.join(ACTIONS)}.", field="action")
    if action == "post":
        return _post(row, actor=actor, now=now)
    if action in ("credit", "post_again"):
        return _gone_act(row, action, actor=actor, now=now)
    if reader is None:
        reader = _reader(actor.company)[1]
        assert reader is not None
    if action == "recheck":
        return _recheck(row, actor=actor, now=now, reader=reader)
    return _link(row, actor=actor, now=now, reader=reader)


def _post(row: ReconciliationRow, *, actor: Actor, now: dt.datetime) -> ReconciliationRow:
    from .services import documents_send

    package = company_package_name(row.company_id)
    if row.outcome != ReconcileOutcome.MISSING or row.document_id is None:
        raise ReconciliationError(f"Only a document missing in {package} can be posted from here.")
    record = SyncRecord.objects.filter(document_id=row.document_id).first()
    if record is not None and record.status == SyncStatus.POSTED:
        raise ReconciliationError(
            f"This document was posted and is no longer in {package}; posting it again "
            "could put it there twice. Credit it in the TMS, or acknowledge it with a reason."
        )
    if record is not None and record.status in (SyncStatus.PENDING, SyncStatus.POSTING):
        raise ReconciliationError("This document is already on its way.")
    if not documents_send(actor=actor, document_ids=[row.document_id]):
        raise ReconciliationError(
            f"This document has no open “Post to {package}” task (it may be in an import "
            "file); it cannot be posted from here."
        )
    audit_record(
        actor=actor,
        company=actor.company,
        action="reconciliation: document posted",
        target=_target(row),
        changes={"run_id": row.run_id, "row_id": row.pk},
        now=now,
    )
    return row


def _replan(
    row: ReconciliationRow, *, reader: BooksReader, now: dt.datetime
) -> tuple[Ours | None, RemoteDocument | None]:
    ours = None
    if row.document_id is not None:
        document = _ours_query(row.company).filter(pk=row.document_id).first()
        ours = _ours_of(document, _credited(row.company)) if document is not None else None
    external_id = ours.external_id if ours is not None and ours.posted else row.external_id
    remote = None
    if external_id:
        meter = ReadMeter()
        found = reader.documents_detail(row.company, [external_id], meter=meter)
        remote = found[0] if found else None
    return ours, remote


def _recheck(
    row: ReconciliationRow, *, actor: Actor, now: dt.datetime, reader: BooksReader
) -> ReconciliationRow:
    try:
        ours, remote = _replan(row, reader=reader, now=now)
    except ConnectorError as error:
        raise ReconciliationError(f"The package could not be read: {error.message}") from error
    if ours is None and remote is None:
        raise ReconciliationError("Neither the TMS nor the package holds this document any more.")
    matched = (
        ours is not None
        and remote is not None
        and not ours.posted
        and row.outcome == ReconcileOutcome.ONLY_IN_PACKAGE
    )
    planned = reconciliation_plan(ours, remote, matched_by_number=matched)
    _Acknowledgements.of(row.company).apply(planned)
    with transaction.atomic():
        row.outcome = planned.outcome
        row.external_id = planned.external_id
        row.number = planned.number
        row.contact_name = planned.contact_name
        row.currency = planned.currency
        row.ours, row.theirs, row.differences = planned.ours, planned.theirs, planned.differences
        row.acknowledgement_id = planned.acknowledgement_id
        row.save()
        _recount(ReconciliationRun.objects.select_for_update().get(pk=row.run_id))
    return row


def _link(
    row: ReconciliationRow, *, actor: Actor, now: dt.datetime, reader: BooksReader
) -> ReconciliationRow:
    package = company_package_name(row.company_id)
    if row.outcome != ReconcileOutcome.ONLY_IN_PACKAGE or row.document_id is None:
        raise ReconciliationError(
            f"Only a document entered in {package} that matches one of ours can be linked."
        )
    try:
        ours, remote = _replan(row, reader=reader, now=now)
    except ConnectorError as error:
        raise ReconciliationError(f"The package could not be read: {error.message}") from error
    if ours is None or remote is None or remote.status in GONE:
        raise ReconciliationError(f"The document is no longer in {package}; nothing to link.")
    if ours.posted:
        raise ReconciliationError(
            f"Our document is posted to {package} already; linking would give it two copies."
        )
    if ours.sync_status in (SyncStatus.PENDING, SyncStatus.POSTING):
        raise ReconciliationError(
            "Our document is on its way to the package; wait for it, then check again."
        )
    if (
        remote.type != ours.type
        or remote.number.casefold() != ours.package_number.casefold()
        or _money(remote.fingerprint.gross) != _money(ours.gross)
    ):
        raise ReconciliationError(
            f"The document in {package} does not have our number and total; linking it "
            "would hide a difference. Acknowledge it with a reason instead."
        )
    with transaction.atomic():
        record, _ = SyncRecord.objects.select_for_update().get_or_create(
            document_id=ours.document_id, defaults={"company_id": row.company_id}
        )
        record.status = SyncStatus.POSTED
        record.external_id = remote.external_id
        record.external_number = remote.number
        record.external_url = remote.url
        record.external_total = remote.fingerprint.gross
        record.external_tax = remote.fingerprint.tax
        record.posted_at = now
        record.request_key = ""
        record.next_attempt_at = None
        record.message = f"Linked to the document entered in {package}; not sent from the TMS."
        record.problems = []
        record.duplicate_url = ""
        # What the package holds now is what it should keep from here on.
        record.fingerprint = remote.fingerprint.to_json() if remote.lines_read else None
        # Its PDF and allocation are the package user's business: nothing is sent.
        record.attachment_status = StepStatus.SKIPPED
        record.allocation_status = StepStatus.NOT_NEEDED
        record.save()
        from .workflow import post_tasks_follow

        post_tasks_follow([record])
        audit_record(
            actor=actor,
            company=actor.company,
            action="reconciliation: document linked",
            target=_target(row),
            changes={"external_id": remote.external_id, "number": remote.number},
            now=now,
        )
    ours = replace(
        ours,
        sync_status=SyncStatus.POSTED,
        external_id=remote.external_id,
        posted_at=now,
        sent=DocumentFingerprint.from_json(record.fingerprint) if record.fingerprint else None,
    )
    planned = reconciliation_plan(ours, remote)
    with transaction.atomic():
        row.outcome = planned.outcome
        row.ours, row.theirs, row.differences = planned.ours, planned.theirs, planned.differences
        row.acknowledgement_id = None
        row.save()
        _recount(ReconciliationRun.objects.select_for_update().get(pk=row.run_id))
    return row


# ------------------------------------------------------------------ what a row allows


@dataclass(frozen=True)
class RowAction:
    """One choice a person has on a row or a document: its key and its words."""

    action: str
    label: str
    # What the button says before acting (empty: acts at once).
    confirm: str = ""


@dataclass(frozen=True)
class AllowedActions:
    """The choices offered, and those not offered with why, in words."""

    actions: tuple[RowAction, ...] = ()
    not_offered: tuple[str, ...] = ()

    def __contains__(self, action: object) -> bool:
        return any(a.action == action for a in self.actions)

    @property
    def buttons(self) -> tuple[RowAction, ...]:
        """The choices that are one click (acknowledging asks for a reason instead)."""
        return tuple(a for a in self.actions if a.action != "acknowledge")


def row_gone(row: ReconciliationRow) -> str:
    """ "voided" or "deleted" when the row is one of ours that the package no longer
    counts; "" otherwise. A posted document the package no longer returns at all
    was deleted there."""
    if row.document_id is None or row.outcome not in (
        ReconcileOutcome.MISSING,
        ReconcileOutcome.STATUS_DIFFERS,
    ):
        return ""
    theirs = str((row.theirs or {}).get("status", ""))
    ours = str((row.ours or {}).get("status", ""))
    if theirs in GONE:
        return theirs
    if row.outcome == ReconcileOutcome.MISSING and row.external_id:
        return ours if ours in GONE else "deleted"
    return ""


def _credit_notes_of(document_id: int) -> list[Document]:
    return list(
        Document.objects.filter(original_id=document_id).order_by("id").only("id", "number")
    )


def gone_choices(
    *, document_id: int, document_type: str, package: str, gone: str
) -> AllowedActions:
    """What a person may do with one of ours voided or deleted in the package: credit
    it in the TMS (an invoice with nothing credited yet), post it again (where the
    package takes its number a second time), or acknowledge it."""
    name = package_name(package)
    actions: list[RowAction] = []
    not_offered: list[str] = []
    if document_type in CREDIT_NOTE_FOR:
        existing = _credit_notes_of(document_id)
        if existing:
            numbers = ", ".join(d.number or "a draft" for d in existing)
            not_offered.append(
                f"Crediting it is not offered: it has a credit note already ({numbers})."
            )
        else:
            actions.append(
                RowAction(
                    "credit",
                    "Credit it in the TMS",
                    confirm="Draft a credit note for the whole document? You check and "
                    f"finalise it as usual; it is not sent to {name}, which has {gone} it.",
                )
            )
    refused = number_reuse_refused(package, document_type)
    if refused:
        not_offered.append(f"Posting it again is not offered: {refused}")
    else:
        actions.append(
            RowAction(
                "post_again",
                f"Post again to {name}",
                confirm=f"Post it to {name} again, as a new copy with the same number?",
            )
        )
    actions.append(RowAction("acknowledge", "Acknowledge…"))
    return AllowedActions(tuple(actions), tuple(not_offered))


def reconciliation_row_actions(row: ReconciliationRow, *, package: str) -> AllowedActions:
    """The actions a row offers — the one place the rule lives, for the page and for
    refusing a form sent for an action no longer offered. ``package``: the company's
    package (``AccountingSettings.package``)."""
    if row.outcome == ReconcileOutcome.AGREES or row.acknowledgement_id is not None:
        return AllowedActions()
    name = package_name(package)
    acknowledge = RowAction("acknowledge", "Acknowledge…")
    gone = row_gone(row)
    if gone:
        assert row.document_id is not None
        choices = gone_choices(
            document_id=row.document_id, document_type=row.type, package=package, gone=gone
        )
        recheck = (
            (RowAction("recheck", "Check again"),)
            if row.outcome != ReconcileOutcome.MISSING
            else ()
        )
        return replace(choices, actions=recheck + choices.actions)
    if row.outcome == ReconcileOutcome.MISSING and row.document_id and not row.external_id:
        from .workflow import credit_note_kept_out

        if (row.ours or {}).get("status") in (SyncStatus.PENDING, SyncStatus.POSTING):
            return AllowedActions((acknowledge,))
        document = Document.objects.filter(pk=row.document_id).first()
        if document is not None and credit_note_kept_out(document):
            return AllowedActions(
                (acknowledge,),
                (
                    f"Posting it is not offered: the invoice it corrects is voided or "
                    f"deleted in {name}, which leaves the invoice out of its books already.",
                ),
            )
        return AllowedActions((RowAction("post", f"Post to {name}"), acknowledge))
    if row.outcome in (ReconcileOutcome.DIFFERS, ReconcileOutcome.STATUS_DIFFERS):
        return AllowedActions((RowAction("recheck", "Check again"), acknowledge))
    if row.outcome == ReconcileOutcome.ONLY_IN_PACKAGE and row.document_id:
        return AllowedActions((RowAction("link", "Link to ours"), acknowledge))
    return AllowedActions((acknowledge,))


def document_gone(record: SyncRecord | None) -> str:
    """ "voided" or "deleted" when the package says so of this posted document, by its
    payment state or by the latest reconciliation of it; "" otherwise."""
    if record is None or record.status != SyncStatus.POSTED:
        return ""
    payment = PaymentState.objects.filter(record=record).values_list("status", flat=True).first()
    if payment in GONE:
        return str(payment)
    latest = (
        ReconciliationRow.objects.filter(document_id=record.document_id)
        .order_by("-run__started_at", "-id")
        .first()
    )
    if latest is not None and latest.external_id.lower() == record.external_id.lower():
        return row_gone(latest)
    return ""


def document_gone_actions(document: Document, *, actor: Actor) -> AllowedActions:
    """The choices the document page offers for one of ours voided or deleted in the
    package (none to a reader who may not work documents, when it is not gone, or
    when a person acknowledged its latest reconciliation row, as on the page)."""
    if not actor.can(Permission.WORK_DOCUMENTS):
        return AllowedActions()
    record = SyncRecord.objects.filter(document=document).first()
    gone = document_gone(record)
    if not gone:
        return AllowedActions()
    latest = (
        ReconciliationRow.objects.filter(document_id=document.pk)
        .order_by("-run__started_at", "-id")
        .values_list("acknowledgement_id", flat=True)
        .first()
    )
    if latest is not None:
        return AllowedActions()
    package, _ = _reader(actor.company, required=False)
    return gone_choices(
        document_id=document.pk, document_type=document.type, package=package, gone=gone
    )


# ------------------------------------------------------------------ voided or deleted there


def _gone_record(actor: Actor, document_id: int) -> tuple[SyncRecord, str, str]:
    """The posted record of one of the actor's documents gone from the package, locked."""
    record = (
        SyncRecord.objects.select_for_update()
        .select_related("document")
        .filter(company=actor.company, document_id=document_id)
        .first()
    )
    if record is None:
        raise NotFoundError("There is no such posted document in this company.")
    package, _ = _reader(actor.company, required=False)
    gone = document_gone(record)
    if not gone:
        raise ReconciliationError(
            f"{record.document} is not voided or deleted in {package_name(package)}: "
            "there is nothing to put right."
        )
    return record, gone, package


def document_gone_credit(*, actor: Actor, document_id: int, now: dt.datetime) -> Document:
    """Credit in the TMS the whole of an invoice voided or deleted in the package: a
    draft credit note linked to it, which a person checks and finalises as usual.
    It is not sent to the package (``credit_note_kept_out``): the package left the
    invoice out of its books already."""
    from ledgerbridge.invoicing.services import credit_note_create_from_invoice

    require(actor, Permission.WORK_DOCUMENTS)
    with transaction.atomic():
        record, gone, package = _gone_record(actor, document_id)
        document = record.document
        if "credit" not in gone_choices(
            document_id=document.pk, document_type=document.type, package=package, gone=gone
        ):
            raise ReconciliationError(
                f"{document} cannot be credited from here: only an invoice with no credit "
                "note yet can."
            )
        name = package_name(package)
        credit_note = credit_note_create_from_invoice(
            actor=actor,
            invoice_id=document.pk,
            issue_date=timezone.localdate(now),
            reference=f"Credit for {document.number}, {gone} in {name}"[:100],
        )
        audit_record(
            actor=actor,
            company=actor.company,
            action="document gone from accounting package: credit note drafted",
            target=f"{document.get_type_display()} {document.display_number}",
            changes={
                "gone": gone,
                "external_id": record.external_id,
                "credit_note_id": credit_note.pk,
            },
            now=now,
        )
    return credit_note


def document_post_again(*, actor: Actor, document_id: int, now: dt.datetime) -> SyncRecord:
    """Post again one of ours voided or deleted in the package, where the package takes
    its number a second time: the outbox record starts over as ``pending`` (a new
    request key, its attempt history kept), and the copy it replaces is kept in the
    audit log and the attempt history."""
    from .outbox import wake
    from .workflow import post_tasks_follow

    require(actor, Permission.WORK_DOCUMENTS)
    with transaction.atomic():
        record, gone, package = _gone_record(actor, document_id)
        document = record.document
        name = package_name(package)
        refused = number_reuse_refused(package, document.type)
        if refused:
            raise ReconciliationError(f"{document} cannot be posted again: {refused}")
        old = {
            "external_id": record.external_id,
            "external_number": record.external_number,
            "external_url": record.external_url,
            "posted_at": record.posted_at.isoformat() if record.posted_at else None,
            "gone": gone,
            "attempts": record.attempts,
        }
        SyncAttempt.objects.create(
            record=record,
            at=now,
            action="post_again",
            outcome="ok",
            message=f"Posting again by {actor.name}: the copy {record.external_number or ''} "
            f"({record.external_id}) was {gone} in {name}.",
        )
        # The payment state and changes seen were the old copy's.
        PaymentState.objects.filter(record=record).delete()
        record.status = SyncStatus.PENDING
        record.external_id = ""
        record.external_number = ""
        record.external_url = ""
        record.external_total = None
        record.external_tax = None
        record.posted_at = None
        record.request_key = ""
        record.next_attempt_at = None
        record.wanted_at = now
        record.message = f"Posting again: the earlier copy was {gone} in {name}."
        record.problems = []
        record.duplicate_url = ""
        record.fingerprint = None
        record.attachment_status = StepStatus.PENDING
        record.attachment_message = ""
        record.allocation_status = (
            StepStatus.WAITING if document.original_id else StepStatus.NOT_NEEDED
        )
        record.allocation_message = ""
        record.save()
        post_tasks_follow([record])
        audit_record(
            actor=actor,
            company=actor.company,
            action="document posted again to accounting package",
            target=f"{document.get_type_display()} {document.display_number}",
            changes=old,
            now=now,
        )
        company_id = actor.company.pk
        transaction.on_commit(lambda: wake(company_id))
    return record


def _gone_act(
    row: ReconciliationRow, action: str, *, actor: Actor, now: dt.datetime
) -> ReconciliationRow:
    if row.document_id is None or not row_gone(row):
        package = company_package_name(row.company_id)
        raise ReconciliationError(
            f"Only one of our documents voided or deleted in {package} can be credited or "
            "posted again from here."
        )
    if action == "credit":
        document_gone_credit(actor=actor, document_id=row.document_id, now=now)
        return row
    record = document_post_again(actor=actor, document_id=row.document_id, now=now)
    # The row speaks of the copy that is gone; until the next run it says what happens.
    with transaction.atomic():
        row.outcome = ReconcileOutcome.MISSING
        row.external_id = ""
        row.ours = {**(row.ours or {}), "status": record.status}
        row.differences = ["not posted yet: on its way to the package again"]
        row.save(update_fields=["outcome", "external_id", "ours", "differences"])
        _recount(ReconciliationRun.objects.select_for_update().get(pk=row.run_id))
    return row
