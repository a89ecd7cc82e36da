"""The Xero import files themselves: golden files per kind, dates, bills' discounts."""

from __future__ import annotations

import csv
import io
import os
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerbridge.accounting.export_format import ExportDocument, import_file_format_for
from ledgerbridge.accounting.exports import export_documents_load
from ledgerbridge.accounting.models import AccountingSettings
from ledgerbridge.invoicing.models import Document, DocumentType
from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise
from ledgerbridge.xero.import_file import (
    BILLS_COLUMNS,
    MAX_DOCUMENTS_PER_FILE,
    SALES_COLUMNS,
    XeroImportFile,
)
from tests.ledgerbridge.factories import line

from .conftest import FINALISED_AT, final_document, purchase_invoice, sales_invoice

GOLDEN = Path(__file__).parent / "golden"


def _loaded(ids: list[int]) -> list[ExportDocument]:
    in_file_order = Document.objects.filter(pk__in=ids).order_by("issue_date", "number", "id")
    return list(export_documents_load(list(in_file_order.values_list("id", flat=True))))


def _credit(actor, invoice: Document, **fields) -> Document:
    credit = credit_note_create_from_invoice(
        actor=actor, invoice_id=invoice.pk, issue_date=invoice.issue_date, **fields
    )
    return document_finalise(actor=actor, document_id=credit.pk, now=FINALISED_AT)


def _assert_golden(name: str, content: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_bytes(content)
    assert content == path.read_bytes(), f"{name} differs; UPDATE_GOLDEN=1 rewrites it"


def test_sales_file_with_an_invoice_and_a_credit_note_matches_the_golden_file(finance, customer):
    invoice = sales_invoice(finance, customer, reference="PO 7781")
    discounted = final_document(
        finance,
        DocumentType.SALES_INVOICE,
        customer,
        [
            line("waiting_time", quantity="1.5", unit_price="42.1234", discount="12.5"),
            line("tolls", unit_price="18.00", tax_rate="Z0S", description='Toll "Humber Bridge"'),
        ],
        trip_reference="INT-0042",
    )
    credit = _credit(finance, invoice)
    file_format = XeroImportFile(finance.company, date_format="%d/%m/%Y")

    written = file_format.write("sales", _loaded([invoice.pk, discounted.pk, credit.pk]))

    _assert_golden("sales.csv", written.content)
    assert written.totals == {
        invoice.pk: invoice.gross_total,
        discounted.pk: discounted.gross_total,
        credit.pk: credit.gross_total,
    }


def test_bills_file_with_a_bill_and_a_credit_note_matches_the_golden_file(finance, supplier):
    bill = purchase_invoice(finance, supplier, supplier_reference="PF-00001")
    repairs = final_document(
        finance,
        DocumentType.PURCHASE_INVOICE,
        supplier,
        [
            line("other", sales=False, quantity="3", unit_price="99.99", discount="10"),
            line("tolls", sales=False, unit_price="7.333", discount="3", tax_rate="EXP"),
        ],
        supplier_reference="PF-R-118",
    )
    credit = _credit(finance, bill, supplier_reference="PF-CN-9")
    file_format = XeroImportFile(finance.company, date_format="%d/%m/%Y")

    written = file_format.write("bills", _loaded([bill.pk, repairs.pk, credit.pk]))

    _assert_golden("bills.csv", written.content)
    assert written.totals == {
        bill.pk: bill.gross_total,
        repairs.pk: repairs.gross_total,
        credit.pk: credit.gross_total,
    }


def test_files_carry_xeros_exact_column_headers(finance, customer, supplier):
    file_format = XeroImportFile(finance.company, date_format="%d/%m/%Y")
    sales = file_format.write("sales", _loaded([sales_invoice(finance, customer).pk]))
    bills = file_format.write("bills", _loaded([purchase_invoice(finance, supplier).pk]))

    assert next(csv.reader(io.StringIO(sales.content.decode()))) == list(SALES_COLUMNS)
    assert next(csv.reader(io.StringIO(bills.content.decode()))) == list(BILLS_COLUMNS)
    assert "*TaxType" in BILLS_COLUMNS and "Reference" not in BILLS_COLUMNS


def test_dates_are_written_in_the_organisations_date_format(finance, customer):
    AccountingSettings.objects.create(company=finance.company, import_date_format="%m/%d/%Y")
    settings = AccountingSettings.objects.get(company=finance.company)
    invoice = sales_invoice(finance, customer)
    file_format = import_file_format_for(
        finance.company, package=settings.package, date_format=settings.import_date_format
    )

    rows = list(
        csv.DictReader(
            io.StringIO(file_format.write("sales", _loaded([invoice.pk])).content.decode())
        )
    )

    assert {(r["*InvoiceDate"], r["*DueDate"]) for r in rows} == {("11/02/2026", "12/02/2026")}


def test_a_bill_line_whose_discount_is_not_exact_is_written_as_one_times_its_net_amount(
    finance, supplier
):
    bill = final_document(
        finance,
        DocumentType.PURCHASE_INVOICE,
        supplier,
        [line("other", sales=False, quantity="3", unit_price="10.01", discount="33.33")],
    )
    file_format = XeroImportFile(finance.company, date_format="%d/%m/%Y")

    row = next(
        csv.DictReader(io.StringIO(file_format.write("bills", _loaded([bill.pk])).content.decode()))
    )

    assert (row["*Quantity"], row["*UnitAmount"]) == ("1", f"{bill.net_total:.2f}")
    assert Decimal(row["Total"]) == bill.gross_total


def test_xero_takes_at_most_500_documents_per_file():
    assert MAX_DOCUMENTS_PER_FILE == 500
    assert XeroImportFile.max_documents_per_file == 500


@pytest.mark.parametrize(
    ("tax_code", "name"),
    [
        ("S20", "20% (VAT on Income)"),
        ("Z0S", "Zero Rated Income"),
        ("S20P", "20% (VAT on Expenses)"),
    ],
)
def test_starter_tax_codes_are_written_with_xeros_tax_rate_names(finance, tax_code, name):
    from ledgerbridge.invoicing.models import TaxRate
    from ledgerbridge.xero.coding import tax_names_for_company

    rate = TaxRate.objects.get(company=finance.company, code=tax_code)

    assert tax_names_for_company(finance.company)[rate.pk] == name
