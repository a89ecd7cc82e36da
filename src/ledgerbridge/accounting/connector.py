"""The port: what an accounting package adapter does for the outbox.

The outbox (``outbox.py``) owns the state of every document's journey; a
connector only talks to its package and reports back in these neutral types.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from ledgerbridge.companies.models import Company

from .fingerprint import DocumentFingerprint
from .models import SyncRecord


@dataclass(frozen=True)
class ExternalDocument:
    """A document as the package holds it."""

    external_id: str
    number: str
    url: str
    total: Decimal | None = None
    tax: Decimal | None = None
    # What the package should hold, from what was sent (posting only; a lookup
    # that settles an unknown outcome has none).
    fingerprint: DocumentFingerprint | None = None


@dataclass(frozen=True)
class Problem:
    """Why the package refused a document, as facts a page can explain per role.

    ``kind`` names what is wrong (account, account_archived, tax_rate,
    tracking_category, tracking_option, contact, currency, number, lock_date,
    other); ``code`` is our code or value, ``external_code`` what it became in
    the package, ``subject`` a name that goes with it, ``object_id`` our row
    (nominal code, tax rate, dimension, partner) and ``detail`` the package's
    own words.
    """

    kind: str
    code: str = ""
    external_code: str = ""
    subject: str = ""
    object_id: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class PostOutcome:
    record_id: int
    posted: ExternalDocument | None = None
    # Refused: in our words, one per problem; the facts behind them in ``problems``.
    messages: Sequence[str] = field(default_factory=tuple)
    # Not sent: the package already holds this supplier document (entered there).
    duplicate: ExternalDocument | None = None
    problems: Sequence[Problem] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.posted is not None


@dataclass(frozen=True)
class AllocationOutcome:
    allocated: Decimal
    note: str = ""


class ConnectorError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotLinked(ConnectorError):
    """The company's link to the package is not usable; a person must act."""


class TryLater(ConnectorError):
    """A passing problem (network, 5xx, rate limit). ``maybe_sent``: the package
    may have acted on the request, so its outcome must be settled by lookup."""

    def __init__(self, message: str, *, retry_after: float | None = None, maybe_sent: bool) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


class PausedUntil(ConnectorError):
    """The package's daily allowance is used up."""

    def __init__(self, message: str, *, until: dt.datetime) -> None:
        super().__init__(message)
        self.until = until


class Rejected(ConnectorError):
    """The package refused this item for good; a user has to fix the data."""


class AccountingConnector(Protocol):
    """``interactive``: a person is waiting for this (they retried the document),
    so its calls go ahead of the backlog's where the package limits calls."""

    batch_size: int

    def find(
        self, company: Company, records: Sequence[SyncRecord], *, interactive: bool = False
    ) -> dict[int, ExternalDocument]:
        """The documents the package already holds, by record id (to settle unknown outcomes)."""
        ...

    def post(
        self,
        company: Company,
        records: Sequence[SyncRecord],
        *,
        request_key: str,
        interactive: bool = False,
    ) -> list[PostOutcome]:
        """Send documents; one outcome per record, in any order.

        A purchase document the package already holds under the same supplier and
        supplier number (not one we posted) is not sent: its outcome names it in
        ``duplicate``, unless the record allows a duplicate (``allow_duplicate``).
        """
        ...

    def attach(
        self, company: Company, record: SyncRecord, *, filename: str, content: bytes
    ) -> None:
        """Attach the document's PDF to the posted document."""
        ...

    def allocate(
        self, company: Company, credit_note: SyncRecord, invoice: SyncRecord, *, now: dt.datetime
    ) -> AllocationOutcome:
        """Allocate a posted credit note to its posted invoice (up to the amount due)."""
        ...


# The package's own id for the latest call made for the outbox (Xero's
# Xero-Correlation-Id): what the package's support asks for. Adapters note it
# (``package_call_noted``); the outbox keeps it in each attempt it logs while
# ``package_calls`` is open around a connector call and its outcome.
_call_id: ContextVar[str] = ContextVar("package_call_id", default="")


def package_call_noted(call_id: str) -> None:
    """An adapter's report of the id the package gave its latest call ("" if none)."""
    _call_id.set(call_id)


def package_call_id() -> str:
    """The id of the latest package call inside ``package_calls``, else ""."""
    return _call_id.get()


@contextmanager
def package_calls() -> Iterator[None]:
    """Around one connector call and the logging of its outcome: ids noted inside
    belong to it, none leaks to attempts logged before or after."""
    token = _call_id.set("")
    try:
        yield
    finally:
        _call_id.reset(token)


