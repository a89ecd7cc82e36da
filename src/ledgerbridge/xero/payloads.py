"""Xero's shapes, both ways, in one place: pure functions, no I/O, no queries.

Our documents and partners become the SDK's models for the requests
(invoices, credit notes, contacts, allocations), built from objects the caller
has already loaded; Xero's invoices, credit notes and payments become the
neutral types of ``accounting`` (``RemoteDocumentState``). The helpers every
Xero module reads answers with live here too: ``money()`` for amounts and
``enum_value()`` for Xero's enum names (statuses, types, currency codes).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, overload

from django.utils import timezone

from ledgerbridge.accounting.payments import (
    RemoteAllocation,
    RemoteDocumentState,
    RemotePayment,
)

CENT = Decimal("0.01")


# -- reading Xero's answers ------------------------------------------------------------
@overload
def money(value: Any) -> Decimal | None: ...
@overload
def money(value: Any, *, missing: Decimal) -> Decimal: ...
def money(value: Any, *, missing: Decimal | None = None) -> Decimal | None:
    """An amount from Xero as a Decimal to 2 dp; ``missing`` when Xero left it out."""
    if value is None or value == "":
        return missing
    return Decimal(str(value)).quantize(CENT)


def enum_value(value: Any) -> str:
    """The name of an SDK enum (or the plain string Xero sent), upper case; '' when absent."""
    return str(getattr(value, "value", value) or "").upper()


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def _aware(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


ZERO = Decimal("0.00")


def _payment_status(xero_status: str, settled: Decimal, amount_due: Decimal) -> str:
    if xero_status == "VOIDED":
        return "voided"
    if xero_status == "DELETED":
        return "deleted"
    if xero_status == "PAID" or (settled > 0 and amount_due <= 0):
        return "paid"
    return "partly_paid" if settled > 0 else "unpaid"


def _payments(items: Any) -> list[RemotePayment]:
    return [
        RemotePayment(
            external_id=str(p.payment_id),
            date=_date(p.date),
            amount=money(p.amount, missing=ZERO),
            reference=p.reference or "",
        )
        for p in (items or [])
        if p.payment_id
    ]


def invoice_state(invoice: Any) -> RemoteDocumentState:
    """An SDK Invoice in neutral terms (payments, credit notes, over- and prepayments)."""
    paid = money(invoice.amount_paid, missing=ZERO)
    credited = money(invoice.amount_credited, missing=ZERO)
    due = money(invoice.amount_due, missing=ZERO)
    allocations = [
        RemoteAllocation(
            kind="credit_note",
            external_id=str(c.credit_note_id),
            number=c.credit_note_number or "",
            date=_date(c.date),
            amount=money(c.applied_amount, missing=ZERO),
        )
        for c in (invoice.credit_notes or [])
        if c.credit_note_id
    ]
    for kind, items, id_field in (
        ("overpayment", invoice.overpayments, "overpayment_id"),
        ("prepayment", invoice.prepayments, "prepayment_id"),
    ):
        allocations += [
            RemoteAllocation(
                kind=kind,
                external_id=str(getattr(item, id_field)),
                number="",
                date=_date(item.date),
                amount=money(item.applied_amount, missing=ZERO),
            )
            for item in (items or [])
            if getattr(item, id_field)
        ]
    return RemoteDocumentState(
        external_id=str(invoice.invoice_id),
        status=_payment_status(enum_value(invoice.status), paid + credited, due),
        total=money(invoice.total, missing=ZERO),
        amount_paid=paid,
        amount_credited=credited,
        amount_due=due,
        fully_paid_on=_date(invoice.fully_paid_on_date),
        updated_at=_aware(invoice.updated_date_utc),
        payments=_payments(invoice.payments),
        allocations=allocations,
    )


def credit_note_state(credit_note: Any) -> RemoteDocumentState:
    """An SDK CreditNote: "paid" once its credit is used up (allocated or refunded)."""
    total = money(credit_note.total, missing=ZERO)
    remaining = money(credit_note.remaining_credit, missing=ZERO)
    refunds = _payments(credit_note.payments)
    refunded = sum((p.amount for p in refunds), Decimal("0"))
    allocations = [
        RemoteAllocation(
            kind="invoice",
            external_id=str(a.invoice.invoice_id) if a.invoice else "",
            number=(a.invoice.invoice_number or "") if a.invoice else "",
            date=_date(a.date),
            amount=money(a.amount, missing=ZERO),
        )
        for a in (credit_note.allocations or [])
        if a.invoice is not None and not a.is_deleted
    ]
    allocated = sum((a.amount for a in allocations), Decimal("0"))
    status = enum_value(credit_note.status)
    return RemoteDocumentState(
        external_id=str(credit_note.credit_note_id),
        status=_payment_status(status, allocated + refunded, remaining),
        total=total,
        amount_paid=refunded,
        amount_credited=allocated,
        amount_due=remaining if status not in ("VOIDED", "DELETED") else Decimal("0"),
        fully_paid_on=_date(credit_note.fully_paid_on_date),
        updated_at=_aware(credit_note.updated_date_utc),
        payments=refunds,
        allocations=allocations,
    )
