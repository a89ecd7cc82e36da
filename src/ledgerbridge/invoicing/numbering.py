"""Gapless, concurrency-safe document numbers.

The series row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite runs
write transactions one at a time in IMMEDIATE mode) inside the finalising
transaction, so a number is only consumed if the document is saved with it.
"""

from __future__ import annotations

from django.db import transaction

from ledgerbridge.companies.models import Company
from ledgerbridge.errors import ApplicationError

from . import bounds
from .models import DocumentType, NumberSeries

DEFAULT_PREFIXES = {
    DocumentType.SALES_INVOICE: "INV-",
    DocumentType.SALES_CREDIT_NOTE: "CN-",
    DocumentType.PURCHASE_INVOICE: "PI-",
    DocumentType.PURCHASE_CREDIT_NOTE: "PCN-",
}


def number_series_ensure(*, company: Company) -> None:
    """Create the default series for each document type that has none."""
    for document_type, prefix in DEFAULT_PREFIXES.items():
        NumberSeries.objects.get_or_create(
            company=company, document_type=document_type, defaults={"prefix": prefix}
        )


def number_allocate(*, company: Company, document_type: str, year: int) -> str:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_allocate must run inside the finalising transaction")
    number_series_ensure(company=company)
    series = NumberSeries.objects.select_for_update().get(
        company=company, document_type=document_type
    )
    # A document finalised for an earlier year keeps the current year's sequence
    # rather than reopening a closed one.
    if series.reset_yearly and (series.year is None or year > series.year):
        series.year = year
        series.next_number = 1
    if series.next_number > bounds.NEXT_NUMBER.maximum:
        raise ApplicationError(
            f"The number series for {series.get_document_type_display().lower()}s has issued "
            f"its last number ({bounds.NEXT_NUMBER.maximum:,f}); ask a Super Admin to check "
            "Configuration > Number series."
        )
    number = series.format(series.next_number, series.year or year)
    series.next_number += 1
    series.save(update_fields=["next_number", "year"])
    return number
