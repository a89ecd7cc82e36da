"""Xero's invoices and credit notes in our words (the SDK's models, no server needed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from xero_python.accounting.models import Invoice, Overpayment, Payment

from ledgerbridge.xero.payloads import invoice_state


def test_an_overpaid_invoice_is_paid_with_nothing_due_and_the_overpayment_recorded():
    # Xero keeps the extra as an Overpayment allocated to the invoice; the
    # invoice itself is PAID with no amount due.
    invoice = Invoice(
        invoice_id="7c0f8a8e-0000-4000-8000-000000000001",
        status="PAID",
        total=120.0,
        amount_paid=100.0,
        amount_credited=20.0,
        amount_due=0.0,
        fully_paid_on_date=dt.date(2026, 11, 20),
        payments=[
            Payment(
                payment_id="7c0f8a8e-0000-4000-8000-0000000000aa",
                amount=100.0,
                date=dt.date(2026, 11, 20),
                reference="BACS",
            )
        ],
        overpayments=[
            Overpayment(
                overpayment_id="7c0f8a8e-0000-4000-8000-0000000000bb",
                applied_amount=20.0,
                date=dt.date(2026, 11, 20),
            )
        ],
    )
    state = invoice_state(invoice)
    assert state.status == "paid"
    assert (state.amount_paid, state.amount_credited, state.amount_due) == (
        Decimal("100.00"),
        Decimal("20.00"),
        Decimal("0.00"),
    )
    assert [(a.kind, a.amount) for a in state.allocations] == [("overpayment", Decimal("20.00"))]
    assert state.fully_paid_on == dt.date(2026, 11, 20)


def test_an_authorised_invoice_with_some_credit_is_partly_paid():
    invoice = Invoice(
        invoice_id="7c0f8a8e-0000-4000-8000-000000000002",
        status="AUTHORISED",
        total=120.0,
        amount_paid=0.0,
        amount_credited=20.0,
        amount_due=100.0,
    )
    assert invoice_state(invoice).status == "partly_paid"
