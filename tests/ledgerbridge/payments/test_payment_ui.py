"""What Finance sees: chips, filter, the document's payments, outstanding totals, API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import api_token_create
from ledgerbridge.xero.polling import xero_payments_poll
from tests.ledgerbridge.factories import PASSWORD, line, make_document, make_user

from .conftest import posted, state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(client, linked):
    user = make_user(linked.company, Role.FINANCE)
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def paid_and_open(signed_sandbox, linked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        paid = make_document(linked, lines=[line("freight", unit_price="200")], finalise=True)
        open_ = make_document(linked, lines=[line("freight", unit_price="300")], finalise=True)
    signed_sandbox.control.record_payment(
        signed_sandbox.tenant_id, invoice_id=posted(paid).external_id, reference="BACS 77"
    )
    xero_payments_poll(company=linked.company, now=timezone.now())
    return paid, open_


def test_the_list_shows_payment_chips_and_filters_by_payment_status(finance, paid_and_open):
    paid, open_ = paid_and_open
    html = finance.get("/invoices/").content.decode()
    assert 'class="badge pay-paid"' in html and 'class="badge pay-unpaid"' in html
    only_paid = finance.get("/invoices/", {"payment": "paid"}).content.decode()
    assert paid.number in only_paid and open_.number not in only_paid
    only_unpaid = finance.get("/invoices/", {"payment": "unpaid"}).content.decode()
    assert open_.number in only_unpaid and paid.number not in only_unpaid


def test_the_document_shows_its_payments_amounts_and_last_check(finance, paid_and_open):
    paid, _ = paid_and_open
    html = finance.get(f"/invoices/{paid.pk}/").content.decode()
    assert 'id="payment-status">Paid<' in html
    assert "BACS 77" in html
    assert 'id="payment-checked"' in html


def test_outstanding_receivables_add_up_what_is_still_due(finance, paid_and_open):
    _, open_ = paid_and_open
    html = finance.get("/invoices/outstanding").content.decode()
    assert "Receivables" in html and "Payables" in html
    assert f"{open_.gross_total:,.2f}" in html


def test_check_payments_now_polls_xero_for_the_company(
    finance, signed_sandbox, paid_and_open, django_capture_on_commit_callbacks
):
    _, open_ = paid_and_open
    signed_sandbox.control.record_payment(
        signed_sandbox.tenant_id, invoice_id=posted(open_).external_id, amount=10
    )
    with django_capture_on_commit_callbacks(execute=True):
        answer = finance.post("/invoices/check-payments", follow=True)
    assert "Checking payments in Xero now." in answer.content.decode()
    assert state_of(open_).status == "partly_paid"


def test_a_viewer_cannot_check_payments(client, linked, signed_sandbox):
    user = make_user(linked.company, Role.VIEWER)
    client.login(username=user.username, password=PASSWORD)
    assert client.post("/invoices/check-payments").status_code == 403


def test_the_api_gives_the_payment_status_of_a_document(linked, paid_and_open):
    paid, _ = paid_and_open
    _, raw = api_token_create(actor=linked, name="TMS", role=Role.VIEWER)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = api.get(f"/api/documents/{paid.pk}").json()
    payment = body["xero"]["payment"]
    assert payment["status"] == "paid"
    assert payment["amount_due"] == "0.00"
    assert payment["payments"][0]["reference"] == "BACS 77"
    assert payment["last_checked_at"]
