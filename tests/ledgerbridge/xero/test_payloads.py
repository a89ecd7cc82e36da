"""Our documents as Xero's request bodies: built from loaded objects, no query, no call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import prefetch_related_objects
from xero_python.accounting import CreditNotes, Invoices

from ledgerbridge.companies.models import Role
from ledgerbridge.xero import payloads
from ledgerbridge.xero.coding import tax_types_for_company, tracking_category_for
from ledgerbridge.xero.payloads import request_body
from tests.ledgerbridge.factories import line, make_actor, make_company, make_document

pytestmark = pytest.mark.django_db

CONTACT_ID = "4f1b3c2a-0000-4000-8000-000000000001"


def _loaded(document):
    prefetch_related_objects(
        [document],
        "lines__nominal_code",
        "lines__tax_rate",
        "lines__dimensions__value",
        "lines__dimensions__dimension",
    )
    return document


def _coding(company):
    return {
        "tax_types": tax_types_for_company(company),
        "categories": {d.pk: tracking_category_for(d) for d in company.dimensions.all()},
    }


def test_a_sales_invoice_body_has_our_lines_and_coding_and_nothing_read_only(
    django_assert_num_queries,
):
    actor = make_actor(make_company(), Role.FINANCE)
    document = _loaded(
        make_document(
            actor,
            lines=[
                line("freight", quantity="2", unit_price="450"),
                line("fuel_surcharge", unit_price="63.50", discount="5"),
            ],
            reference="PO-7781",
            finalise=True,
        )
    )
    coding = _coding(actor.company)
    with django_assert_num_queries(0):
        body = request_body(
            Invoices(
                invoices=[
                    payloads.xero_document(
                        document, contact_id=CONTACT_ID, status="AUTHORISED", **coding
                    )
                ]
            )
        )
    [invoice] = body["Invoices"]
    assert invoice["Type"] == "ACCREC"
    assert invoice["InvoiceNumber"] == document.number
    assert invoice["Contact"] == {"ContactID": CONTACT_ID}
    assert invoice["Reference"] == "PO-7781"
    assert invoice["LineAmountTypes"] == "Exclusive"
    assert [li["LineAmount"] for li in invoice["LineItems"]] == [900.0, 60.33]
    assert invoice["LineItems"][0]["TaxType"] == "OUTPUT2"
    assert {"HasAttachments", "HasErrors"}.isdisjoint(invoice)


def test_a_purchase_credit_note_carries_the_suppliers_number_and_ours_in_the_reference():
    actor = make_actor(make_company(), Role.FINANCE)
    document = _loaded(
        make_document(actor, "purchase_credit_note", supplier_reference="CR-17", finalise=True)
    )
    body = request_body(
        CreditNotes(
            credit_notes=[
                payloads.xero_document(
                    document, contact_id=CONTACT_ID, status="DRAFT", **_coding(actor.company)
                )
            ]
        )
    )
    [note] = body["CreditNotes"]
    assert (note["Type"], note["CreditNoteNumber"], note["Status"]) == (
        "ACCPAYCREDIT",
        "CR-17",
        "DRAFT",
    )
    assert note["Reference"].startswith(document.number)
    assert "HasAttachments" not in note and "HasErrors" not in note


def test_an_allocation_names_the_invoice_only_by_its_id():
    body = request_body(
        payloads.allocation(invoice_id=CONTACT_ID, amount=Decimal("12.50"), on=dt.date(2026, 12, 4))
    )
    assert body == {
        "Allocations": [
            {"Invoice": {"InvoiceID": CONTACT_ID}, "Amount": 12.5, "Date": "/Date(1796342400000)/"}
        ]
    }


def test_money_keeps_a_missing_amount_missing_unless_told_otherwise():
    assert payloads.money(None) is None
    assert payloads.money(None, missing=Decimal("0")) == Decimal("0")
    assert payloads.money(12.3) == Decimal("12.30")
    assert payloads.money("7") == Decimal("7.00")
