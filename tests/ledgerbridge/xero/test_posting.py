"""Posting documents to the sandbox through the outbox and the Xero connector."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from ledgerbridge.accounting.models import AccountingSettings, StepStatus, SyncRecord, SyncStatus
from ledgerbridge.accounting.outbox import sync_company_run
from ledgerbridge.invoicing.models import Task, TaskStatus
from tests.ledgerbridge.factories import line, make_document, make_partner, store_stand_in_pdf

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
        # Not about the PDF's content (the first test posts a rendered one): no rendering.
        store_stand_in_pdf(document)
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


def test_an_expired_token_mid_batch_is_refreshed_and_posting_goes_on(sandbox, manual):
    from django.utils import timezone

    from ledgerbridge.xero.models import XeroConnection

    documents = _queue(manual, 2)
    XeroConnection.objects.filter(company=manual.company).update(
        access_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    post_all(manual.company, runs=1)
    assert xero_numbers(sandbox) == sorted(d.number for d in documents)


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


def test_a_task_is_done_when_its_document_is_posted_not_when_it_was_finalised(
    sandbox, admin, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from ledgerbridge.invoicing.services import document_finalise

    AccountingSettings.objects.filter(company=admin.company).update(auto_post_sales_invoice=True)
    weeks_ago = timezone.now() - dt.timedelta(weeks=6)
    draft = make_document(admin, issue_date=weeks_ago.date())
    with django_capture_on_commit_callbacks(execute=True):
        document_finalise(actor=admin, document_id=draft.pk, now=weeks_ago)
    task = Task.objects.get(document=draft, type="post_to_xero")
    assert task.status == TaskStatus.IN_PROGRESS and task.completed_at == weeks_ago
    linked_at = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        authorise(sandbox, admin, [sandbox.tenant_id])
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.completed_at >= linked_at


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


def test_a_euro_invoice_goes_at_its_recorded_rate(
    sandbox, linked, django_capture_on_commit_callbacks
):
    customer = make_partner(linked.company, currency="EUR")
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(linked, partner=customer, exchange_rate="1.1655", finalise=True)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED, record.message
    [invoice] = xero_get(sandbox, f"Invoices/{record.external_id}")["Invoices"]
    assert invoice["CurrencyRate"] == 1.1655


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


def _call_ids(record: SyncRecord, action: str) -> list[str]:
    return [a.call_id for a in record.attempt_log.filter(action=action)]


def test_each_attempt_keeps_the_correlation_id_of_its_xero_call(sandbox, manual):
    documents = _queue(manual, 2)
    post_all(manual.company, runs=1)

    records = list(SyncRecord.objects.filter(document__in=documents).order_by("pk"))
    assert {r.status for r in records} == {SyncStatus.POSTED}
    posts = [_call_ids(r, "post") for r in records]
    attaches = [_call_ids(r, "attach") for r in records]
    # Both went in one request: one call, one id; each PDF went in a call of its own.
    assert posts[0] == posts[1] and len(posts[0]) == 1
    assert all(len(ids) == 1 for ids in attaches)
    every = {posts[0][0], attaches[0][0], attaches[1][0]}
    assert len(every) == 3
    assert all(str(uuid.UUID(value)) == value for value in every)
    # They are the ids of those very calls, as Xero (here its sandbox) logged them.
    logged = {c["correlation_id"]: c for c in sandbox.control.calls()}
    assert logged[posts[0][0]]["method"] == "PUT"
    assert logged[posts[0][0]]["path"].endswith("/Invoices")
    assert all("/Attachments/" in logged[a[0]]["path"] for a in attaches)


def test_a_refused_request_keeps_the_correlation_id_xero_support_asks_for(sandbox, manual):
    [document] = _queue(manual, 1)
    sandbox.control.add_fault("error", status=400, method="PUT", path="/Invoices$", times=1)
    post_all(manual.company, runs=1)

    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.FAILED
    [call_id] = _call_ids(record, "post")
    assert str(uuid.UUID(call_id)) == call_id


def test_a_call_that_never_reached_xero_has_no_correlation_id(sandbox, manual):
    [document] = _queue(manual, 1)
    sandbox.control.add_fault("drop", method="PUT", path="/Invoices$", times=1)
    post_all(manual.company, runs=1)

    record = SyncRecord.objects.get(document=document)
    assert record.attempt_log.filter(action="post", outcome="retry").exists()
    assert _call_ids(record, "post") == [""]


def test_a_document_found_after_a_lost_answer_keeps_the_fingerprint_of_what_was_sent(
    sandbox, manual
):
    from ledgerbridge.accounting.fingerprint import DocumentFingerprint

    [document] = _queue(manual, 1)
    sandbox.control.add_fault("drop", method="PUT", path="/Invoices$", times=1)
    post_all(manual.company, runs=3)

    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED
    assert record.attempt_log.filter(action="lookup", outcome="ok").exists()
    kept = DocumentFingerprint.from_json(record.fingerprint)
    assert (kept.gross, kept.line_count) == (document.gross_total, 1)
    assert kept.contact_id
