"""A supplier's document is recorded once: a second bill with the same supplier number,
or the same date and total, is refused at finalise unless a reason is given (audited)."""

from __future__ import annotations

import datetime as dt

import pytest

from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.models import Document, DocumentStatus, DocumentType, PartnerKind
from ledgerbridge.invoicing.services import (
    DuplicateDocumentError,
    credit_note_create_from_invoice,
    document_finalise,
)
from tests.ledgerbridge.factories import line, make_actor, make_company, make_document, make_partner

pytestmark = pytest.mark.django_db

BILL = DocumentType.PURCHASE_INVOICE


@pytest.fixture
def company():
    return make_company("Northway Haulage Ltd")


@pytest.fixture
def finance(company):
    return make_actor(company, Role.FINANCE)


@pytest.fixture
def supplier(company):
    return make_partner(company, PartnerKind.SUPPLIER, name="M62 Fuels Ltd")


def bill(actor, partner, reference, *, price="640.00", issue=dt.date(2026, 11, 2), **kw):
    return make_document(
        actor,
        BILL,
        partner=partner,
        supplier_reference=reference,
        issue_date=issue,
        lines=[line("fuel", sales=False, unit_price=price)],
        **kw,
    )


def test_the_same_supplier_number_in_another_case_and_spacing_is_refused(finance, supplier):
    first = bill(finance, supplier, "M62-INV-9981", finalise=True)
    second = bill(finance, supplier, " m62-inv - 9981 ", price="12.00", issue=dt.date(2026, 11, 9))
    with pytest.raises(DuplicateDocumentError) as error:
        document_finalise(actor=finance, document_id=second.pk)
    assert error.value.duplicate == first
    assert error.value.message == (
        "M62 Fuels Ltd already has a document with the same supplier's number: purchase "
        f"invoice {first.number} (supplier's number M62-INV-9981) of 2 Nov 2026, 768.00 GBP. "
        "If this is really a different document, finalise it anyway and say why."
    )
    second.refresh_from_db()
    assert second.status == DocumentStatus.DRAFT
    assert second.number == ""


def test_the_same_date_and_total_under_another_number_is_refused(finance, supplier):
    first = bill(finance, supplier, "M62-INV-9981", finalise=True)
    second = bill(finance, supplier, "M62-INV-9982")
    with pytest.raises(DuplicateDocumentError, match="the same date and total") as error:
        document_finalise(actor=finance, document_id=second.pk)
    assert error.value.duplicate == first


def test_another_supplier_with_the_same_number_date_and_total_is_fine(finance, company, supplier):
    bill(finance, supplier, "M62-INV-9981", finalise=True)
    other = make_partner(company, PartnerKind.SUPPLIER, name="Pennine Tyres Ltd")
    second = bill(finance, other, "M62-INV-9981")
    assert document_finalise(actor=finance, document_id=second.pk).status == DocumentStatus.FINAL


def test_a_draft_is_not_a_duplicate_of_anything(finance, supplier):
    bill(finance, supplier, "M62-INV-9981")
    second = bill(finance, supplier, "M62-INV-9981")
    assert document_finalise(actor=finance, document_id=second.pk).status == DocumentStatus.FINAL


def test_sales_invoices_of_the_same_date_and_total_are_not_checked(finance, company):
    customer = make_partner(company)
    make_document(finance, partner=customer, finalise=True)
    again = make_document(finance, partner=customer)
    assert document_finalise(actor=finance, document_id=again.pk).status == DocumentStatus.FINAL


def test_purchase_credit_notes_are_checked_among_credit_notes(finance, supplier):
    first_bill = bill(finance, supplier, "M62-INV-9981", finalise=True)
    second_bill = bill(finance, supplier, "M62-INV-7000", price="10.00", finalise=True)
    credit = credit_note_create_from_invoice(
        actor=finance,
        invoice_id=first_bill.pk,
        issue_date=dt.date(2026, 11, 5),
        supplier_reference="CR-1",
    )
    # A credit note with the bill's own number is not a duplicate of the bill.
    document_finalise(actor=finance, document_id=credit.pk)
    again = credit_note_create_from_invoice(
        actor=finance,
        invoice_id=second_bill.pk,
        issue_date=dt.date(2026, 11, 6),
        supplier_reference="cr-1",
    )
    with pytest.raises(DuplicateDocumentError, match="purchase credit note"):
        document_finalise(actor=finance, document_id=again.pk)


def test_finalising_anyway_needs_a_reason_and_is_audited(finance, supplier):
    first = bill(finance, supplier, "M62-INV-9981", finalise=True)
    second = bill(finance, supplier, "M62-INV-9981")
    with pytest.raises(ApplicationError, match="at least 10 characters") as error:
        document_finalise(actor=finance, document_id=second.pk, duplicate_override_reason="  ok   ")
    assert error.value.field == "duplicate_override_reason"
    assert not AuditEntry.objects.filter(action="duplicate finalised anyway").exists()
    reason = "Supplier re-issued the bill for a second delivery on the same day"
    final = document_finalise(
        actor=finance, document_id=second.pk, duplicate_override_reason=reason
    )
    assert final.status == DocumentStatus.FINAL
    entry = AuditEntry.objects.get(action="duplicate finalised anyway")
    assert entry.company == finance.company
    assert entry.actor == finance.user
    assert entry.target == str(final)
    assert entry.changes["reason"] == reason
    assert entry.changes["duplicate_id"] == first.pk
    assert first.number in entry.changes["duplicate_of"]


def test_a_reason_is_not_needed_when_there_is_no_duplicate(finance, supplier):
    document = bill(finance, supplier, "M62-INV-9981")
    document_finalise(actor=finance, document_id=document.pk, duplicate_override_reason="x")
    assert not AuditEntry.objects.filter(action="duplicate finalised anyway").exists()


def test_the_supplier_number_is_stored_in_its_comparable_form(finance, supplier):
    document = bill(finance, supplier, "  M62 INV-9981 ")
    stored = Document.objects.get(pk=document.pk)
    assert stored.supplier_reference == "M62 INV-9981"
    assert stored.supplier_reference_key == "m62inv-9981"
