"""A Xero user changes a document we posted; the sandbox fires Xero's webhooks (or
the poll reads it), and our document shows what changed, left as it was."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from ledgerbridge.accounting.models import RemoteChange
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.invoicing.models import Document
from ledgerbridge.xero.client import XeroClient
from ledgerbridge.xero.polling import xero_payments_poll
from ledgerbridge.xero.tasks import process_xero_webhooks
from tests.ledgerbridge.factories import line, make_document, make_user

from .conftest import posted, wait_for


def _invoice(actor):
    # One line of 1,000.00 on account 200 at 20 %: 1,200.00 GBP.
    document = make_document(actor, lines=[line("freight", unit_price="1000")], finalise=True)
    return document, posted(document)


def _cut_line_to_260(sandbox, company, record) -> None:
    """What a Xero user does: the line's amount down to 833.33 and its account to 260."""
    client = XeroClient(company)
    [held] = client.call(client.api.get_invoice, record.external_id).invoices
    [item] = held.line_items
    sandbox.control.edit_invoice(
        sandbox.tenant_id,
        record.external_id,
        LineItems=[
            {"LineItemID": str(item.line_item_id), "UnitAmount": 833.33, "AccountCode": "260"}
        ],
    )


EXPECTED = [
    "total 1,200.00 GBP → 1,000.00 GBP",
    "net 1,000.00 GBP → 833.33 GBP",
    "tax 200.00 GBP → 166.67 GBP",
    "account 200 → 260",
    "amount 1,000.00 GBP → 833.33 GBP",
]


@pytest.mark.django_db(transaction=True)
def test_an_invoice_edited_in_xero_shows_the_change_after_one_webhook_round(
    signed_sandbox, linked, receiver, client
):
    sandbox = signed_sandbox
    document, record = _invoice(linked)
    _cut_line_to_260(sandbox, linked.company, record)

    def one_round():
        sandbox.control.flush_webhooks()
        process_xero_webhooks()
        return RemoteChange.objects.filter(record=record).first()

    change = wait_for(one_round, timeout=20, every=0.1)
    assert change.source == "webhook"
    assert change.differences == EXPECTED
    assert change.remote_updated_at is not None
    # Ours is never overwritten.
    document = Document.objects.get(pk=document.pk)
    assert document.gross_total == Decimal("1200.00")
    assert document.lines.get().nominal_code.code == "200"
    [audit] = AuditEntry.objects.filter(action="document changed in accounting package")
    assert audit.changes["differences"] == EXPECTED
    assert audit.target.endswith(document.display_number)

    # More events for the same state (a payment) record nothing new.
    sandbox.control.record_payment(sandbox.tenant_id, invoice_id=record.external_id, amount=10)
    for _ in range(3):
        sandbox.control.flush_webhooks()
        process_xero_webhooks()
    assert RemoteChange.objects.filter(record=record).count() == 1

    make_user(linked.company, Role.VIEWER, username="vera", password="lorry-load-42")
    client.login(username="vera", password="lorry-load-42")
    page = client.get(f"/invoices/{document.pk}/").content.decode()
    day = timezone.localtime(change.remote_updated_at)
    assert f"Changed in Xero on {day.day} {day:%b}:</strong> " + ", ".join(EXPECTED) in page


@pytest.mark.django_db
def test_a_credit_note_edited_in_xero_is_found_by_the_poll_and_agreeing_again_is_recorded(
    signed_sandbox, linked, django_capture_on_commit_callbacks
):
    sandbox = signed_sandbox
    with django_capture_on_commit_callbacks(execute=True):
        credit = make_document(
            linked, "sales_credit_note", lines=[line("freight", unit_price="100")], finalise=True
        )
    record = posted(credit)
    sandbox.control.clock(advance_seconds=5)
    sandbox.control.edit_credit_note(
        sandbox.tenant_id, record.external_id, Reference="typed in Xero"
    )
    report = xero_payments_poll(company=linked.company, now=timezone.now())
    assert report.edits == 1
    [change] = RemoteChange.objects.filter(record=record)
    assert (change.source, change.differences) == ("poll", ["reference “” → “typed in Xero”"])
    sandbox.control.clock(advance_seconds=5)
    sandbox.control.edit_credit_note(sandbox.tenant_id, record.external_id, Reference="")
    assert xero_payments_poll(company=linked.company, now=timezone.now()).edits == 1
    latest = RemoteChange.objects.filter(record=record).first()
    assert latest.differences == []
    assert AuditEntry.objects.filter(
        action="document agrees with accounting package again"
    ).exists()


@pytest.mark.browser
def test_in_the_browser_the_document_shows_what_was_changed_in_xero(
    page, live_server, signed_sandbox, linked, tmp_path: Path
):
    from playwright.sync_api import expect

    sandbox = signed_sandbox
    sandbox.control.update_app(sandbox.client_id, webhook_url="")
    document, record = _invoice(linked)
    _cut_line_to_260(sandbox, linked.company, record)
    assert xero_payments_poll(company=linked.company, now=timezone.now()).edits == 1
    make_user(linked.company, Role.FINANCE, username="fiona", password="lorry-load-42")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("fiona")
    page.get_by_label("Password").fill("lorry-load-42")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/invoices/{document.pk}/")
    banner = page.locator("#changed-in-xero")
    expect(banner).to_contain_text("Changed in Xero on")
    expect(banner).to_contain_text("total 1,200.00 GBP → 1,000.00 GBP")
    expect(banner).to_contain_text("account 200 → 260")
    page.screenshot(path=str(tmp_path / "changed-in-xero.png"))
