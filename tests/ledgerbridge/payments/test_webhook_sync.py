"""Payment status through the sandbox's signed webhooks, delivered to a running server."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from ledgerbridge.accounting.models import PaymentEvent, StepStatus
from ledgerbridge.accounting.outbox import sync_company_run
from ledgerbridge.xero.tasks import process_xero_webhooks
from tests.ledgerbridge.factories import line, make_document

from .conftest import deliver_until, posted, state_of, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _invoice(actor, amount: str = "500"):
    document = make_document(actor, lines=[line("freight", unit_price=amount)], finalise=True)
    return document, posted(document)


def test_a_payment_recorded_in_xero_makes_the_invoice_paid(signed_sandbox, linked, receiver):
    document, record = _invoice(linked)
    signed_sandbox.control.record_payment(
        signed_sandbox.tenant_id, invoice_id=record.external_id, reference="BACS 1"
    )
    state = deliver_until(signed_sandbox, document, "paid")
    assert state.amount_due == 0
    assert state.amount_paid == document.gross_total
    assert state.fully_paid_on is not None
    [payment] = state.payments.all()
    assert payment.reference == "BACS 1" and payment.amount == document.gross_total
    assert PaymentEvent.objects.filter(state=state, new_status="paid").exists()


def test_a_partial_payment_leaves_the_invoice_partly_paid_with_the_rest_due(
    signed_sandbox, linked, receiver
):
    document, record = _invoice(linked)
    signed_sandbox.control.record_payment(
        signed_sandbox.tenant_id, invoice_id=record.external_id, amount=100
    )
    state = deliver_until(signed_sandbox, document, "partly_paid")
    assert state.amount_paid == Decimal("100.00")
    assert state.amount_due == document.gross_total - Decimal("100.00")
    assert state.fully_paid_on is None


def test_a_deleted_payment_brings_the_invoice_back_to_unpaid(signed_sandbox, linked, receiver):
    document, record = _invoice(linked)
    payment = signed_sandbox.control.record_payment(
        signed_sandbox.tenant_id, invoice_id=record.external_id
    )
    deliver_until(signed_sandbox, document, "paid")
    signed_sandbox.control._call(
        "DELETE", f"/orgs/{signed_sandbox.tenant_id}/payments/{payment['PaymentID']}"
    )
    state = deliver_until(signed_sandbox, document, "unpaid")
    assert state.amount_paid == 0 and state.amount_due == document.gross_total
    assert not state.payments.exists()
    assert [e.new_status for e in state.events.order_by("id")][-2:] == ["paid", "unpaid"]


def test_an_invoice_voided_in_xero_shows_voided(signed_sandbox, linked, receiver):
    document, record = _invoice(linked)
    signed_sandbox.control.void_invoice(signed_sandbox.tenant_id, record.external_id)
    state = deliver_until(signed_sandbox, document, "voided")
    assert state.amount_due == 0


def test_a_credit_note_allocated_to_the_invoice_is_shown_on_both(signed_sandbox, linked, receiver):
    from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise

    invoice, record = _invoice(linked)
    signed_sandbox.control.record_payment(
        signed_sandbox.tenant_id, invoice_id=record.external_id, amount=100
    )
    deliver_until(signed_sandbox, invoice, "partly_paid")
    [invoice_line] = invoice.lines.all()
    credit = credit_note_create_from_invoice(
        actor=linked, invoice_id=invoice.pk, quantities={invoice_line.pk: "0.1"}
    )
    credit = document_finalise(actor=linked, document_id=credit.pk)
    credit_record = posted(credit)

    def allocated():
        # The worker allocates after posting; a run it put off is run here.
        sync_company_run(company_id=linked.company.pk, now=timezone.now())
        credit_record.refresh_from_db()
        return credit_record.allocation_status == StepStatus.DONE

    wait_for(allocated)
    credit_state = deliver_until(signed_sandbox, credit, "paid")
    [on_credit] = credit_state.allocations.all()
    assert on_credit.external_id == record.external_id
    assert on_credit.amount == credit.gross_total

    def invoice_credited():
        signed_sandbox.control.flush_webhooks()
        process_xero_webhooks()
        state = state_of(invoice)
        return state if state and state.amount_credited > 0 else None

    state = wait_for(invoice_credited)
    assert state.status == "partly_paid"
    [allocation] = state.allocations.all()
    assert allocation.external_id == credit_record.external_id
    assert allocation.amount == credit.gross_total
    assert state.amount_due == invoice.gross_total - Decimal("100.00") - credit.gross_total


@pytest.mark.browser
def test_in_the_browser_check_payments_now_shows_the_invoice_paid(
    page, live_server, signed_sandbox, linked
):
    from playwright.sync_api import expect

    from ledgerbridge.companies.models import Role
    from tests.ledgerbridge.factories import make_user

    document, record = _invoice(linked)
    signed_sandbox.control.update_app(signed_sandbox.client_id, webhook_url="")
    signed_sandbox.control.record_payment(signed_sandbox.tenant_id, invoice_id=record.external_id)
    make_user(linked.company, Role.FINANCE, username="fiona", password="lorry-load-42")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("fiona")
    page.get_by_label("Password").fill("lorry-load-42")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/invoices/")
    page.locator("#check-payments").click()
    expect(page.locator(".badge.pay-paid")).to_have_count(1)
    page.get_by_role("link", name=document.number).click()
    expect(page.locator("#payment-status")).to_have_text("Paid")
