"""Xero's manual import files (Sales > Invoices > Import; Purchases > Bills > Import).

Everything Xero-shaped about the files lives here: the templates' column headers,
where each column's value comes from, how credit notes are written, tax rate
names, tracking names, dates in the organisation's format, and the 500-document
limit. ``accounting.exports`` decides *which* documents go into a batch and
calls :class:`XeroImportFile` through the ``ImportFileFormat`` protocol.

The templates (CSV, UTF-8, one row per line item; rows sharing ``*InvoiceNumber``
form one document; starred columns are required):

- **Sales** ("Import invoices", used for sales invoices *and* sales credit notes):
  ``SALES_COLUMNS`` below.
- **Bills** ("Import bills", purchase invoices *and* purchase credit notes):
  ``BILLS_COLUMNS``. It differs from the sales template: no ``Reference``,
  ``Discount`` or ``BrandingTheme`` columns, and ``Description`` is optional.

Credit notes: Xero's importer has no credit-note template. A document whose rows
add up to a negative total is imported as a credit note (sales credit note or
bill credit note), so a credit note is written with negative unit amounts, tax
amounts and total; quantities stay as on the document.

Formulas: every cell goes through ``ledgerbridge.spreadsheet.SafeCsvWriter``, so
text a spreadsheet would run (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return, e.g. a partner named ``=HYPERLINK(...)``) is written with a
leading ``'``; plain numbers, negative amounts included, are written as numbers.
Xero's importer reads the file as CSV, not as a spreadsheet, so the quote is kept:
Xero stores the contact ``'=HYPERLINK(...)``, the description ``'+1+1``, the
reference ``'@SUM(...)``, and a bill numbered ``'=...``. That is what the sandbox's
importer stores too (``tests/ledgerbridge/exports/test_formula_injection.py``
imports such a file); it has not been checked against live Xero. Only values that
would start a formula are affected, and Xero then shows them with the quote.

Amounts are written tax-exclusive (choose "Tax exclusive" when importing) and
exactly as the TMS has them: the per-line ``TaxAmount`` is ours (Xero accepts a
line's tax as given within rounding), and every document's total in the file is
checked against the TMS total before a file is kept.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledgerbridge.accounting.connector import package_name_register
from ledgerbridge.accounting.export_format import (
    ExportDocument,
    ExportLine,
    WrittenFile,
    import_file_format_register,
)
from ledgerbridge.accounting.models import AccountingPackage
from ledgerbridge.companies.models import Company
from ledgerbridge.invoicing.models import (
    CREDIT_NOTE_TYPES,
    SALES_TYPES,
    Dimension,
    DimensionValue,
    NominalCode,
    TaxRate,
)
from ledgerbridge.invoicing.money import line_net
from ledgerbridge.spreadsheet import SafeCsvWriter

from .coding import tax_names_for_company
from .models import XeroTrackingMapping

SALES = "sales"
BILLS = "bills"

# Xero refuses files with more than 500 documents.
MAX_DOCUMENTS_PER_FILE = 500

# Xero's account codes are at most 10 characters; nominal codes are used as they are.
MAX_ACCOUNT_CODE = 10

# Xero allows at most two active tracking categories per organisation.
MAX_TRACKING_CATEGORIES = 2

SALES_COLUMNS = (
    "*ContactName",  # partner.name
    "EmailAddress",  # partner.email
    "POAddressLine1",  # partner.address_line1
    "POAddressLine2",  # partner.address_line2
    "POAddressLine3",  # empty: the TMS keeps two address lines
    "POAddressLine4",  # empty
    "POCity",  # partner.city
    "PORegion",  # empty: the TMS has no region
    "POPostalCode",  # partner.postcode
    "POCountry",  # partner.country (ISO code)
    "*InvoiceNumber",  # document.number (our invoice or credit note number)
    "Reference",  # document.reference
    "*InvoiceDate",  # document.issue_date, in the organisation's date format
    "*DueDate",  # document.due_date, in the organisation's date format
    "Total",  # document.gross_total (negative for a credit note), on every row
    "InventoryItemCode",  # empty: the TMS has no inventory items
    "*Description",  # line.description
    "*Quantity",  # line.quantity
    "*UnitAmount",  # line.unit_price, tax exclusive (negative for a credit note)
    "Discount",  # line.discount_percent, empty when 0
    "*AccountCode",  # line.nominal_code.code (nominal codes are Xero account codes)
    "*TaxType",  # Xero's tax rate name for line.tax_rate (XeroTaxMapping.tax_name)
    "TaxAmount",  # line.tax_amount (negative for a credit note)
    "TrackingName1",  # first dimension (by position) → tracking category name
    "TrackingOption1",  # that dimension's value name on the line
    "TrackingName2",  # second dimension → tracking category name
    "TrackingOption2",  # its value name
    "Currency",  # document.currency
    "BrandingTheme",  # empty: the organisation's default theme
)

BILLS_COLUMNS = (
    "*ContactName",  # partner.name (the supplier)
    "EmailAddress",  # partner.email
    "POAddressLine1",  # partner.address_line1
    "POAddressLine2",  # partner.address_line2
    "POAddressLine3",  # empty
    "POAddressLine4",  # empty
    "POCity",  # partner.city
    "PORegion",  # empty
    "POPostalCode",  # partner.postcode
    "POCountry",  # partner.country
    "*InvoiceNumber",  # document.supplier_reference: the supplier's own number
    "*InvoiceDate",  # document.issue_date, in the organisation's date format
    "*DueDate",  # document.due_date
    "Total",  # document.gross_total (negative for a credit note), on every row
    "InventoryItemCode",  # empty
    "Description",  # line.description
    "*Quantity",  # line.quantity (1 for a discounted line, see _bill_amounts)
    "*UnitAmount",  # line.unit_price after discount (negative for a credit note)
    "*AccountCode",  # line.nominal_code.code
    "*TaxType",  # Xero's tax rate name for line.tax_rate
    "TaxAmount",  # line.tax_amount (negative for a credit note)
    "TrackingName1",  # first dimension → tracking category name
    "TrackingOption1",  # its value name
    "TrackingName2",  # second dimension → tracking category name
    "TrackingOption2",  # its value name
    "Currency",  # document.currency
)

COLUMNS = {SALES: SALES_COLUMNS, BILLS: BILLS_COLUMNS}

FOUR = Decimal("0.0001")
HUNDRED = Decimal(100)


def file_kind_of(document_type: str) -> str:
    return SALES if document_type in SALES_TYPES else BILLS


def _amount(value: Decimal) -> str:
    """An amount to 2 dp, as the templates write it."""
    return f"{value:.2f}"


def _unit(value: Decimal) -> str:
    """Unit amounts to 4 dp where needed, else 2 dp (Xero's ``unitdp``)."""
    four = value.quantize(FOUR)
    return f"{four:.2f}" if four == four.quantize(Decimal("0.01")) else f"{four:.4f}"


def _quantity(value: Decimal) -> str:
    text = f"{value.quantize(FOUR):f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass
class _Maps:
    accounts: dict[int, tuple[str, bool]]
    tax_names: dict[int, str]
    tax_codes: dict[int, str]
    # dimension id → (position, tracking category name, active)
    dimensions: dict[int, tuple[int, str, bool]]
    # value id → (option name, active)
    values: dict[int, tuple[str, bool]] = field(default_factory=dict)


class XeroImportFile:
    """Writes one company's documents as Xero import files (``ImportFileFormat``)."""

    max_documents_per_file = MAX_DOCUMENTS_PER_FILE
    package_name = "Xero"
    kinds: tuple[str, ...] = (SALES, BILLS)

    def __init__(self, company: Company, *, date_format: str) -> None:
        self.date_format = date_format
        categories = {
            m.dimension_id: m.category_name
            for m in XeroTrackingMapping.objects.filter(dimension__company=company)
        }
        self._maps = _Maps(
            accounts={
                pk: (code, active)
                for pk, code, active in NominalCode.objects.filter(company=company).values_list(
                    "id", "code", "active"
                )
            },
            tax_names=tax_names_for_company(company),
            tax_codes=dict(TaxRate.objects.filter(company=company).values_list("id", "code")),
            dimensions={
                pk: (position, categories.get(pk, name), active)
                for pk, position, name, active in Dimension.objects.filter(
                    company=company
                ).values_list("id", "position", "name", "active")
            },
            values={
                pk: (name, active)
                for pk, name, active in DimensionValue.objects.filter(
                    dimension__company=company
                ).values_list("id", "name", "active")
            },
        )

    # -- the protocol ---------------------------------------------------------------
    def file_kind(self, document_type: str) -> str:
        return file_kind_of(document_type)

    def problems(self, document: ExportDocument) -> list[str]:
        """Why ``document`` cannot go into a file as it stands ([] when it can)."""
        maps = self._maps
        found: list[str] = []
        lines = document.lines
        if not lines:
            found.append("It has no lines.")
        if document.type not in SALES_TYPES and not document.supplier_reference:
            found.append("It has no supplier's document number (Xero's *InvoiceNumber).")
        for line in lines:
            label = f"Line {line.position}"
            code, active = maps.accounts.get(line.nominal_code_id, ("?", False))
            if not active:
                found.append(f"{label}: nominal code {code} is inactive.")
            elif len(code) > MAX_ACCOUNT_CODE:
                found.append(
                    f"{label}: nominal code {code} is longer than a Xero account code "
                    f"({MAX_ACCOUNT_CODE} characters)."
                )
            if not maps.tax_names.get(line.tax_rate_id):
                found.append(
                    f"{label}: tax rate {maps.tax_codes.get(line.tax_rate_id, '?')} has no "
                    "Xero tax rate name (map it to a standard Xero tax type in "
                    "Configuration > Accounting)."
                )
            tracked = line.dimension_values
            if len(tracked) > MAX_TRACKING_CATEGORIES:
                found.append(
                    f"{label}: it has {len(tracked)} dimension values; Xero takes at most "
                    f"{MAX_TRACKING_CATEGORIES} tracking categories."
                )
            for dimension_id, value_id in tracked:
                _, category, dimension_active = maps.dimensions[dimension_id]
                option, value_active = maps.values[value_id]
                if not dimension_active:
                    found.append(f"{label}: dimension {category} is inactive.")
                elif not value_active:
                    found.append(f"{label}: {category} value {option} is inactive.")
        return found

    def write(self, kind: str, documents: Iterable[ExportDocument]) -> WrittenFile:
        """One import file; ``totals`` are each document's total as the file states it."""
        buffer = io.StringIO()
        # Xero's templates are plain comma-separated, double quotes where needed,
        # CRLF line ends (what csv writes by default).
        writer = SafeCsvWriter(buffer)
        writer.writerow(COLUMNS[kind])
        totals: dict[int, Decimal] = {}
        count = 0
        for document in documents:
            count += 1
            totals[document.id] = self._write_document(writer, kind, document)
        return WrittenFile(
            content=buffer.getvalue().encode("utf-8"), totals=totals, document_count=count
        )

    # -- rows -----------------------------------------------------------------------
    def _write_document(self, writer: Any, kind: str, document: ExportDocument) -> Decimal:
        maps = self._maps
        sign = Decimal(-1) if document.type in CREDIT_NOTE_TYPES else Decimal(1)
        partner = document.partner
        contact = [
            partner.name,
            partner.email,
            partner.address_line1,
            partner.address_line2,
            "",
            "",
            partner.city,
            "",
            partner.postcode,
            partner.country,
        ]
        issue = document.issue_date.strftime(self.date_format)
        due = document.due_date.strftime(self.date_format)
        total = _amount(sign * document.gross_total)
        file_total = Decimal("0.00")
        for line in document.lines:
            tracking = sorted(
                (*maps.dimensions[dimension_id][:2], maps.values[value_id][0])
                for dimension_id, value_id in line.dimension_values
            )
            tracking_cells: list[str] = []
            for _, category, option in tracking[:MAX_TRACKING_CATEGORIES]:
                tracking_cells += [category, option]
            tracking_cells += [""] * (2 * MAX_TRACKING_CATEGORIES - len(tracking_cells))
            account = maps.accounts[line.nominal_code_id][0]
            tax_name = maps.tax_names[line.tax_rate_id]
            tax = sign * line.tax_amount
            if kind == SALES:
                unit = sign * line.unit_price
                writer.writerow(
                    [
                        *contact,
                        document.number,
                        document.reference,
                        issue,
                        due,
                        total,
                        "",
                        line.description,
                        _quantity(line.quantity),
                        _unit(unit),
                        _quantity(line.discount_percent) if line.discount_percent else "",
                        account,
                        tax_name,
                        _amount(tax),
                        *tracking_cells,
                        document.currency,
                        "",
                    ]
                )
                net = line_net(line.quantity, unit, line.discount_percent)
            else:
                quantity, unit = _bill_amounts(line)
                unit = sign * unit
                writer.writerow(
                    [
                        *contact,
                        document.supplier_reference,
                        issue,
                        due,
                        total,
                        "",
                        line.description,
                        _quantity(quantity),
                        _unit(unit),
                        account,
                        tax_name,
                        _amount(tax),
                        *tracking_cells,
                        document.currency,
                    ]
                )
                net = line_net(quantity, unit, Decimal(0))
            # What Xero will compute from the row: the line amount from quantity and
            # unit amount, plus the tax amount as given.
            file_total += net + tax
        return sign * file_total


def _bill_amounts(line: ExportLine) -> tuple[Decimal, Decimal]:
    """Quantity and unit amount of a bill row, which has no Discount column.

    A discounted line is written with its unit amount after discount when that is
    exact to 4 dp and gives the same line amount; otherwise as 1 × the line's net
    amount, so the amount in Xero is exactly ours.
    """
    if not line.discount_percent:
        return line.quantity, line.unit_price
    discounted = line.unit_price * (HUNDRED - line.discount_percent) / HUNDRED
    if discounted == discounted.quantize(FOUR) and (
        line_net(line.quantity, discounted, Decimal(0)) == line.net_amount
    ):
        return line.quantity, discounted
    return Decimal(1), line.net_amount


def register() -> None:
    # Xero's file is also the one a company on no package exports.
    import_file_format_register(AccountingPackage.XERO_FILE, XeroImportFile, fallback=True)
    package_name_register(AccountingPackage.XERO_FILE, "Xero")
