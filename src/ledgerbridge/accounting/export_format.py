"""The port for import-file exports: what an accounting package's file writer offers.

``accounting.exports`` chooses documents, keeps batches and files, and checks
totals; an adapter (``xero.import_file``) knows the file's shape. Neutral of any
one package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ledgerbridge.companies.models import Company
from ledgerbridge.invoicing.models import Document


@dataclass(frozen=True)
class WrittenFile:
    content: bytes
    # Document id → the document's total as the file states it (in the TMS's sign).
    totals: dict[int, Decimal]
    document_count: int


class ImportFileFormat(Protocol):
    """Writes documents as an accounting package's import files."""

    max_documents_per_file: int
    # File kinds in the order files are written (e.g. "sales", "bills").
    kinds: tuple[str, ...]

    def file_kind(self, document_type: str) -> str:
        """Which file a document of this type goes into."""
        ...

    def problems(self, document: Document) -> list[str]:
        """Why the document cannot be exported as it stands; [] when it can.

        ``document`` comes with its partner and its lines (with their dimension
        values) loaded.
        """
        ...

    def write(self, kind: str, documents: Iterable[Document]) -> WrittenFile:
        """One file of ``kind`` holding ``documents`` (at most ``max_documents_per_file``)."""
        ...


def import_file_format_for(company: Company, *, date_format: str) -> ImportFileFormat:
    """The file writer of the company's package. Only Xero's exists today, and it is
    also the fallback for companies on no package."""
    from ledgerbridge.xero.import_file import XeroImportFile

    return XeroImportFile(company, date_format=date_format)
