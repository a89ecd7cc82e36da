"""Polling as the safety net: with no webhook delivered, every status still arrives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from structlog.testing import capture_logs

from ledgerbridge.xero.models import XeroPaymentPoll
from ledgerbridge.xero.polling import companies_due_for_poll, xero_payments_poll
from tests.ledgerbridge.factories import line, make_document

from .conftest import posted, state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_webhooks(signed_sandbox):
    """The app has no webhook subscription: Xero sends nothing."""
    signed_sandbox.control.update_app(signed_sandbox.client_id, webhook_url="")
    return signed_sandbox


def _posted_invoices(actor, count: int, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        documents = [
            make_document(actor, lines=[line("freight", unit_price="300")], finalise=True)
            for _ in range(count)
        ]
    return [(d, posted(d)) for d in documents]


def test_polling_alone_brings_every_status_within_one_interval(
    no_webhooks, linked, django_capture_on_commit_callbacks, settings
):
    sandbox = no_webhooks
    first = timezone.now()
    # Nothing posted yet: nothing to ask Xero.
    assert xero_payments_poll(company=linked.company, now=first).calls == 0
    (paid, paid_r), (part, part_r), (void, void_r), (left, _) = _posted_invoices(
        linked, 4, django_capture_on_commit_callbacks
    )
    sandbox.control.record_payment(sandbox.tenant_id, invoice_id=paid_r.external_id)
    sandbox.control.record_payment(sandbox.tenant_id, invoice_id=part_r.external_id, amount=50)
    sandbox.control.void_invoice(sandbox.tenant_id, void_r.external_id)
    assert state_of(paid) is None
    interval = dt.timedelta(seconds=settings.XERO_PAYMENT_POLL_SECONDS)
    assert linked.company.pk not in companies_due_for_poll(now=first + interval / 2)
    assert linked.company.pk in companies_due_for_poll(now=first + interval)
    sandbox.control.clear_calls()
    report = xero_payments_poll(company=linked.company, now=first + interval)
    assert state_of(paid).status == "paid"
    assert state_of(part).status == "partly_paid"
    assert state_of(part).amount_paid == Decimal("50.00")
    assert state_of(void).status == "voided"
    assert state_of(left).status == "unpaid"
    assert state_of(left).last_checked_at == first + interval
    # One call per kind of document (invoices, credit notes) for up to 100 changed.
    assert report.calls == 2
    assert len(sandbox.control.calls(tenant_id=sandbox.tenant_id)) == 2


def test_a_poll_asks_only_for_what_changed_since_the_watermark(
    no_webhooks, linked, django_capture_on_commit_callbacks
):
    posted_docs = _posted_invoices(linked, 3, django_capture_on_commit_callbacks)
    now = timezone.now()
    assert xero_payments_poll(company=linked.company, now=now).checked == 3
    assert XeroPaymentPoll.objects.get(company=linked.company).invoices_since is not None
    no_webhooks.control.clock(advance_seconds=5)
    [(document, record), *_] = posted_docs
    no_webhooks.control.record_payment(no_webhooks.tenant_id, invoice_id=record.external_id)
    report = xero_payments_poll(company=linked.company, now=now + dt.timedelta(minutes=15))
    assert report.changed == 1 and state_of(document).status == "paid"
    report = xero_payments_poll(company=linked.company, now=now + dt.timedelta(minutes=30))
    # Only the invoice at the watermark's instant is read again (harmless); the
    # two unchanged earlier ones are not.
    assert (report.checked, report.changed) == (1, 0)


def test_the_poll_job_keeps_xero_being_down_as_the_reason_and_asks_again_next_round(
    no_webhooks, linked, django_capture_on_commit_callbacks, settings
):
    from ledgerbridge.xero.tasks import poll_xero_payments

    _posted_invoices(linked, 1, django_capture_on_commit_callbacks)
    no_webhooks.control.add_fault("error", status=503, method="GET")

    # Xero's weather is not a crash of the job: no exception (and no traceback
    # in the worker's log) reaches the queue, one warning says why.
    with capture_logs() as logs:
        poll_xero_payments.call_local(linked.company.pk)
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["xero.poll_deferred"]

    poll = XeroPaymentPoll.objects.get(company=linked.company)
    assert poll.last_error
    assert poll.last_polled_at is None
    later = timezone.now() + dt.timedelta(seconds=1)
    assert linked.company.pk in companies_due_for_poll(now=later)
