"""Before posting, bills are checked against Xero: one entered there by hand (same
contact, same supplier number) stops ours, until a Finance user says why it is another."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.accounting.outbox import sync_record_retry
from ledgerbridge.companies.models import AuditEntry
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.models import DocumentType, PartnerKind, Task
from ledgerbridge.invoicing.workflow import task_complete
from tests.ledgerbridge.factories import line, make_document, make_partner

from .conftest import authorise
from .test_posting import post_all, xero_get

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    return admin


HEADER = (
    "*ContactName,*InvoiceNumber,*InvoiceDate,*DueDate,Description,*Quantity,*UnitAmount,"
    "*AccountCode,*TaxType,Currency\n"
)


def type_into_xero(sandbox, supplier_name: str, number: str, amount: str = "640.00") -> None:
    """A Xero user enters the bill (through Xero's bills import)."""
    row = (
        f"{supplier_name},{number},02/11/2026,02/12/2026,Diesel,1,{amount},330,"
        "20% (VAT on Expenses),GBP\n"
    )
    answer = sandbox.control.http.post(
        f"/sandbox/orgs/{sandbox.tenant_id}/import/bills", content=(HEADER + row).encode()
    )
    assert answer.status_code == 200, answer.text


def post_bill(actor, supplier, reference: str, **kwargs):
    bill = make_document(
        actor,
        DocumentType.PURCHASE_INVOICE,
        partner=supplier,
        supplier_reference=reference,
        lines=[line("fuel", sales=False, unit_price="640.00")],
        finalise=True,
        **kwargs,
    )
    task_complete(actor=actor, task_id=Task.objects.get(document=bill, type="post_to_xero").pk)
    post_all(actor.company)
    return bill, SyncRecord.objects.get(document=bill)


def xero_bills(sandbox, number: str) -> list[dict]:
    bills = xero_get(sandbox, "Invoices", where='Type=="ACCPAY"')["Invoices"]
    return [b for b in bills if b["InvoiceNumber"].lower().replace(" ", "") == number]


@pytest.fixture
def supplier(linked):
    return make_partner(linked.company, PartnerKind.SUPPLIER, name="M62 Fuels Ltd")


def test_a_bill_entered_in_xero_stops_ours_with_a_link(sandbox, linked, supplier):
    type_into_xero(sandbox, "M62 Fuels Ltd", "M62-INV-9981")
    [theirs] = xero_bills(sandbox, "m62-inv-9981")
    sandbox.control.clear_calls()
    _, record = post_bill(linked, supplier, "m62-inv - 9981")
    # One extra read for the batch, and nothing written.
    calls = [
        c
        for c in sandbox.control.calls(tenant_id=sandbox.tenant_id)
        if c["path"].endswith("/Invoices")
    ]
    assert [c["method"] for c in calls] == ["GET"]
    assert "ContactIDs=" in calls[0]["query"]
    assert record.status == SyncStatus.FAILED
    assert record.message.startswith(
        "Not posted: a bill with this supplier number already exists in Xero "
        "(M62-INV-9981 of 2 Nov 2026, 768.00 GBP, "
    )
    assert theirs["InvoiceID"] in unquote(record.duplicate_url)
    assert theirs["InvoiceID"] in record.message
    assert len(xero_bills(sandbox, "m62-inv-9981")) == 1
    task = Task.objects.get(document=record.document, type="post_to_xero")
    assert task.status == "failed"
    assert task.message == record.message  # says what to do, not "Fix it and retry"


def test_posting_anyway_takes_a_reason_is_audited_and_posts(sandbox, linked, supplier):
    type_into_xero(sandbox, "M62 Fuels Ltd", "M62-INV-9981")
    bill, record = post_bill(linked, supplier, "M62-INV-9981")
    assert record.status == SyncStatus.FAILED
    with pytest.raises(ApplicationError, match="at least 10 characters"):
        sync_record_retry(actor=linked, document_id=bill.pk, duplicate_override_reason="same")
    reason = "Supplier numbers each delivery note the same way"
    sync_record_retry(actor=linked, document_id=bill.pk, duplicate_override_reason=reason)
    post_all(linked.company)
    record.refresh_from_db()
    assert record.status == SyncStatus.POSTED, record.message
    assert record.duplicate_url == ""
    assert len(xero_bills(sandbox, "m62-inv-9981")) == 2
    entry = AuditEntry.objects.get(action="duplicate posted anyway")
    assert entry.changes["reason"] == reason
    assert entry.target == str(bill)


def test_a_plain_retry_checks_again(sandbox, linked, supplier):
    type_into_xero(sandbox, "M62 Fuels Ltd", "M62-INV-9981")
    bill, record = post_bill(linked, supplier, "M62-INV-9981")
    [theirs] = xero_bills(sandbox, "m62-inv-9981")
    sync_record_retry(actor=linked, document_id=bill.pk)
    post_all(linked.company)
    record.refresh_from_db()
    assert record.status == SyncStatus.FAILED
    # Voided in Xero: no longer a duplicate.
    sandbox.control.void_invoice(sandbox.tenant_id, theirs["InvoiceID"])
    sync_record_retry(actor=linked, document_id=bill.pk)
    post_all(linked.company)
    record.refresh_from_db()
    assert record.status == SyncStatus.POSTED, record.message


def test_other_numbers_and_other_suppliers_post(sandbox, linked, supplier):
    type_into_xero(sandbox, "M62 Fuels Ltd", "M62-INV-9981")
    _, record = post_bill(linked, supplier, "M62-INV-9982", issue_date=None)
    assert record.status == SyncStatus.POSTED, record.message
    other = make_partner(linked.company, PartnerKind.SUPPLIER, name="Pennine Tyres Ltd")
    _, record = post_bill(linked, other, "M62-INV-9981")
    assert record.status == SyncStatus.POSTED, record.message


def test_our_own_posted_bill_is_not_a_duplicate_in_xero(sandbox, linked, supplier):
    _, record = post_bill(linked, supplier, "M62-INV-9981")
    assert record.status == SyncStatus.POSTED
    # Finalised anyway here (audited), so the check against Xero does not ask again.
    second = make_document(
        linked,
        DocumentType.PURCHASE_INVOICE,
        partner=supplier,
        supplier_reference="M62-INV-9981",
        lines=[line("fuel", sales=False, unit_price="12.00")],
    )
    from ledgerbridge.invoicing.services import document_finalise

    document_finalise(
        actor=linked,
        document_id=second.pk,
        duplicate_override_reason="Second delivery billed under one number",
    )
    task_complete(actor=linked, task_id=Task.objects.get(document=second, type="post_to_xero").pk)
    post_all(linked.company)
    assert SyncRecord.objects.get(document=second).status == SyncStatus.POSTED


def test_purchase_credit_notes_are_checked_against_xero_credit_notes(sandbox, linked, supplier):
    bill, _ = post_bill(linked, supplier, "M62-INV-9981")
    from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise

    credit = credit_note_create_from_invoice(
        actor=linked, invoice_id=bill.pk, supplier_reference="CR-77"
    )
    document_finalise(actor=linked, document_id=credit.pk)
    row = (
        "M62 Fuels Ltd,CR-77,03/11/2026,03/11/2026,Refund,1,-10.00,330,20% (VAT on Expenses),GBP\n"
    )
    answer = sandbox.control.http.post(
        f"/sandbox/orgs/{sandbox.tenant_id}/import/bills", content=(HEADER + row).encode()
    )
    assert answer.status_code == 200, answer.text
    task_complete(actor=linked, task_id=Task.objects.get(document=credit, type="post_to_xero").pk)
    post_all(linked.company)
    record = SyncRecord.objects.get(document=credit)
    assert record.status == SyncStatus.FAILED
    assert "a credit note with this supplier number already exists in Xero" in record.message


def test_the_document_page_offers_post_anyway_with_a_reason(client, sandbox, linked, supplier):
    from django.urls import reverse

    from tests.ledgerbridge.factories import PASSWORD, make_user

    type_into_xero(sandbox, "M62 Fuels Ltd", "M62-INV-9981")
    bill, record = post_bill(linked, supplier, "M62-INV-9981")
    user = make_user(linked.company, "finance")
    client.login(username=user.username, password=PASSWORD)
    page = client.get(reverse("document_detail", args=[bill.pk])).content.decode()
    assert 'id="post-anyway"' in page
    assert 'id="xero-duplicate-link"' in page
    assert "already exists in Xero" in page
    short = client.post(
        reverse("document_sync_retry", args=[bill.pk]), {"duplicate_override_reason": "hmm"}
    )
    assert "at least 10 characters" in short.content.decode()
    record.refresh_from_db()
    assert record.status == SyncStatus.FAILED and not record.allow_duplicate
    done = client.post(
        reverse("document_sync_retry", args=[bill.pk]),
        {"duplicate_override_reason": "Two deliveries, one supplier number"},
    )
    assert done.status_code == 302
    record.refresh_from_db()
    assert record.allow_duplicate


def forget_posting(record: SyncRecord) -> None:
    """The database no longer knows it was posted: restored from a backup taken before."""
    SyncRecord.objects.filter(pk=record.pk).update(
        status=SyncStatus.PENDING,
        external_id="",
        external_number="",
        request_key="",
        attachment_status="pending",
        next_attempt_at=None,
    )


def test_a_bill_xero_holds_from_our_own_forgotten_posting_is_ours_not_a_duplicate(
    sandbox, linked, supplier
):
    _, record = post_bill(linked, supplier, "M62-INV-5150")
    xero_id = record.external_id
    forget_posting(record)
    post_all(linked.company)
    record.refresh_from_db()
    assert record.status == SyncStatus.POSTED, record.message
    assert record.external_id == xero_id
    assert [b["InvoiceID"] for b in xero_bills(sandbox, "m62-inv-5150")] == [xero_id]


def test_a_sales_invoice_xero_holds_from_our_own_forgotten_posting_is_taken_as_posted(
    sandbox, linked
):
    invoice = make_document(linked, lines=1, finalise=True)
    if not SyncRecord.objects.filter(document=invoice).exists():
        task_complete(
            actor=linked, task_id=Task.objects.get(document=invoice, type="post_to_xero").pk
        )
    post_all(linked.company)
    record = SyncRecord.objects.get(document=invoice)
    xero_id = record.external_id
    assert record.status == SyncStatus.POSTED and xero_id
    forget_posting(record)
    post_all(linked.company)
    record.refresh_from_db()
    # Xero refuses the number it holds; the lookup finds our invoice for the same contact.
    assert record.status == SyncStatus.POSTED, record.message
    assert record.external_id == xero_id
    held = xero_get(sandbox, "Invoices", where=f'InvoiceNumber=="{invoice.number}"')["Invoices"]
    assert [i["InvoiceID"] for i in held] == [xero_id]
