"""Exported files import into the Xero sandbox's importer, which applies Xero's rules."""

from __future__ import annotations

import datetime as dt

from ledgerbridge.accounting.exports import ExportFilters, export_batch_create
from ledgerbridge.invoicing.models import DocumentType
from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise
from tests.ledgerbridge.factories import line

from .conftest import (
    FINALISED_AT,
    final_document,
    money,
    purchase_invoice,
    sales_invoice,
    xero_import,
)

HEADER = (
    "*ContactName,*InvoiceNumber,*InvoiceDate,*DueDate,*Description,*Quantity,*UnitAmount,"
    "*AccountCode,*TaxType,TrackingName1,TrackingOption1,Total\r\n"
)


def _files(actor, **filters) -> dict[str, bytes]:
    batch = export_batch_create(actor=actor, filters=ExportFilters(**filters)).batch
    return {f.kind: bytes(f.content) for f in batch.files.all()}


def _credit(actor, invoice, **fields):
    credit = credit_note_create_from_invoice(
        actor=actor, invoice_id=invoice.pk, issue_date=invoice.issue_date, **fields
    )
    return document_finalise(actor=actor, document_id=credit.pk, now=FINALISED_AT)


def test_an_exported_sales_file_imports_with_the_tms_totals(finance, customer, xero, org):
    invoice = sales_invoice(finance, customer)
    credit = _credit(finance, invoice)

    answer = xero_import(xero, org, "sales", _files(finance)["sales"])

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(i["Number"], money(i["Total"])) for i in body["Invoices"]] == [
        (invoice.number, invoice.gross_total)
    ]
    assert [(c["Type"], c["Number"], money(c["Total"])) for c in body["CreditNotes"]] == [
        ("ACCRECCREDIT", credit.number, credit.gross_total)
    ]


def test_an_exported_bills_file_imports_bills_and_bill_credit_notes(finance, supplier, xero, org):
    bill = purchase_invoice(finance, supplier)
    discounted = final_document(
        finance,
        DocumentType.PURCHASE_INVOICE,
        supplier,
        [line("other", sales=False, quantity="3", unit_price="10.01", discount="33.33")],
    )
    credit = _credit(finance, bill, supplier_reference="PF-CN-1")

    answer = xero_import(xero, org, "bills", _files(finance)["bills"])

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert sorted((i["Type"], i["Number"], money(i["Total"])) for i in body["Invoices"]) == sorted(
        [
            ("ACCPAY", bill.supplier_reference, bill.gross_total),
            ("ACCPAY", discounted.supplier_reference, discounted.gross_total),
        ]
    )
    assert [(c["Type"], money(c["Total"])) for c in body["CreditNotes"]] == [
        ("ACCPAYCREDIT", credit.gross_total)
    ]


def test_imported_documents_appear_in_xeros_api_with_tracking(finance, customer, xero, org):
    invoice = sales_invoice(finance, customer)
    xero_import(xero, org, "sales", _files(finance)["sales"])

    stored = xero.sandbox.store.get_doc_by_number(org, "invoice", invoice.number)[0]

    assert stored["Status"] == "DRAFT" and stored["Contact"]["Name"] == customer.name
    assert stored["LineItems"][1]["Tracking"][1]["Option"] == "Rigid"
    assert stored["LineItems"][0]["TaxType"] == "OUTPUT2"


def test_importing_the_same_sales_file_twice_is_refused_as_duplicate_numbers(
    finance, customer, xero, org
):
    sales_invoice(finance, customer)
    content = _files(finance)["sales"]
    assert xero_import(xero, org, "sales", content).status_code == 200

    again = xero_import(xero, org, "sales", content)

    assert again.status_code == 400
    assert "Invoice # must be unique." in {e["Message"] for e in again.json()["Errors"]}


def test_importing_a_bill_twice_is_refused(finance, supplier, xero, org):
    bill = purchase_invoice(finance, supplier)
    content = _files(finance)["bills"]
    xero_import(xero, org, "bills", content)

    again = xero_import(xero, org, "bills", content)

    assert again.json()["Errors"][0]["Message"] == (
        f"A bill numbered {bill.supplier_reference} from {supplier.name} already exists."
    )


def test_the_importer_reads_dates_in_the_format_it_is_told(xero, org):
    content = (
        HEADER + "Acme,INV-9,12/31/2026,01/30/2027,Freight,1,10,200,20% (VAT on Income),,,12\r\n"
    ).encode()

    uk = xero_import(xero, org, "sales", content)
    us = xero_import(xero, org, "sales", content, date_format="MM/DD/YYYY")

    assert uk.json()["Errors"][0]["Message"] == (
        "InvoiceDate '12/31/2026' is not a valid date in the format DD/MM/YYYY."
    )
    assert us.status_code == 200, us.text


