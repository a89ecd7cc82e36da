"""The port for import-file exports: what an accounting package's file writer offers.

``accounting.exports`` chooses documents, keeps batches and files, and checks
totals; an adapter (``xero.import_file``) knows the file's shape. Neutral of any
one package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from ledgerbridge.companies.models import Company
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.models import DocumentType

# Documents travel to the writer as these plain records rather than model instances:
# loading 10,000 documents with their lines as tuples is several times faster than
# building and prefetching ORM objects, and the writer needs nothing else.


@dataclass(frozen=True, slots=True)
class ExportContact:
    name: str
    email: str
    address_line1: str
    address_line2: str
    city: str
    postcode: str
    country: str


@dataclass(slots=True)
class ExportLine:
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    nominal_code_id: int
    tax_rate_id: int
    net_amount: Decimal
    tax_amount: Decimal
    # (dimension id, dimension value id) pairs
    dimension_values: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class ExportDocument:
    id: int
    type: str
    number: str
    supplier_reference: str
    reference: str
    issue_date: dt.date
    due_date: dt.date
    currency: str
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    partner: ExportContact
    lines: list[ExportLine] = field(default_factory=list)

    @property
    def type_label(self) -> str:
        return str(DocumentType(self.type).label)

    @property
    def label(self) -> str:
        return f"{self.type_label} {self.number}"


@dataclass(frozen=True)
class WrittenFile:
    content: bytes
    # Document id → the document's total as the file states it (in the TMS's sign).
    totals: dict[int, Decimal]
    document_count: int


class ImportFileFormat(Protocol):
    """Writes documents as an accounting package's import files."""

    max_documents_per_file: int
    # The package's name in messages ("already in <it> through the API").
    package_name: str
    # File kinds in the order files are written (e.g. "sales", "bills").
    kinds: tuple[str, ...]

    def file_kind(self, document_type: str) -> str:
        """Which file a document of this type goes into."""
        ...

    def problems(self, document: ExportDocument) -> list[str]:
        """Why the document cannot be exported as it stands; [] when it can."""
        ...

    def write(self, kind: str, documents: Iterable[ExportDocument]) -> WrittenFile:
        """One file of ``kind`` holding ``documents`` (at most ``max_documents_per_file``)."""
        ...


ImportFileFormatFactory = Callable[..., ImportFileFormat]  # (company, *, date_format)

_formats: dict[str, ImportFileFormatFactory] = {}
_fallback: list[ImportFileFormatFactory] = []


def import_file_format_register(
    package: str, factory: ImportFileFormatFactory, *, fallback: bool = False
) -> None:
    """An adapter offers its package's file writer, as it registers its connector.
    The ``fallback`` writer also serves companies whose package has none (a
    company on no package can still take its documents away in a file)."""
    _formats[package] = factory
    if fallback:
        _fallback[:] = [factory]


def import_file_format_for(company: Company, *, package: str, date_format: str) -> ImportFileFormat:
    """The file writer of the company's accounting package (or the fallback one)."""
    factory = _formats.get(package) or (_fallback[0] if _fallback else None)
    if factory is None:
        raise ApplicationError("No import file format is available for the accounting package.")
    return factory(company, date_format=date_format)
