"""Xero's shapes, both ways, in one place: pure functions, no I/O, no queries.

Our documents and partners become the SDK's models for the requests
(invoices, credit notes, contacts, allocations), built from objects the caller
has already loaded; Xero's invoices, credit notes and payments become the
neutral types of ``accounting`` (``RemoteDocumentState``, and for reconciliation
``RemoteDocument`` and ``RemoteContact``). A document's
fingerprint (``DocumentFingerprint``) is read both ways too: from the payload we
sent (``sent_fingerprint``) and from the document Xero holds (``held_fingerprint``). The helpers every
Xero module reads answers with live here too: ``money()`` for amounts and
``enum_value()`` for Xero's enum names (statuses, types, currency codes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, overload

from django.utils import timezone
from xero_python.accounting import (
    Address,
    Allocation,
    Allocations,
    Contact,
    CreditNote,
    CurrencyCode,
    Invoice,
    LineAmountTypes,
    LineItem,
    LineItemTracking,
)
from xero_python.api_client.serializer import serialize
from xero_python.models import BaseModel

from ledgerbridge.accounting.connector import REMOTE_STATUSES, RemoteContact, RemoteDocument
from ledgerbridge.accounting.fingerprint import DocumentFingerprint, FingerprintLine
from ledgerbridge.accounting.payments import (
    RemoteAllocation,
    RemoteDocumentState,
    RemotePayment,
)
from ledgerbridge.invoicing.models import Document, DocumentType, Partner

CENT = Decimal("0.01")

XERO_TYPES: dict[str, str] = {
    DocumentType.SALES_INVOICE: "ACCREC",
    DocumentType.PURCHASE_INVOICE: "ACCPAY",
    DocumentType.SALES_CREDIT_NOTE: "ACCRECCREDIT",
    DocumentType.PURCHASE_CREDIT_NOTE: "ACCPAYCREDIT",
}


# -- what we send ----------------------------------------------------------------------
def xero_number(document: Document) -> str:
    """Our number for sales documents; the supplier's number for purchase ones."""
    return document.number if document.is_sales else document.supplier_reference


def reference(document: Document) -> str:
    parts = [document.reference, document.order_reference, document.trip_reference]
    if not document.is_sales:
        parts.insert(0, document.number)  # our own number, to find the bill from the TMS
    return " / ".join(p for p in parts if p)[:255]


def contact(partner: Partner, *, contact_id: str | None = None) -> Contact:
    """A partner as a Xero contact (``contact_id`` to update the one Xero has)."""
    return Contact(
        contact_id=contact_id,
        name=partner.name,
        contact_number=partner.number,
        email_address=partner.email or None,
        tax_number=partner.vat_number or None,
        addresses=[
            Address(
                address_type="POBOX",
                address_line1=partner.address_line1 or None,
                address_line2=partner.address_line2 or None,
                city=partner.city or None,
                postal_code=partner.postcode or None,
                country=partner.country or None,
            )
        ],
    )


def line_items(
    document: Document, *, tax_types: Mapping[str, str], categories: Mapping[int, str]
) -> list[LineItem]:
    """The document's lines; they, their codes and dimensions must come prefetched.

    ``tax_types``: our tax code -> Xero TaxType; ``categories``: dimension id ->
    tracking category name (dimensions without one are not sent).
    """
    return [
        LineItem(
            description=line.description,
            quantity=line.quantity,
            unit_amount=line.unit_price,
            discount_rate=line.discount_percent or None,
            line_amount=line.net_amount,
            account_code=line.nominal_code.code,
            tax_type=tax_types[line.tax_rate.code],
            tax_amount=line.tax_amount,
            tracking=[
                LineItemTracking(name=categories[ld.dimension_id], option=ld.value.name)
                for ld in line.dimensions.all()
                if ld.dimension_id in categories
            ]
            or None,
        )
        for line in document.lines.all()
    ]


