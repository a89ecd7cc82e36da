"""Our documents as Xero's request bodies: built from loaded objects, no query, no call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import prefetch_related_objects
from xero_python.accounting import Contact, CreditNotes, Invoices

from ledgerbridge.accounting.fingerprint import fingerprint_compare as compare
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.money import format_money
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


def _sent_invoice(actor, **fields):
    document = _loaded(
        make_document(
            actor,
            lines=[
                line("freight", quantity="2", unit_price="450"),
                line("fuel_surcharge", unit_price="63.50", discount="5"),
            ],
            reference="PO-7781",
            finalise=True,
            **fields,
        )
    )
    model = payloads.xero_document(
        document, contact_id=CONTACT_ID, status="AUTHORISED", **_coding(actor.company)
    )
    return document, model


def test_the_fingerprint_of_what_we_sent_holds_our_totals_and_each_lines_coding():
    actor = make_actor(make_company(), Role.FINANCE)
    document, model = _sent_invoice(actor)
    sent = payloads.sent_fingerprint(model)
    assert (sent.contact_id, sent.currency, sent.reference) == (CONTACT_ID, "GBP", "PO-7781")
    assert (sent.date, sent.due_date) == (document.issue_date, document.due_date)
    assert (sent.net, sent.tax, sent.gross) == (
        document.net_total,
        document.tax_total,
        document.gross_total,
    )
    assert sent.line_count == 2
    assert [(li.account_code, li.tax_type, li.amount) for li in sent.lines] == [
        (ln.nominal_code.code, "OUTPUT2", ln.net_amount) for ln in document.lines.all()
    ]


def test_xeros_copy_of_what_we_sent_reads_back_to_the_same_fingerprint():
    actor = make_actor(make_company(), Role.FINANCE)
    document, model = _sent_invoice(actor)
    sent = payloads.sent_fingerprint(model)
    # Xero's answer: its totals filled in, amounts as floats, our lines as sent.
    model.sub_total = float(document.net_total)
    model.total_tax = float(document.tax_total)
    model.total = float(document.gross_total)
    for item in model.line_items:
        item.line_amount = float(item.line_amount)
    held = payloads.held_fingerprint(model)
    assert held is not None
    assert compare(sent, held) == []
    model.total = float(document.gross_total) - 200
    model.line_items[0].account_code = "260"
    assert compare(sent, payloads.held_fingerprint(model)) == [
        f"total {format_money(document.gross_total, 'GBP')} → "
        f"{format_money(document.gross_total - 200, 'GBP')}",
        f"line 1: account {document.lines.all()[0].nominal_code.code} → 260",
    ]


def test_a_contact_changed_in_xero_is_named_on_both_sides():
    actor = make_actor(make_company(), Role.FINANCE)
    document, model = _sent_invoice(actor)
    sent = payloads.sent_fingerprint(model, contact_name="Brightwater Beverages plc")
    assert sent.contact_name == "Brightwater Beverages plc"
    model.sub_total = float(document.net_total)
    model.total_tax = float(document.tax_total)
    model.total = float(document.gross_total)
    model.contact = Contact(
        contact_id="7a7a7a7a-0000-4000-8000-000000000077", name="Tees Plastics Moulding"
    )
    held = payloads.held_fingerprint(model)
    assert held is not None and held.contact_name == "Tees Plastics Moulding"
    assert compare(sent, held) == ["contact Brightwater Beverages plc → Tees Plastics Moulding"]


def test_a_summary_read_without_lines_has_no_fingerprint():
    actor = make_actor(make_company(), Role.FINANCE)
    _, model = _sent_invoice(actor)
    model.line_items = None
    assert payloads.held_fingerprint(model) is None