_connectors: dict[str, Callable[[], AccountingConnector]] = {}
# What people call each package, as its adapter names it: the port's messages
# say "Queued for <name>." without knowing which package that is.
_names: dict[str, str] = {}
UNNAMED = "the accounting package"


def package_name_register(package: str, name: str) -> None:
    _names[package] = name


def package_name(package: str | None) -> str:
    """The package's name in messages ("the accounting package" if none is registered)."""
    return _names.get(package or "", UNNAMED)


def company_package_name(company_id: int) -> str:
    """The name of the package a company uses, for messages about its documents."""
    from .models import AccountingSettings

    package = (
        AccountingSettings.objects.filter(company_id=company_id)
        .values_list("package", flat=True)
        .first()
    )
    return package_name(package)


def connector_register(package: str, factory: Callable[[], AccountingConnector]) -> None:
    _connectors[package] = factory


def connector_for(package: str) -> AccountingConnector | None:
    factory = _connectors.get(package)
    return factory() if factory else None


@contextmanager
def connector_registered(
    package: str, factory: Callable[[], AccountingConnector]
) -> Iterator[None]:
    """``factory`` serves ``package`` inside the block, the registered one again after it
    (tests put a fake in place of an adapter this way)."""
    previous = _connectors.get(package)
    connector_register(package, factory)
    try:
        yield
    finally:
        if previous is None:
            _connectors.pop(package, None)
        else:
            _connectors[package] = previous


# -- Reading the package's books (reconciliation and going live) -------------------------

# A document's state in the package, in the port's words (Xero: DRAFT, SUBMITTED,
# AUTHORISED, PAID, VOIDED, DELETED).
REMOTE_STATUSES = ("draft", "submitted", "authorised", "paid", "voided", "deleted")


@dataclass(frozen=True)
class RemoteDocument:
    """An invoice or credit note as the package holds it, read for reconciliation.

    ``type`` is our document type (``DocumentType`` value); ``number`` the number the
    package knows it by (ours for sales documents, the supplier's for purchases).
    ``fingerprint`` holds the package's values; read as a summary (``lines_read``
    False) its lines are empty and only the header is comparable.
    """

    external_id: str
    type: str
    number: str
    contact_id: str
    contact_name: str
    status: str
    fingerprint: DocumentFingerprint
    lines_read: bool
    amount_due: Decimal = Decimal("0")
    updated_at: dt.datetime | None = None
    url: str = ""


@dataclass(frozen=True)
class RemoteContact:
    """A contact as the package holds it, read to match our partners when going live."""

    external_id: str
    name: str
    contact_number: str = ""
    tax_number: str = ""
    archived: bool = False


@dataclass
class ReadMeter:
    """What reading cost: calls made and bytes downloaded (the package's bodies as
    received). Adapters add to it as they read; benchmarks and runs report it."""

    calls: int = 0
    bytes: int = 0

    def add(self, *, calls: int = 1, size: int = 0) -> None:
        self.calls += calls
        self.bytes += size


class BooksReader(Protocol):
    """Reads the package's books, cheaply, behind posting and people under the
    package's shared call limiter."""

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
        """Every invoice and credit note dated in the period (drafts, voided and
        deleted included); with ``modified_since``, only those changed since.

        Without ``lines``, as summaries where the package offers them (fewer bytes;
        enough to match by number, contact and total). With ``lines``, each with its
        lines (``lines_read`` True) in pages as large as without: as many calls,
        more bytes, and no document to read again in detail.
        """
        ...

    def documents_detail(
        self, company: Company, external_ids: Sequence[str], *, meter: ReadMeter
    ) -> list[RemoteDocument]:
        """These documents with their lines (``lines_read`` True), in as few calls as
        the package allows."""
        ...

    def contacts_read(self, company: Company, *, meter: ReadMeter) -> Iterator[RemoteContact]:
        """Every contact of the organisation (archived included)."""
        ...


_readers: dict[str, Callable[[], BooksReader]] = {}


def reader_register(package: str, factory: Callable[[], BooksReader]) -> None:
    _readers[package] = factory


def reader_for(package: str) -> BooksReader | None:
    factory = _readers.get(package)
    return factory() if factory else None


@contextmanager
def reader_registered(package: str, factory: Callable[[], BooksReader]) -> Iterator[None]:
    """``factory`` reads ``package`` inside the block (tests put a fake in place)."""
    previous = _readers.get(package)
    reader_register(package, factory)
    try:
        yield
    finally:
        if previous is None:
            _readers.pop(package, None)
        else:
            _readers[package] = previous