def xero_document(
    document: Document,
    *,
    contact_id: str,
    status: str,
    tax_types: Mapping[str, str],
    categories: Mapping[int, str],
) -> Invoice | CreditNote:
    """Our document, tax-exclusive, as Xero should hold it: a sales invoice or a bill
    (``Invoice``), or a sales or purchase credit note (``CreditNote``)."""
    fields: dict[str, Any] = {
        "type": XERO_TYPES[document.type],
        "contact": Contact(contact_id=contact_id),
        "reference": reference(document),
        "date": document.issue_date,
        "currency_code": CurrencyCode(document.currency),
        "status": status,
        "line_amount_types": LineAmountTypes.EXCLUSIVE,
        "line_items": line_items(document, tax_types=tax_types, categories=categories),
    }
    # Xero converts at this rate for the VAT return, so its pounds are the PDF's;
    # without one Xero takes its own day rate.
    if document.exchange_rate is not None:
        fields["currency_rate"] = float(document.exchange_rate)
    if document.is_credit_note:
        return CreditNote(**fields, credit_note_number=xero_number(document))
    return Invoice(**fields, invoice_number=xero_number(document), due_date=document.due_date)


def allocation(*, invoice_id: str, amount: Decimal, on: dt.date) -> Allocations:
    """Part of a credit note set against an invoice."""
    return Allocations(
        allocations=[Allocation(invoice=Invoice(invoice_id=invoice_id), amount=amount, date=on)]
    )


# The spec's read-only properties of the models we send (a test keeps this equal to
# the spec): Xero fills them in, a request must not carry them.
READ_ONLY: dict[str, frozenset[str]] = {
    "Invoice": frozenset(
        {
            "CISDeduction",
            "CISRate",
            "SubTotal",
            "TotalTax",
            "Total",
            "TotalDiscount",
            "HasAttachments",
            "IsDiscounted",
            "Payments",
            "Prepayments",
            "Overpayments",
            "AmountDue",
            "AmountPaid",
            "FullyPaidOnDate",
            "AmountCredited",
            "UpdatedDateUTC",
            "UpdatedDateUTCString",
            "CreditNotes",
        }
    ),
    "CreditNote": frozenset(
        {"CISDeduction", "CISRate", "UpdatedDateUTC", "UpdatedDateUTCString", "SentToContact"}
    ),
    "Contact": frozenset({"UpdatedDateUTC", "Website", "Discount"}),
    "Allocation": frozenset({"IsDeleted"}),
}
# Flags the SDK sets to False on every model it builds; only Xero's answers mean them.
ANSWER_FLAGS = frozenset({"HasAttachments", "HasErrors", "HasValidationErrors"})


def request_body(model: BaseModel) -> Any:
    """An SDK model as the JSON a request carries: only what a request may write.

    The SDK serialises its defaults too (``HasAttachments``, ``HasErrors``,
    ``HasValidationErrors``: false on every model), and Xero's spec marks some of
    them read-only; this drops ``READ_ONLY`` and ``ANSWER_FLAGS`` at every level.
    """
    body = serialize(model)
    _drop_read_only(model, body)
    return body


def _drop_read_only(model: Any, body: Any) -> None:
    if isinstance(model, list | tuple) and isinstance(body, list | tuple):
        for item, item_body in zip(model, body, strict=True):
            _drop_read_only(item, item_body)
        return
    if not isinstance(model, BaseModel) or not isinstance(body, dict):
        return
    dropped = READ_ONLY.get(type(model).__name__, frozenset()) | ANSWER_FLAGS
    for attribute, key in model.attribute_map.items():
        if key not in body:
            continue
        if key in dropped:
            del body[key]
        else:
            _drop_read_only(getattr(model, attribute), body[key])


# -- fingerprints: what Xero should hold, and what it holds ---------------------------
def _fingerprint_lines(model: Invoice | CreditNote) -> tuple[FingerprintLine, ...]:
    return tuple(
        FingerprintLine(
            account_code=str(line.account_code or ""),
            tax_type=str(line.tax_type or ""),
            amount=money(line.line_amount, missing=ZERO),
            tracking=tuple(
                sorted((str(t.name or ""), str(t.option or "")) for t in (line.tracking or []))
            ),
        )
        for line in (model.line_items or [])
    )