def test_the_importer_wants_the_tax_rates_name_not_its_code(xero, org):
    content = (HEADER + "Acme,INV-9,01/12/2026,31/12/2026,Freight,1,10,200,OUTPUT2,,,\r\n").encode()

    answer = xero_import(xero, org, "sales", content)

    assert answer.status_code == 400
    assert answer.json()["Errors"][0]["Row"] == 2
    assert "The tax rate 'OUTPUT2' does not exist" in answer.json()["Errors"][0]["Message"]


def test_the_importer_refuses_a_file_without_a_required_column(xero, org):
    content = b"*ContactName,*InvoiceNumber\r\nAcme,INV-1\r\n"

    answer = xero_import(xero, org, "sales", content)

    assert "The required column '*InvoiceDate' is missing from the file." in {
        e["Message"] for e in answer.json()["Errors"]
    }


def test_the_importer_refuses_an_unknown_tracking_option_and_imports_nothing(xero, org):
    content = (
        HEADER
        + "Acme,INV-1,01/12/2026,31/12/2026,Freight,1,10,200,20% (VAT on Income),,,\r\n"
        + "Acme,INV-2,01/12/2026,31/12/2026,Freight,1,10,200,20% (VAT on Income),Business unit,Mars,\r\n"
    ).encode()

    answer = xero_import(xero, org, "sales", content)

    assert answer.json()["Errors"] == [
        {
            "Row": 3,
            "InvoiceNumber": "INV-2",
            "Message": "The tracking option 'Mars' does not exist for the tracking category 'Business unit'.",
        }
    ]
    assert xero.sandbox.store.get_doc_by_number(org, "invoice", "INV-1") == []


def test_the_importer_groups_rows_by_number_and_checks_the_total(xero, org):
    content = (
        HEADER
        + "Acme,INV-1,01/12/2026,31/12/2026,Freight,1,10,200,20% (VAT on Income),,,24.00\r\n"
        + "Acme,INV-1,01/12/2026,31/12/2026,Tolls,1,10,260,20% (VAT on Income),,,24.00\r\n"
        + "Acme,INV-2,01/12/2026,31/12/2026,Freight,1,10,200,20% (VAT on Income),,,99.00\r\n"
    ).encode()

    answer = xero_import(xero, org, "sales", content)

    assert answer.json()["Errors"] == [
        {
            "Row": 4,
            "InvoiceNumber": "INV-2",
            "Message": "The document total does not equal the sum of the lines.",
        }
    ]


def test_a_document_with_a_negative_total_becomes_a_credit_note(xero, org):
    content = (
        HEADER + "Acme,CN-7,01/12/2026,01/12/2026,Refund,2,-5,200,20% (VAT on Income),,,-12.00\r\n"
    ).encode()

    answer = xero_import(xero, org, "sales", content)

    assert answer.json()["CreditNotes"][0]["Number"] == "CN-7"
    assert money(answer.json()["CreditNotes"][0]["Total"]) == money("12.00")


def test_export_dates_follow_the_company_setting_through_to_xero(finance, customer, xero, org):
    from ledgerbridge.accounting.models import AccountingSettings

    AccountingSettings.objects.create(company=finance.company, import_date_format="%Y-%m-%d")
    invoice = sales_invoice(finance, customer, issue_date=dt.date(2026, 10, 13))

    answer = xero_import(xero, org, "sales", _files(finance)["sales"], date_format="YYYY-MM-DD")

    stored = xero.sandbox.store.get_doc_by_number(org, "invoice", invoice.number)[0]
    assert answer.status_code == 200 and stored["DateString"] == "2026-10-13T00:00:00"


def test_the_importer_refuses_more_than_500_documents_in_one_file(xero, org):
    rows = "".join(
        f"Acme,INV-{n},01/12/2026,31/12/2026,Freight,1,10,200,20% (VAT on Income),,,\r\n"
        for n in range(501)
    )

    answer = xero_import(xero, org, "sales", (HEADER + rows).encode())

    assert answer.json()["Errors"] == [
        {
            "Row": 0,
            "InvoiceNumber": "",
            "Message": "The file has 501 documents; import at most 500.",
        }
    ]


def test_the_importer_reads_tax_inclusive_prices_when_told(xero, org):
    content = (
        HEADER + "Acme,INV-5,01/12/2026,31/12/2026,Freight,1,12,200,20% (VAT on Income),,,\r\n"
    ).encode()

    invoice = xero_import(xero, org, "sales", content, amounts="inclusive").json()["Invoices"][0]

    assert (money(invoice["Total"]), money(invoice["TotalTax"])) == (money(12), money(2))
