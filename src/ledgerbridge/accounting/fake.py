"""A fake accounting package behind the port, for fast tests of the outbox.

``FakeConnector`` behaves like a package rather than answering from a script of
return values: it keeps every document it was sent under an id of its own,
``find`` finds them by our number as a package would, attachments and
allocations land on the documents it holds, and a request key it has seen is
answered as before (the package's idempotency). Every call is recorded in
``calls``.

It is scriptable with the failures the outbox must survive, each for the next
``times`` calls of one operation (``find``, ``post``, ``attach``, ``allocate``):

- ``refuse(number, problem)``: that document comes back refused, with the problem
  (a per-item refusal; the rest of the batch goes in);
- ``try_later(...)``: a passing failure, before acting (``TryLater``), with or
  without a retry-after, ``maybe_sent`` as the adapter would say it;
- ``lose_answer(...)``: the package acts, then the answer is lost
  (``TryLater(maybe_sent=True)``), so the outbox must settle it by lookup;
- ``pause(until)`` / ``resume()``: the daily allowance is used up (``PausedUntil``);
- ``unlink(message)`` / ``link()``: the company's link is not usable (``NotLinked``).

The last two hold for every call until undone.

It is also a ``BooksReader`` (reconciliation and going live): it reads its books
back in pages (``documents_read``, ``page_size`` documents per call, as summaries
or with their lines), in detail (``documents_detail``, ``detail_size`` per call)
and its contacts, and
meters calls and bytes as an adapter would. A user of the package can be
simulated: ``edit`` a header, ``edit_line``, ``void``, ``delete``,
``record_payment``, and ``enter`` a document by hand. Each stamps the document's
``updated_at`` with ``clock()`` (``timezone.now`` unless a test sets it).

Tests put it in place of an adapter with ``connector_registered``; it keeps
each company's books apart, as a package keeps organisations apart.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.utils import timezone

from ledgerbridge.companies.models import Company
from ledgerbridge.invoicing.models import Document, Partner, supplier_reference_key
from ledgerbridge.invoicing.money import format_money

from .connector import (
    AllocationOutcome,
    ConnectorError,
    ExternalDocument,
    NotLinked,
    PausedUntil,
    PostOutcome,
    Problem,
    ReadMeter,
    Rejected,
    RemoteContact,
    RemoteDocument,
    TryLater,
)
from .fingerprint import DocumentFingerprint, FingerprintLine
from .models import SyncRecord

OPERATIONS = (
    "find",
    "post",
    "attach",
    "allocate",
    "documents_read",
    "documents_detail",
    "contacts_read",
)
GONE = ("voided", "deleted")


@dataclass
class HeldDocument:
    """A document as the fake package holds it."""

    external_id: str
    type: str
    number: str
    partner_id: int
    total: Decimal
    tax: Decimal
    url: str
    # Not posted by us: entered in the package by one of its users.
    entered: bool = False
    amount_due: Decimal = Decimal("0")
    attachments: list[str] = field(default_factory=list)
    # Credit note id -> amount applied (on invoices).
    credits: dict[str, Decimal] = field(default_factory=dict)
    # What reconciliation reads back: the header and lines as the package keeps
    # them (amounts to the cent), its status and when it last changed.
    contact_id: str = ""
    contact_name: str = ""
    currency: str = "GBP"
    date: dt.date | None = None
    due_date: dt.date | None = None
    reference: str = ""
    lines: tuple[FingerprintLine, ...] = ()
    status: str = "authorised"
    updated_at: dt.datetime | None = None
    # What we sent (posting only): kept by the outbox as the record's fingerprint.
    sent: DocumentFingerprint | None = None

    @property
    def net(self) -> Decimal:
        return self.total - self.tax

    def as_external(self) -> ExternalDocument:
        return ExternalDocument(
            external_id=self.external_id,
            number=self.number,
            url=self.url,
            total=self.total,
            tax=self.tax,
            fingerprint=self.sent,
        )

    def fingerprint(self, *, lines: bool) -> DocumentFingerprint:
        return DocumentFingerprint(
            contact_id=self.contact_id,
            contact_name=self.contact_name,
            currency=self.currency,
            date=self.date,
            due_date=self.due_date,
            reference=self.reference,
            net=self.net,
            tax=self.tax,
            gross=self.total,
            lines=self.lines if lines else (),
        )

    def as_remote(self, *, lines: bool) -> RemoteDocument:
        return RemoteDocument(
            external_id=self.external_id,
            type=self.type,
            number=self.number,
            contact_id=self.contact_id,
            contact_name=self.contact_name,
            status=self.status,
            fingerprint=self.fingerprint(lines=lines),
            lines_read=lines,
            amount_due=self.amount_due,
            updated_at=self.updated_at,
            url=self.url,
        )


def fake_contact_id(partner_id: int) -> str:
    """The id the fake package gives a partner's contact (one per partner)."""
    return f"contact-{partner_id}"


