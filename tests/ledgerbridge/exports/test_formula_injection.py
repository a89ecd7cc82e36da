"""Export files run no formulas in a spreadsheet, and still import into Xero.

Partner names and addresses, references, supplier numbers and line descriptions
hold what a spreadsheet would run; every such cell is written with a leading
quote, amounts (negative ones too) stay numbers, and the sandbox's importer takes
the files, storing the text with its quote.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from ledgerbridge.accounting.exports import ExportFilters, export_batch_create
from ledgerbridge.invoicing.models import Document, DocumentLine, DocumentType, Partner
from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise
from ledgerbridge.spreadsheet import spreadsheet_safe
from tests.ledgerbridge.factories import line

from .conftest import FINALISED_AT, final_document, money, xero_import

HYPERLINK = '=HYPERLINK("http://x","x")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"
PAYLOADS = [HYPERLINK, "+1+1", "-2+3", DDE, "\tx", "\rx"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        (DDE, "'" + DDE),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.50", "-12.50"),
        ("-1.4325", "-1.4325"),
        ("450.00", "450.00"),
        ("-", "'-"),
        ("-12.50 ", "'-12.50 "),
        ("Acme = Co", "Acme = Co"),
        ("", ""),
    ],
)
def test_a_cell_that_could_start_a_formula_gets_a_quote_and_a_number_does_not(value, written):
    assert spreadsheet_safe(value) == written


def _documents(finance, customer, supplier) -> list[Document]:
    lines = [line("freight", description=f"Freight {i}") for i in range(len(PAYLOADS))]
    invoice = final_document(finance, DocumentType.SALES_INVOICE, customer, lines)
    credit = credit_note_create_from_invoice(
        actor=finance, invoice_id=invoice.pk, issue_date=invoice.issue_date
    )
    credit = document_finalise(actor=finance, document_id=credit.pk, now=FINALISED_AT)
    bill = final_document(
        finance,
        DocumentType.PURCHASE_INVOICE,
        supplier,
        [line("fuel", sales=False, description=f"Fuel {i}") for i in range(len(PAYLOADS))],
    )
    # Stored as typed, past the services' trimming: the writer must not rely on it.
    for document in (invoice, credit, bill):
        for position, payload in enumerate(PAYLOADS, start=1):
            DocumentLine.objects.filter(document=document, position=position).update(
                description=payload
            )
    Document.objects.filter(pk=invoice.pk).update(reference=DDE)
    Document.objects.filter(pk=credit.pk).update(reference="-2+3")
    Document.objects.filter(pk=bill.pk).update(supplier_reference=HYPERLINK)
    Partner.objects.filter(pk=customer.pk).update(
        name=HYPERLINK, address_line1="+1+1", address_line2="-2+3", city=DDE, postcode="\tx"
    )
    Partner.objects.filter(pk=supplier.pk).update(
        name=DDE, address_line1="\rx", address_line2="=1+1", city="+1+1", postcode="-2+3"
    )
    return [invoice, credit, bill]


def test_export_files_neutralise_formulas_keep_amounts_numeric_and_import_into_xero(
    finance, customer, supplier, xero, org
):
    invoice, credit, bill = _documents(finance, customer, supplier)

    batch = export_batch_create(actor=finance, filters=ExportFilters()).batch
    files = {f.kind: bytes(f.content) for f in batch.files.all()}

    for kind, content in files.items():
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
        for row in rows[1:]:
            for cell in row:
                assert not cell.startswith(FORMULA_STARTS) or PLAIN_NUMBER.fullmatch(cell), (
                    kind,
                    cell,
                )
        cells = {cell for row in rows[1:] for cell in row}
        if kind == "sales":
            assert {"'" + HYPERLINK, "'+1+1", "'-2+3", "'" + DDE, "'\tx", "'\rx"} <= cells
            # The credit note's amounts: negative numbers, written as numbers.
            header = rows[0]
            credit_rows = [
                r for r in rows[1:] if r[header.index("*InvoiceNumber")] == credit.number
            ]
            assert credit_rows
            for row in credit_rows:
                assert re.fullmatch(r"-[0-9]+\.[0-9]{2}", row[header.index("*UnitAmount")])
                assert re.fullmatch(r"-[0-9]+\.[0-9]{2}", row[header.index("Total")])
        else:
            assert {"'" + DDE, "'" + HYPERLINK, "'\rx", "'=1+1", "'+1+1", "'-2+3"} <= cells

    sales = xero_import(xero, org, "sales", files["sales"])
    bills = xero_import(xero, org, "bills", files["bills"])
    assert sales.status_code == 200, sales.text
    assert bills.status_code == 200, bills.text
    imported = {
        item["Number"]: (item["ContactName"], money(item["Total"]))
        for item in sales.json()["Invoices"]
        + sales.json()["CreditNotes"]
        + bills.json()["Invoices"]
    }
    assert imported == {
        invoice.number: ("'" + HYPERLINK, invoice.gross_total),
        credit.number: ("'" + HYPERLINK, credit.gross_total),
        "'" + HYPERLINK: ("'" + DDE, bill.gross_total),
    }
    stored = xero.sandbox.store.get_doc(org, "invoice", sales.json()["Invoices"][0]["ID"])
    assert [item["Description"] for item in stored["LineItems"]] == [
        "'" + HYPERLINK,
        "'+1+1",
        "'-2+3",
        "'" + DDE,
        "'\tx",
        "'\rx",
    ]
    assert stored["Reference"] == "'" + DDE