def _fingerprint(
    model: Invoice | CreditNote,
    *,
    net: Decimal,
    tax: Decimal,
    gross: Decimal,
    contact_name: str | None = None,
) -> DocumentFingerprint:
    if contact_name is None:  # Xero's document: its contact carries the name
        contact_name = str(model.contact.name or "") if model.contact else ""
    return DocumentFingerprint(
        contact_id=str(model.contact.contact_id or "") if model.contact else "",
        contact_name=contact_name,
        currency=enum_value(model.currency_code),
        date=_date(model.date),
        due_date=_date(getattr(model, "due_date", None)),
        reference=str(model.reference or ""),
        net=net,
        tax=tax,
        gross=gross,
        lines=_fingerprint_lines(model),
    )


def sent_fingerprint(model: Invoice | CreditNote, *, contact_name: str = "") -> DocumentFingerprint:
    """What Xero should hold of a document we sent (``xero_document``'s result):
    the totals are the sums of the lines we sent, tax-exclusive, as Xero adds them.
    ``contact_name``: our partner's, which the body does not carry (its contact is
    named by id only), kept to say who the contact was if it changes."""
    lines = model.line_items or []
    net = sum((money(line.line_amount, missing=ZERO) for line in lines), ZERO)
    tax = sum((money(line.tax_amount, missing=ZERO) for line in lines), ZERO)
    return _fingerprint(model, net=net, tax=tax, gross=net + tax, contact_name=contact_name)


def held_fingerprint(model: Any) -> DocumentFingerprint | None:
    """An invoice or credit note as Xero holds it now, in the same terms; None when
    the read carried no lines (a summary-only read)."""
    if model.line_items is None:
        return None
    return _held(model)


def _held(model: Any) -> DocumentFingerprint:
    """Xero's header as it holds it, and its lines if the read carried them (none otherwise)."""
    return _fingerprint(
        model,
        net=money(model.sub_total, missing=ZERO),
        tax=money(model.total_tax, missing=ZERO),
        gross=money(model.total, missing=ZERO),
    )


# -- reading the organisation's books (reconciliation, going live) ----------------------
OUR_TYPES: dict[str, str] = {xero: ours for ours, xero in XERO_TYPES.items()}


def remote_document(model: Invoice | CreditNote, *, url: str = "") -> RemoteDocument:
    """A Xero invoice or credit note as the port reads it for reconciliation.

    ``number`` is Xero's InvoiceNumber / CreditNoteNumber: ours for sales documents,
    the supplier's for purchase ones (what ``xero_number`` sends). Read as a summary
    (no ``LineItems``) only the header is comparable: ``lines_read`` is False and the
    fingerprint has no lines; with lines, it is built as ``held_fingerprint`` builds
    it, so a document nobody changed compares equal to ``sent_fingerprint``.
    """
    is_credit = isinstance(model, CreditNote)
    status = enum_value(model.status)
    due = money(model.remaining_credit if is_credit else model.amount_due, missing=ZERO)
    return RemoteDocument(
        external_id=str(model.credit_note_id if is_credit else model.invoice_id),
        type=OUR_TYPES.get(enum_value(model.type), ""),
        number=str((model.credit_note_number if is_credit else model.invoice_number) or ""),
        contact_id=str(model.contact.contact_id or "") if model.contact else "",
        contact_name=str(model.contact.name or "") if model.contact else "",
        # Xero's six statuses are the port's, in lower case; anything else is none of them.
        status=status.lower() if status.lower() in REMOTE_STATUSES else "",
        fingerprint=_held(model),
        lines_read=model.line_items is not None,
        amount_due=due if status not in ("VOIDED", "DELETED") else ZERO,
        updated_at=_aware(model.updated_date_utc),
        url=url,
    )


def remote_contact(model: Contact) -> RemoteContact:
    """A Xero contact as the port reads it to match our partners when going live."""
    return RemoteContact(
        external_id=str(model.contact_id),
        name=str(model.name or ""),
        contact_number=str(model.contact_number or ""),
        tax_number=str(model.tax_number or ""),
        archived=enum_value(model.contact_status) == "ARCHIVED",
    )


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
        fingerprint=held_fingerprint(invoice),
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
        fingerprint=held_fingerprint(credit_note),
    )
