"""The reconciliation endpoints: start a run, list and read runs, rows by class with
paging, acknowledge, act; Finance acts, a Viewer reads."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ledgerbridge.accounting.connector import connector_registered, reader_registered
from ledgerbridge.accounting.fake import FakeConnector
from ledgerbridge.accounting.models import AccountingPackage, AccountingSettings, SyncRecord
from ledgerbridge.companies.models import Role
from tests.ledgerbridge.accounting.conftest import final, post_all
from tests.ledgerbridge.factories import make_actor, make_company

from .conftest import client_for

pytestmark = pytest.mark.django_db

PERIOD = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


@pytest.fixture
def books():
    fake = FakeConnector()
    with (
        connector_registered(AccountingPackage.XERO_API, lambda: fake),
        reader_registered(AccountingPackage.XERO_API, lambda: fake),
    ):
        yield fake


@pytest.fixture
def company(db):
    company = make_company("Northway Haulage Ltd")
    AccountingSettings.objects.create(company=company, package=AccountingPackage.XERO_API)
    return company


def _one_agrees_one_differs(company, books):
    actor = make_actor(company, Role.SUPER_ADMIN)
    documents = [final(actor) for _ in range(2)]
    post_all(company)
    external_id = SyncRecord.objects.get(document=documents[1]).external_id
    books.edit(
        company, external_id, reference="typed", at=timezone.now() + timezone.timedelta(hours=1)
    )
    return documents


def _start(api):
    return api.post("/api/reconciliation/runs", PERIOD, content_type="application/json")


def test_finance_starts_a_run_and_reads_its_rows_by_class(
    client, company, books, django_capture_on_commit_callbacks
):
    documents = _one_agrees_one_differs(company, books)
    api = client_for(client, company, Role.FINANCE)
    with django_capture_on_commit_callbacks(execute=True):
        response = _start(api)
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    run = api.get(f"/api/reconciliation/runs/{run_id}").json()
    assert run["status"] == "done"
    assert (run["counts"]["agrees"], run["counts"]["differs"]) == (1, 1)
    # One page of the package's books, with lines: nothing needs reading by id.
    assert run["calls"] == 1 and run["bytes_read"] > 0
    assert [r["id"] for r in api.get("/api/reconciliation/runs").json()] == [run_id]

    page = api.get(f"/api/reconciliation/runs/{run_id}/rows?outcome=differs").json()
    assert page["count"] == 1
    [row] = page["items"]
    assert row["document_id"] == documents[1].pk
    assert row["theirs"]["reference"] == "typed"
    assert row["differences"][0].startswith("reference")
    all_rows = api.get(f"/api/reconciliation/runs/{run_id}/rows?page_size=1").json()
    assert all_rows["count"] == 2 and len(all_rows["items"]) == 1


def test_an_unknown_class_is_refused_in_words(client, company, books):
    actor = make_actor(company, Role.SUPER_ADMIN)
    from ledgerbridge.accounting.reconcile import reconciliation_run

    run = reconciliation_run(
        company,
        date_from=timezone.datetime(2026, 11, 1).date(),
        date_to=timezone.datetime(2026, 11, 30).date(),
        now=timezone.now(),
        actor=actor,
    )
    api = client_for(client, company)
    response = api.get(f"/api/reconciliation/runs/{run.pk}/rows?outcome=wrong")
    assert response.status_code == 422
    # The query parameter named as such (not "body"), with the classes it takes.
    [error] = response.json()["detail"]
    assert (error["loc"], error["field"]) == (["query", "outcome"], "outcome")
    assert error["msg"].startswith("Query parameter outcome: unknown class; choose ")
    assert "differs" in error["msg"] and "acknowledged" in error["msg"]


def test_acknowledge_with_a_reason_moves_the_row_to_acknowledged(
    client, company, books, django_capture_on_commit_callbacks
):
    _one_agrees_one_differs(company, books)
    api = client_for(client, company, Role.FINANCE)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = _start(api).json()["id"]
    [row] = api.get(f"/api/reconciliation/runs/{run_id}/rows?outcome=differs").json()["items"]
    url = f"/api/reconciliation/rows/{row['id']}/acknowledge"
    empty = api.post(url, {"reason": ""}, content_type="application/json")
    assert empty.status_code == 422
    response = api.post(
        url, {"reason": "Agreed with the customer"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["acknowledgement"]["reason"] == "Agreed with the customer"
    run = api.get(f"/api/reconciliation/runs/{run_id}").json()
    assert (run["counts"]["differs"], run["counts"]["acknowledged"]) == (0, 1)
    acknowledged = api.get(f"/api/reconciliation/runs/{run_id}/rows?outcome=acknowledged")
    assert acknowledged.json()["count"] == 1


def test_a_viewer_reads_but_may_not_start_acknowledge_or_act(
    client, company, books, django_capture_on_commit_callbacks
):
    _one_agrees_one_differs(company, books)
    finance = client_for(client, company, Role.FINANCE)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = _start(finance).json()["id"]
    viewer = client_for(client, company, Role.VIEWER)
    rows = viewer.get(f"/api/reconciliation/runs/{run_id}/rows").json()["items"]
    assert len(rows) == 2
    assert _start(viewer).status_code == 403
    row_id = rows[0]["id"]
    ack = viewer.post(
        f"/api/reconciliation/rows/{row_id}/acknowledge",
        {"reason": "x"},
        content_type="application/json",
    )
    assert ack.status_code == 403
    act = viewer.post(
        f"/api/reconciliation/rows/{row_id}/actions",
        {"action": "recheck"},
        content_type="application/json",
    )
    assert act.status_code == 403


def test_another_companys_runs_and_rows_are_not_found(
    client, company, books, django_capture_on_commit_callbacks
):
    _one_agrees_one_differs(company, books)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = _start(client_for(client, company)).json()["id"]
    other = make_company("Other Haulage Ltd")
    api = client_for(client, other)
    assert api.get(f"/api/reconciliation/runs/{run_id}").status_code == 404
    assert api.get(f"/api/reconciliation/runs/{run_id}/rows").status_code == 404
    assert api.get("/api/reconciliation/runs").json() == []


def test_an_unsafe_action_is_refused_with_the_reason(
    client, company, books, django_capture_on_commit_callbacks
):
    _one_agrees_one_differs(company, books)
    api = client_for(client, company)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = _start(api).json()["id"]
    [row] = api.get(f"/api/reconciliation/runs/{run_id}/rows?outcome=differs").json()["items"]
    response = api.post(
        f"/api/reconciliation/rows/{row['id']}/actions",
        {"action": "post"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Only a document missing" in response.json()["detail"]
    recheck = api.post(
        f"/api/reconciliation/rows/{row['id']}/actions",
        {"action": "recheck"},
        content_type="application/json",
    )
    assert recheck.status_code == 200 and recheck.json()["outcome"] == "differs"


def test_a_voided_bill_lists_its_choices_and_is_posted_again_through_the_api(
    client, company, books
):
    from ledgerbridge.accounting.models import PaymentState, PaymentStatus
    from ledgerbridge.accounting.reconcile import reconciliation_run
    from ledgerbridge.invoicing.models import DocumentType

    AccountingSettings.objects.filter(company=company).update(auto_post_purchase_invoice=True)
    actor = make_actor(company, Role.SUPER_ADMIN)
    invoice, bill = final(actor), final(actor, type=DocumentType.PURCHASE_INVOICE)
    post_all(company)
    later = timezone.now() + timezone.timedelta(hours=1)
    for document in (invoice, bill):
        record = SyncRecord.objects.get(document=document)
        books.void(company, record.external_id, at=later)
        PaymentState.objects.create(record=record, company=company, status=PaymentStatus.VOIDED)
    run = reconciliation_run(
        company,
        date_from=timezone.datetime(2026, 11, 1).date(),
        date_to=timezone.datetime(2026, 11, 30).date(),
        reader=books,
        now=later,
    )
    api = client_for(client, company, Role.FINANCE)
    rows = {
        r["document_id"]: r
        for r in api.get(f"/api/reconciliation/runs/{run.pk}/rows").json()["items"]
    }
    assert rows[bill.pk]["actions"] == ["credit", "post_again", "acknowledge"]
    assert rows[invoice.pk]["actions"] == ["credit", "acknowledge"]
    assert "Invoice # must be unique" in rows[invoice.pk]["not_offered"][0]

    refused = api.post(
        f"/api/reconciliation/rows/{rows[invoice.pk]['id']}/actions",
        {"action": "post_again"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "Invoice # must be unique" in refused.json()["detail"]

    viewer = client_for(client, company, Role.VIEWER)
    forbidden = viewer.post(
        f"/api/reconciliation/rows/{rows[bill.pk]['id']}/actions",
        {"action": "post_again"},
        content_type="application/json",
    )
    assert forbidden.status_code == 403

    api = client_for(client, company, Role.FINANCE)
    done = api.post(
        f"/api/reconciliation/rows/{rows[bill.pk]['id']}/actions",
        {"action": "post_again"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["outcome"] == "missing"
    assert SyncRecord.objects.get(document=bill).status == "pending"