def _size(remote: RemoteDocument) -> int:
    """Bytes of a document as a package would send it (its JSON, roughly)."""
    return len(json.dumps({**remote.fingerprint.to_json(), "number": remote.number}))


@dataclass(frozen=True)
class Call:
    """One call the outbox made: the operation, the company, the records it named."""

    operation: str
    company_id: int
    record_ids: tuple[int, ...]
    request_key: str = ""
    interactive: bool = False


@dataclass
class _Failure:
    error: ConnectorError
    times: int
    # Act first, then raise (an answer lost on the way back).
    after_acting: bool = False


def package_number(document: Document) -> str:
    """The number the package knows a document by: ours for sales documents, the
    supplier's for purchase ones (as the Xero adapter sends them)."""
    return document.number if document.is_sales else document.supplier_reference


class FakeConnector:
    """An accounting package in memory; see the module's docstring."""

    def __init__(self, *, batch_size: int = 50) -> None:
        self.batch_size = batch_size
        # Reading: documents per summary page and per detail call.
        self.page_size = 1000
        self.detail_size = 100
        self.clock: Callable[[], dt.datetime] = timezone.now
        self.contacts: dict[int, dict[str, RemoteContact]] = defaultdict(dict)
        self.calls: list[Call] = []
        # company id -> external id -> document
        self.books: dict[int, dict[str, HeldDocument]] = defaultdict(dict)
        self._ids = itertools.count(1)
        self._failures: dict[str, list[_Failure]] = defaultdict(list)
        self._refusals: dict[str, list[Problem]] = {}
        self._answers: dict[str, list[PostOutcome]] = {}
        self._not_linked = ""
        self._paused: dt.datetime | None = None

    # -- scripting ---------------------------------------------------------------------
    def refuse(self, number: str, *problems: Problem) -> None:
        """Refuse the document with this number (our number, or the supplier's) until
        ``accept``; the problems say why (one of kind ``other`` if none given)."""
        self._refusals[number] = list(problems) or [
            Problem(kind="other", detail="The package refused it.")
        ]

    def accept(self, number: str) -> None:
        self._refusals.pop(number, None)

    def try_later(
        self,
        operation: str = "post",
        *,
        times: int = 1,
        retry_after: float | None = None,
        maybe_sent: bool = False,
        message: str = "The package is not answering.",
    ) -> None:
        """The next ``times`` calls of ``operation`` fail before the package acts."""
        error = TryLater(message, retry_after=retry_after, maybe_sent=maybe_sent)
        self._script(operation, _Failure(error, times))

    def lose_answer(
        self, operation: str = "post", *, times: int = 1, message: str = "The answer was lost."
    ) -> None:
        """The next ``times`` calls of ``operation`` act, then their answer is lost."""
        error = TryLater(message, maybe_sent=True)
        self._script(operation, _Failure(error, times, after_acting=True))

    def pause(self, until: dt.datetime) -> None:
        """The daily allowance is used up: every call is refused until ``resume``."""
        self._paused = until

    def resume(self) -> None:
        self._paused = None

    def unlink(self, message: str = "The company is not connected to the package.") -> None:
        self._not_linked = message

    def link(self) -> None:
        self._not_linked = ""

    def enter(
        self,
        company: Company,
        *,
        type: str,
        number: str,
        partner_id: int,
        total: Decimal,
        amount_due: Decimal | None = None,
        tax: Decimal = Decimal("0"),
        date: dt.date | None = None,
        contact_id: str | None = None,
        contact_name: str = "",
        currency: str = "GBP",
        account_code: str = "200",
        tax_type: str = "OUTPUT2",
    ) -> HeldDocument:
        """A document a user of the package entered there by hand (one line), for
        the partner's contact unless ``contact_id`` names another."""
        held = self._hold(
            company, type=type, number=number, partner_id=partner_id, total=total, tax=tax
        )
        held.entered = True
        held.amount_due = total if amount_due is None else amount_due
        held.contact_id = fake_contact_id(partner_id) if contact_id is None else contact_id
        held.contact_name = (
            contact_name
            or self._contact_name(company, held.contact_id)
            or Partner.objects.filter(pk=partner_id).values_list("name", flat=True).first()
            or ""
        )
        held.currency = currency
        held.date = date or self.clock().date()
        held.due_date = held.date + dt.timedelta(days=30)
        held.lines = (FingerprintLine(account_code, tax_type, total - tax),)
        return held

    def record_payment(
        self, company: Company, external_id: str, *, at: dt.datetime | None = None
    ) -> None:
        """The document is paid in full in the package."""
        held = self.books[company.pk][external_id]
        held.amount_due = Decimal("0")
        held.status = "paid"
        held.updated_at = at or self.clock()

    def edit(
        self,
        company: Company,
        external_id: str,
        *,
        at: dt.datetime | None = None,
        **header: object,
    ) -> HeldDocument:
        """A user of the package changes the header: ``reference``, ``date``,
        ``due_date``, ``currency``, ``contact_id`` (and ``contact_name``), ``number``."""
        held = self.books[company.pk][external_id]
        allowed = {"reference", "date", "due_date", "currency", "contact_id", "contact_name"}
        allowed.add("number")
        unknown = set(header) - allowed
        if unknown:
            raise ValueError(f"not a header field: {sorted(unknown)[0]}")
        for name, value in header.items():
            setattr(held, name, value)
        held.updated_at = at or self.clock()
        return held

    def edit_line(
        self,
        company: Company,
        external_id: str,
        index: int = 0,
        *,
        account_code: str | None = None,
        tax_type: str | None = None,
        amount: Decimal | None = None,
        tracking: tuple[tuple[str, str], ...] | None = None,
        at: dt.datetime | None = None,
    ) -> HeldDocument:
        """A user of the package changes one line; a new amount changes the totals
        (the tax stays as it was)."""
        held = self.books[company.pk][external_id]
        lines = list(held.lines)
        line = lines[index]
        if amount is not None:
            held.total += amount - line.amount
            held.amount_due += amount - line.amount
        lines[index] = replace(
            line,
            account_code=line.account_code if account_code is None else account_code,
            tax_type=line.tax_type if tax_type is None else tax_type,
            amount=line.amount if amount is None else amount,
            tracking=line.tracking if tracking is None else tuple(sorted(tracking)),
        )
        held.lines = tuple(lines)
        held.updated_at = at or self.clock()
        return held

    def void(self, company: Company, external_id: str, *, at: dt.datetime | None = None) -> None:
        """A user of the package voids the document."""
        self._gone(company, external_id, "voided", at)

    def delete(self, company: Company, external_id: str, *, at: dt.datetime | None = None) -> None:
        """A user of the package deletes the document (it is still read, as deleted)."""
        self._gone(company, external_id, "deleted", at)

    def forget(self, company: Company, external_id: str) -> None:
        """The document is no longer in the package at all (not even as deleted)."""
        del self.books[company.pk][external_id]

    def _gone(
        self, company: Company, external_id: str, status: str, at: dt.datetime | None
    ) -> None:
        held = self.books[company.pk][external_id]
        held.status = status
        held.amount_due = Decimal("0")
        held.updated_at = at or self.clock()

    def _contact_name(self, company: Company, contact_id: str) -> str:
        contact = self.contacts[company.pk].get(contact_id)
        return contact.name if contact else ""

    def holds(self, company: Company) -> list[HeldDocument]:
        """What the package holds for the company, in the order it got it."""
        return list(self.books[company.pk].values())

    def numbers(self, company: Company) -> list[str]:
        """The numbers of the documents we posted, sorted (one per posting)."""
        return sorted(d.number for d in self.holds(company) if not d.entered)

    def calls_of(self, operation: str) -> list[Call]:
        return [c for c in self.calls if c.operation == operation]

    def _script(self, operation: str, failure: _Failure) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"no such operation: {operation}")
        self._failures[operation].append(failure)

    def _failure(self, operation: str) -> _Failure | None:
        """The failure scripted for this call, if any (counting it used)."""
        queue = self._failures[operation]
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _enter_call(self, call: Call) -> _Failure | None:
        """Record the call; raise what must be raised before acting."""
        self.calls.append(call)
        if self._not_linked:
            raise NotLinked(self._not_linked)
        if self._paused is not None:
            raise PausedUntil(
                f"The package's daily limit is used up; posting resumes at {self._paused:%H:%M}.",
                until=self._paused,
            )
        failure = self._failure(call.operation)
        if failure is not None and not failure.after_acting:
            raise failure.error
        return failure

    # -- the books ---------------------------------------------------------------------
    def _hold(
        self,
        company: Company,
        *,
        type: str,
        number: str,
        partner_id: int,
        total: Decimal,
        tax: Decimal,
    ) -> HeldDocument:
        external_id = f"fake-{company.pk}-{next(self._ids)}"
        held = HeldDocument(
            external_id=external_id,
            type=type,
            number=number,
            partner_id=partner_id,
            total=total,
            tax=tax,
            url=f"https://accounting.invalid/{company.pk}/{type}/{external_id}",
            amount_due=total,
            updated_at=self.clock(),
        )
        self.books[company.pk][external_id] = held
        return held

    def _copy_of(self, company: Company, held: HeldDocument, document: Document) -> None:
        """What the package keeps of a document we posted, and what we sent of it.

        We send line amounts to the cent, but what we keep of them (the quantity
        times the unit price, less the discount) may carry sub-cent figures: the
        package's copy is rounded, as a package rounds, and that is no change.
        """
        lines = []
        sent_lines = []
        for line in document.lines.select_related("nominal_code", "tax_rate").prefetch_related(
            "dimensions__dimension", "dimensions__value"
        ):
            tracking = tuple(
                sorted((ld.dimension.name, ld.value.name) for ld in line.dimensions.all())
            )
            exact = line.quantity * line.unit_price * (1 - line.discount_percent / 100)
            lines.append(
                FingerprintLine(
                    line.nominal_code.code, line.tax_rate.code, line.net_amount, tracking
                )
            )
            sent_lines.append(
                FingerprintLine(line.nominal_code.code, line.tax_rate.code, exact, tracking)
            )
        partner = document.partner
        held.contact_id = fake_contact_id(partner.pk)
        held.contact_name = partner.name
        self.contacts[company.pk][held.contact_id] = RemoteContact(
            external_id=held.contact_id,
            name=partner.name,
            contact_number=partner.number,
            tax_number=partner.vat_number,
        )
        held.currency = document.currency
        held.date = document.issue_date
        # Credit notes have no due date in a package (none is sent).
        held.due_date = None if document.is_credit_note else document.due_date
        held.reference = document.reference
        held.lines = tuple(lines)
        held.sent = replace(held.fingerprint(lines=True), lines=tuple(sent_lines))

    def _matches(self, held: HeldDocument, document: Document) -> bool:
        if held.type != document.type or held.number != package_number(document):
            return False
        # A supplier's number is not unique: the supplier and total must match too.
        return document.is_sales or (
            held.partner_id == document.partner_id and held.total == document.gross_total
        )

    def _duplicate(self, company: Company, document: Document) -> HeldDocument | None:
        """A purchase document a user entered under the same supplier and number."""
        if document.is_sales:
            return None
        key = document.supplier_reference_key
        for held in self.books[company.pk].values():
            if (
                held.entered
                and held.type == document.type
                and held.partner_id == document.partner_id
                and supplier_reference_key(held.number) == key
            ):
                return held
        return None

    # -- the port ----------------------------------------------------------------------
    def find(
        self, company: Company, records: Sequence[SyncRecord], *, interactive: bool = False
    ) -> dict[int, ExternalDocument]:
        self._enter_call(
            Call("find", company.pk, tuple(r.pk for r in records), interactive=interactive)
        )
        found: dict[int, ExternalDocument] = {}
        for record in records:
            for held in self.books[company.pk].values():
                if not held.entered and self._matches(held, record.document):
                    found[record.pk] = held.as_external()
                    break
        return found

    def post(
        self,
        company: Company,
        records: Sequence[SyncRecord],
        *,
        request_key: str,
        interactive: bool = False,
    ) -> list[PostOutcome]:
        failure = self._enter_call(
            Call(
                "post",
                company.pk,
                tuple(r.pk for r in records),
                request_key=request_key,
                interactive=interactive,
            )
        )
        if request_key in self._answers:  # the same request again: the same answer
            outcomes = self._answers[request_key]
        else:
            outcomes = [self._post_one(company, record) for record in records]
            self._answers[request_key] = outcomes
        if failure is not None:
            raise failure.error
        return list(outcomes)

    def _post_one(self, company: Company, record: SyncRecord) -> PostOutcome:
        document = record.document
        number = package_number(document)
        problems = self._refusals.get(number)
        if problems:
            return PostOutcome(
                record.pk,
                messages=[p.detail or f"The package refused {number}." for p in problems],
                problems=tuple(problems),
            )
        duplicate = None if record.allow_duplicate else self._duplicate(company, document)
        if duplicate is not None:
            return PostOutcome(
                record.pk,
                messages=[
                    f"Not posted: the package already holds {duplicate.number} from this "
                    f"supplier ({duplicate.url})."
                ],
                duplicate=duplicate.as_external(),
            )
        held = self._hold(
            company,
            type=document.type,
            number=number,
            partner_id=document.partner_id,
            total=document.gross_total,
            tax=document.tax_total,
        )
        self._copy_of(company, held, document)
        return PostOutcome(record.pk, posted=held.as_external())

    def attach(
        self, company: Company, record: SyncRecord, *, filename: str, content: bytes
    ) -> None:
        failure = self._enter_call(Call("attach", company.pk, (record.pk,)))
        held = self.books[company.pk].get(record.external_id)
        if held is None:
            raise Rejected("The package refused the PDF: it does not hold the document.")
        if filename not in held.attachments:
            held.attachments.append(filename)
        if failure is not None:
            raise failure.error

    def allocate(
        self, company: Company, credit_note: SyncRecord, invoice: SyncRecord, *, now: dt.datetime
    ) -> AllocationOutcome:
        failure = self._enter_call(Call("allocate", company.pk, (credit_note.pk, invoice.pk)))
        held = self.books[company.pk].get(invoice.external_id)
        if held is None:
            raise Rejected(
                "The invoice is no longer in the package; the credit note stays unallocated."
            )
        applied = held.credits.get(credit_note.external_id)
        if applied:  # allocated already (a retry after a lost answer)
            outcome = AllocationOutcome(
                allocated=applied, note=_note(applied, credit_note, invoice)
            )
        elif held.amount_due <= 0:
            outcome = AllocationOutcome(
                allocated=Decimal("0"),
                note=f"{invoice.external_number} is already paid in the package; the credit "
                "note stays unallocated.",
            )
        else:
            amount = min(credit_note.document.gross_total, held.amount_due)
            held.credits[credit_note.external_id] = amount
            held.amount_due -= amount
            # As a package does: a fully applied credit note, or invoice, is paid.
            credit = self.books[company.pk].get(credit_note.external_id)
            for touched in (held, credit):
                if touched is None:
                    continue
                if touched is credit:
                    touched.amount_due -= amount
                if touched.amount_due <= 0:
                    touched.status = "paid"
                touched.updated_at = self.clock()
            outcome = AllocationOutcome(allocated=amount, note=_note(amount, credit_note, invoice))
        if failure is not None:
            raise failure.error
        return outcome

    # -- the books, read back (BooksReader) --------------------------------------------
    def documents_read(
        self,
        company: Company,
        *,
        date_from: dt.date,
        date_to: dt.date,
        meter: ReadMeter,
        modified_since: dt.datetime | None = None,
        lines: bool = False,
    ) -> Iterator[RemoteDocument]:
        self._enter_call(Call("documents_read", company.pk, ()))
        found = [
            held.as_remote(lines=lines)
            for held in self.books[company.pk].values()
            if held.date is not None
            and date_from <= held.date <= date_to
            and (
                modified_since is None
                or (held.updated_at is not None and held.updated_at > modified_since)
            )
        ]
        # One call per page, the first one even when it comes back empty.
        meter.add(calls=max(1, -(-len(found) // self.page_size)), size=2)
        for remote in found:
            meter.add(calls=0, size=_size(remote))
        return iter(found)

    def documents_detail(
        self, company: Company, external_ids: Sequence[str], *, meter: ReadMeter
    ) -> list[RemoteDocument]:
        self._enter_call(Call("documents_detail", company.pk, ()))
        wanted = list(dict.fromkeys(external_ids))
        meter.add(calls=-(-len(wanted) // self.detail_size), size=0)
        found = []
        for external_id in wanted:
            held = self.books[company.pk].get(external_id)
            if held is not None:
                remote = held.as_remote(lines=True)
                meter.add(calls=0, size=_size(remote))
                found.append(remote)
        return found

    def contacts_read(self, company: Company, *, meter: ReadMeter) -> Iterator[RemoteContact]:
        self._enter_call(Call("contacts_read", company.pk, ()))
        contacts = list(self.contacts[company.pk].values())
        meter.add(calls=max(1, -(-len(contacts) // self.page_size)), size=100 * len(contacts))
        return iter(contacts)


def _note(amount: Decimal, credit_note: SyncRecord, invoice: SyncRecord) -> str:
    if amount == credit_note.document.gross_total:
        return ""
    return (
        f"Allocated {format_money(amount, credit_note.document.currency)} (what was left to "
        f"pay on {invoice.external_number}); the rest stays as credit."
    )
