"""Posting documents to the sandbox through the outbox and the Xero connector."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from ledgerbridge.accounting.models import AccountingSettings, StepStatus, SyncRecord, SyncStatus
from ledgerbridge.accounting.outbox import sync_company_run
from ledgerbridge.invoicing.models import Task, TaskStatus
from tests.ledgerbridge.factories import line, make_document, make_partner

from .conftest import authorise

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    return admin


def xero_get(sandbox, path, **params):
    tokens = sandbox.control.mint_token(tenant_ids=[sandbox.tenant_id])
    answer = httpx.get(
        f"{sandbox.base_url}/api.xro/2.0/{path}",
        params=params,
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "xero-tenant-id": sandbox.tenant_id,
            "Accept": "application/json",
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_final_sales_invoice_is_posted_with_lines_tracking_and_its_pdf(
    sandbox, linked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(
            linked,
            lines=[
                line("freight", quantity="2", unit_price="450"),
                line("fuel_surcharge", unit_price="63.50"),
            ],
            finalise=True,
        )
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED, record.message
    assert record.attachment_status == StepStatus.DONE
    [invoice] = xero_get(sandbox, f"Invoices/{record.external_id}")["Invoices"]
    assert invoice["InvoiceNumber"] == document.number
    assert invoice["Type"] == "ACCREC"
    assert invoice["Total"] == float(document.gross_total)
    assert [li["AccountCode"] for li in invoice["LineItems"]] == ["200", "201"]
    assert invoice["LineItems"][0]["Tracking"][0]["Option"] == "Domestic"
    attachments = xero_get(sandbox, f"Invoices/{record.external_id}/Attachments")["Attachments"]
    assert [a["FileName"] for a in attachments] == [f"{document.number}.pdf"]
    task = Task.objects.get(document=document, type="post_to_xero")
    assert task.status == TaskStatus.DONE
    assert "Posted to Xero" in task.message


def post_all(company, runs: int = 3):
    """Run the worker a few times, as the queue and the sweep would."""
    from django.utils import timezone

    from ledgerbridge.accounting.models import SyncRecord

    for _ in range(runs):
        SyncRecord.objects.filter(company=company, status=SyncStatus.PENDING).update(
            next_attempt_at=None
        )
        sync_company_run(company_id=company.pk, now=timezone.now())


def xero_numbers(sandbox) -> list[str]:
    return sorted(i["InvoiceNumber"] for i in xero_get(sandbox, "Invoices")["Invoices"])


@pytest.fixture
def manual(linked):
    AccountingSettings.objects.filter(company=linked.company).update(auto_post_sales_invoice=False)
    return linked


def test_manual_mode_leaves_the_task_open_until_a_user_completes_it(sandbox, manual):
    from ledgerbridge.invoicing.workflow import task_complete

    document = make_document(manual, finalise=True)
    task = Task.objects.get(document=document, type="post_to_xero")
    assert (
        task.status == TaskStatus.OPEN and not SyncRecord.objects.filter(document=document).exists()
    )
    task_complete(actor=manual, task_id=task.pk)
    post_all(manual.company)
    assert SyncRecord.objects.get(document=document).status == SyncStatus.POSTED


def test_one_contact_per_partner_however_many_documents(sandbox, manual):
    partner = make_partner(manual.company, name="Brightwater Beverages plc")
    for _ in range(3):
        make_document(manual, partner=partner, finalise=True)
    from ledgerbridge.invoicing.workflow import task_complete

    for task in Task.objects.filter(document__company=manual.company, type="post_to_xero"):
        task_complete(actor=manual, task_id=task.pk)
        post_all(manual.company, runs=1)
    contacts = xero_get(sandbox, "Contacts", where='Name=="Brightwater Beverages plc"')["Contacts"]
    assert len(contacts) == 1
    assert contacts[0]["ContactNumber"] == partner.number


def _queue(manual, count, **kwargs):
    from ledgerbridge.invoicing.workflow import task_complete

    documents = [make_document(manual, lines=1, finalise=True, **kwargs) for _ in range(count)]
    for document in documents:
        task_complete(
            actor=manual, task_id=Task.objects.get(document=document, type="post_to_xero").pk
        )
    return documents


def test_fifty_documents_go_in_one_request(sandbox, manual):
    documents = _queue(manual, 50)
    sandbox.control.clear_calls()
    post_all(manual.company, runs=1)
    puts = [
        c
        for c in sandbox.control.calls()
        if c["method"] == "PUT" and c["path"].endswith("/Invoices")
    ]
    assert len(puts) == 1
    assert xero_numbers(sandbox) == sorted(d.number for d in documents)


def test_one_bad_document_in_fifty_fails_alone_and_posts_after_the_fix(sandbox, manual):
    from ledgerbridge.accounting.outbox import sync_record_retry

    documents = _queue(manual, 49)
    bad = _queue(manual, 1, issue_date=dt.date(2026, 3, 1))[0]
    sandbox.control.set_lock_date(sandbox.tenant_id, "2026-06-30")
    post_all(manual.company, runs=1)
    records = {r.document_id: r for r in SyncRecord.objects.filter(company=manual.company)}
    assert sum(r.status == SyncStatus.POSTED for r in records.values()) == 49
    assert records[bad.pk].status == SyncStatus.FAILED
    assert records[bad.pk].message  # Xero's words about the lock date
    task = Task.objects.get(document=bad, type="post_to_xero")
    assert task.status == TaskStatus.FAILED and "Xero refused it" in task.message

    sandbox.control.set_lock_date(sandbox.tenant_id, None)
    sync_record_retry(actor=manual, document_id=bad.pk)
    post_all(manual.company, runs=1)
    assert SyncRecord.objects.get(document=bad).status == SyncStatus.POSTED
    assert xero_numbers(sandbox) == sorted(d.number for d in [*documents, bad])


def test_a_response_dropped_after_commit_posts_exactly_once(sandbox, manual):
    documents = _queue(manual, 3)
    sandbox.control.add_fault("drop", method="PUT", path="/Invoices$", times=1)
    post_all(manual.company, runs=3)
    assert all(
        r.status == SyncStatus.POSTED for r in SyncRecord.objects.filter(company=manual.company)
    )
    assert xero_numbers(sandbox) == sorted(d.number for d in documents)


def test_server_errors_then_success_post_exactly_once(sandbox, manual):
    documents = _queue(manual, 2)
    sandbox.control.add_fault("error", status=503, method="PUT", path="/Invoices$", times=2)
    post_all(manual.company, runs=4)
    assert all(
        r.status == SyncStatus.POSTED for r in SyncRecord.objects.filter(company=manual.company)
    )
    assert xero_numbers(sandbox) == sorted(d.number for d in documents)


def test_a_429_storm_posts_everything_exactly_once(sandbox, manual):
    documents = _queue(manual, 5)
    sandbox.control.add_fault("rate_limit", retry_after=1, times=4)
    post_all(manual.company, runs=6)
    assert all(
        r.status == SyncStatus.POSTED for r in SyncRecord.objects.filter(company=manual.company)
    )
    assert xero_numbers(sandbox) == sorted(d.number for d in documents)


def test_an_expired_token_mid_batch_is_refreshed_and_posting_goes_on(sandbox, manual):
    from django.utils import timezone

    from ledgerbridge.xero.models import XeroConnection

    documents = _queue(manual, 2)
    XeroConnection.objects.filter(company=manual.company).update(
        access_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    post_all(manual.company, runs=1)
    assert xero_numbers(sandbox) == sorted(d.number for d in documents)


def test_a_worker_killed_after_sending_leaves_a_record_that_is_settled_by_lookup(sandbox, manual):
    from django.utils import timezone

    from ledgerbridge.accounting.connector import connector_for

    [document] = _queue(manual, 1)
    # The worker claimed it, stored its key and sent it... then died before saving the answer.
    record = SyncRecord.objects.get(document=document)
    record.status, record.attempts, record.request_key = SyncStatus.POSTING, 1, "lb-test-key"
    record.claimed_at = timezone.now() - dt.timedelta(hours=1)
    record.save()
    connector_for("xero_api").post(manual.company, [record], request_key="lb-test-key")
    sandbox.control.clear_calls()
    post_all(manual.company, runs=2)
    record.refresh_from_db()
    assert record.status == SyncStatus.POSTED
    assert xero_numbers(sandbox) == [document.number]
    assert not [
        c
        for c in sandbox.control.calls()
        if c["method"] == "PUT" and c["path"].endswith("/Invoices")
    ]


def test_documents_wait_while_the_link_is_not_connected(
    sandbox, admin, django_capture_on_commit_callbacks
):
    AccountingSettings.objects.filter(company=admin.company).update(auto_post_sales_invoice=True)
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(admin, finalise=True)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.PENDING
    assert "not connected to Xero" in record.message
    with django_capture_on_commit_callbacks(execute=True):
        authorise(sandbox, admin, [sandbox.tenant_id])
    record.refresh_from_db()
    assert record.status == SyncStatus.POSTED


def test_a_credit_note_is_allocated_to_its_posted_invoice(
    sandbox, linked, django_capture_on_commit_callbacks
):
    from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise

    with django_capture_on_commit_callbacks(execute=True):
        invoice = make_document(linked, lines=[line("freight", unit_price="100")], finalise=True)
    with django_capture_on_commit_callbacks(execute=True):
        credit = credit_note_create_from_invoice(actor=linked, invoice_id=invoice.pk)
        document_finalise(actor=linked, document_id=credit.pk)
    record = SyncRecord.objects.get(document=credit)
    assert record.status == SyncStatus.POSTED, record.message
    assert record.allocation_status == StepStatus.DONE, record.allocation_message
    [xero_invoice] = xero_get(
        sandbox, f"Invoices/{SyncRecord.objects.get(document=invoice).external_id}"
    )["Invoices"]
    assert xero_invoice["AmountDue"] == 0


def test_a_credit_note_for_a_paid_invoice_stays_unallocated_with_a_note(
    sandbox, linked, django_capture_on_commit_callbacks
):
    from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise

    with django_capture_on_commit_callbacks(execute=True):
        invoice = make_document(linked, lines=[line("freight", unit_price="100")], finalise=True)
    sandbox.control.record_payment(
        sandbox.tenant_id, invoice_id=SyncRecord.objects.get(document=invoice).external_id
    )
    with django_capture_on_commit_callbacks(execute=True):
        credit = credit_note_create_from_invoice(actor=linked, invoice_id=invoice.pk)
        document_finalise(actor=linked, document_id=credit.pk)
    record = SyncRecord.objects.get(document=credit)
    assert record.allocation_status == StepStatus.SKIPPED
    assert "already paid" in record.allocation_message


def test_purchase_invoices_go_as_bills_with_the_suppliers_number(
    sandbox, linked, django_capture_on_commit_callbacks
):
    from ledgerbridge.invoicing.workflow import task_complete

    bill = make_document(linked, "purchase_invoice", supplier_reference="M62-88411", finalise=True)
    with django_capture_on_commit_callbacks(execute=True):
        task_complete(actor=linked, task_id=Task.objects.get(document=bill, type="post_to_xero").pk)
    record = SyncRecord.objects.get(document=bill)
    [xero_bill] = xero_get(sandbox, f"Invoices/{record.external_id}")["Invoices"]
    assert (xero_bill["Type"], xero_bill["InvoiceNumber"]) == ("ACCPAY", "M62-88411")
    assert bill.number in xero_bill["Reference"]
    assert "AccountsPayable/View.aspx" in record.external_url


def test_the_api_posts_documents_and_shows_their_xero_status(
    client, sandbox, manual, django_capture_on_commit_callbacks
):
    from ledgerbridge.companies.models import Role
    from ledgerbridge.companies.services import api_token_create

    _, raw = api_token_create(actor=manual, name="TMS", role=Role.FINANCE)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    document = make_document(manual, finalise=True)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/api/documents/post-to-xero",
            {"document_ids": [document.pk]},
            content_type="application/json",
        )
    assert answer.json() == {"queued": 1}
    body = client.get(f"/api/documents/{document.pk}").json()
    assert body["xero"]["status"] == "posted"
    assert body["xero"]["xero_number"] == document.number
    listing = client.get("/api/documents", {"xero": "posted"}).json()
    assert [item["id"] for item in listing["items"]] == [document.pk]


def test_switching_away_from_xero_api_hides_post_tasks_and_keeps_their_history(linked):
    from ledgerbridge.accounting.services import accounting_package_set
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.invoicing.workflow import document_tasks

    AccountingSettings.objects.filter(company=linked.company).update(auto_post_sales_invoice=False)
    document = make_document(linked, finalise=True)
    staff = Actor(company=linked.company, role="", user=linked.user, is_platform_staff=True)
    accounting_package_set(actor=staff, package="xero_file")
    assert document_tasks(document=document) == []
    assert Task.objects.filter(document=document, type="post_to_xero", hidden=True).exists()
    later = make_document(linked, finalise=True)
    assert not Task.objects.filter(document=later).exists()
    accounting_package_set(actor=staff, package="xero_api")
    assert [t.type for t in document_tasks(document=document)] == ["post_to_xero"]


def test_a_euro_invoice_goes_in_euros(sandbox, linked, django_capture_on_commit_callbacks):
    customer = make_partner(
        linked.company, name="Bretagne Primeurs SARL", country="FR", currency="EUR"
    )
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(
            linked, partner=customer, lines=[line(tax_rate="Z0S")], finalise=True
        )
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED, record.message
    [invoice] = xero_get(sandbox, f"Invoices/{record.external_id}")["Invoices"]
    assert invoice["CurrencyCode"] == "EUR"


def test_the_daily_limit_pauses_posting_until_xero_says(sandbox, manual):
    _queue(manual, 2)
    sandbox.control.add_fault("rate_limit", problem="day", retry_after=7200, times=10)
    post_all(manual.company, runs=1)
    settings_row = AccountingSettings.objects.get(company=manual.company)
    assert settings_row.paused_until is not None
    records = SyncRecord.objects.filter(company=manual.company)
    assert {r.status for r in records} == {SyncStatus.PENDING}
    assert all("daily limit" in r.message for r in records)
    calls = [c for c in sandbox.control.calls() if c["status"] == 429]
    assert len(calls) == 1  # asked once, then waited: no retry storm


def test_every_call_has_a_timeout():
    from ledgerbridge.xero.client import REQUEST_TIMEOUT

    connect, read = REQUEST_TIMEOUT
    assert 0 < connect <= 10 and 0 < read <= 60


def test_a_whole_request_refused_by_xero_fails_each_document_with_the_reason(sandbox, manual):
    documents = _queue(manual, 2)
    sandbox.control.add_fault("error", status=400, method="PUT", path="/Invoices$", times=1)
    post_all(manual.company, runs=1)
    records = SyncRecord.objects.filter(document__in=documents)
    assert {r.status for r in records} == {SyncStatus.FAILED}
    assert all(r.message for r in records)
