"""Changes made in Xero to documents we posted: compared with what we sent, against
the sandbox over real HTTP, shown on our document and never applied to it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ledgerbridge.accounting.fingerprint import DocumentFingerprint
from ledgerbridge.accounting.models import RemoteChange
from ledgerbridge.xero.polling import xero_payments_poll
from tests.ledgerbridge.factories import line, make_document

from .conftest import posted, state_of

pytestmark = pytest.mark.django_db


def _post(actor, django_capture_on_commit_callbacks, type="sales_invoice", **fields):
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(actor, type, finalise=True, **fields)
    return document, posted(document)


def test_what_xero_holds_of_what_we_posted_is_no_change_even_once_paid(
    signed_sandbox, linked, django_capture_on_commit_callbacks
):
    sandbox = signed_sandbox
    invoice, invoice_record = _post(
        linked,
        django_capture_on_commit_callbacks,
        lines=[
            line("freight", quantity="3", unit_price="333.3333"),
            line("fuel_surcharge", unit_price="63.50", discount="5"),
        ],
        reference="PO-1",
    )
    credit, _ = _post(linked, django_capture_on_commit_callbacks, "sales_credit_note", lines=1)
    kept = DocumentFingerprint.from_json(invoice_record.fingerprint)
    assert (kept.gross, kept.line_count, kept.reference) == (invoice.gross_total, 2, "PO-1")
    sandbox.control.record_payment(
        sandbox.tenant_id, invoice_id=invoice_record.external_id, amount=10
    )
    report = xero_payments_poll(company=linked.company, now=timezone.now())
    assert report.checked == 2
    assert state_of(invoice).status == "partly_paid"
    assert state_of(credit) is not None
    assert report.edits == 0
    assert not RemoteChange.objects.exists()


def test_documents_posted_before_fingerprints_were_kept_are_not_compared(
    signed_sandbox, linked, django_capture_on_commit_callbacks
):
    _, record = _post(linked, django_capture_on_commit_callbacks, lines=1)
    record.fingerprint = None
    record.save(update_fields=["fingerprint"])
    report = xero_payments_poll(company=linked.company, now=timezone.now() + dt.timedelta(hours=1))
    assert report.checked == 1 and report.edits == 0
    assert not RemoteChange.objects.exists()
