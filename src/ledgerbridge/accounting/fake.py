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

Tests put it in place of an adapter with ``connector_registered``; it keeps
each company's books apart, as a package keeps organisations apart.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ledgerbridge.companies.models import Company
from ledgerbridge.invoicing.models import Document, supplier_reference_key
from ledgerbridge.invoicing.money import format_money

from .connector import (
    AllocationOutcome,
    ConnectorError,
    ExternalDocument,
    NotLinked,
    PausedUntil,
    PostOutcome,
    Problem,
    Rejected,
    TryLater,
)
from .models import SyncRecord

OPERATIONS = ("find", "post", "attach", "allocate")


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

    def as_external(self) -> ExternalDocument:
        return ExternalDocument(
            external_id=self.external_id,
            number=self.number,
            url=self.url,
            total=self.total,
            tax=self.tax,
        )


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
    ) -> HeldDocument:
        """A document a user of the package entered there by hand."""
        held = self._hold(
            company, type=type, number=number, partner_id=partner_id, total=total, tax=Decimal(0)
        )
        held.entered = True
        held.amount_due = total if amount_due is None else amount_due
        return held

    def record_payment(self, company: Company, external_id: str) -> None:
        """The document is paid in full in the package."""
        self.books[company.pk][external_id].amount_due = Decimal("0")

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
        )
        self.books[company.pk][external_id] = held
        return held

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
            outcome = AllocationOutcome(allocated=amount, note=_note(amount, credit_note, invoice))
        if failure is not None:
            raise failure.error
        return outcome


def _note(amount: Decimal, credit_note: SyncRecord, invoice: SyncRecord) -> str:
    if amount == credit_note.document.gross_total:
        return ""
    return (
        f"Allocated {format_money(amount, credit_note.document.currency)} (what was left to "
        f"pay on {invoice.external_number}); the rest stays as credit."
    )
