"""End to end, in Debian's chromium: a Xero user changes an invoice's total in the
sandbox; after one webhook round our document shows the change, the reconciliation
page lists it under Differs, and acknowledging it with a reason moves it to
Acknowledged (issue 15's "must show")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import (
    ReconciliationAcknowledgement,
    ReconciliationRow,
    RemoteChange,
)
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.xero.tasks import process_xero_webhooks
from tests.ledgerbridge.factories import make_user

from .conftest import wait_for
from .test_changed_in_xero_live import _cut_line_to_260, _invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LEDGERBRIDGE_SCREENSHOTS", "/tmp/ledgerbridge-screenshots"))
REASON = "Customer agreed 1,000.00 by phone; credit to follow"


def test_a_total_changed_in_xero_is_bannered_reconciled_as_differs_and_acknowledged(
    page: Page, live_server, signed_sandbox, linked, receiver
):
    sandbox = signed_sandbox
    document, record = _invoice(linked)  # 1,200.00 GBP, posted to the sandbox
    _cut_line_to_260(sandbox, linked.company, record)  # a Xero user: 1,000.00 on 260

    def one_round():
        sandbox.control.flush_webhooks()
        process_xero_webhooks()
        return RemoteChange.objects.filter(record=record).first()

    wait_for(one_round, timeout=20, every=0.1)

    make_user(linked.company, Role.FINANCE, username="fiona", password="lorry-load-42")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("fiona")
    page.get_by_label("Password").fill("lorry-load-42")
    page.get_by_role("button", name="Log in").click()

    # The banner on our document, and its way to reconciliation.
    page.goto(f"{live_server.url}/invoices/{document.pk}/")
    banner = page.locator("#changed-in-xero")
    expect(banner).to_contain_text("total 1,200.00 GBP → 1,000.00 GBP")
    banner.get_by_role("link", name="Reconcile November 2026").click()
    expect(page.get_by_role("heading", name="Reconciliation with Xero")).to_be_visible()
    expect(page.locator("#reconcile-none")).to_be_visible()

    # Reconcile now: the worker (immediate in tests) reads the sandbox's books.
    page.locator("#reconcile-start button").click()
    expect(page.locator("#reconcile-run")).to_contain_text("read from Xero")
    expect(page.locator("#tab-differs .recon-count")).to_have_text("1")
    page.locator("#tab-differs").click()
    row = page.locator("tr[data-outcome=differs]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(document.display_number)
    expect(row).to_contain_text("1,200.00")
    expect(row).to_contain_text("1,000.00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "reconciliation-live-differs.png"))

    # Acknowledging needs a reason; with one, the row moves to Acknowledged.
    row.get_by_text("Acknowledge…").click()
    row.get_by_label("Why is this right as it is?").fill(REASON)
    row.get_by_role("button", name=f"Acknowledge {document.display_number}").click()
    expect(page.locator(".message-success")).to_contain_text("acknowledged")
    expect(page.locator("#tab-differs .recon-count")).to_have_text("0")
    expect(page.locator("#tab-acknowledged .recon-count")).to_have_text("1")
    page.locator("#tab-acknowledged").click()
    acknowledged = page.locator("tr[data-acknowledged]")
    expect(acknowledged).to_contain_text(document.display_number)
    expect(acknowledged).to_contain_text(REASON)
    page.screenshot(path=str(SHOTS / "reconciliation-live-acknowledged.png"))

    [ack] = ReconciliationAcknowledgement.objects.filter(company=linked.company)
    assert (ack.reason, ack.document_id) == (REASON, document.pk)
    assert AuditEntry.objects.filter(
        company=linked.company, action="reconciliation acknowledged"
    ).exists()

    # The document's banner now leads to its row.
    page.goto(f"{live_server.url}/invoices/{document.pk}/")
    page.locator("#changed-in-xero").get_by_role("link", name="See it in reconciliation").click()
    [row_id] = ReconciliationRow.objects.filter(document=document).values_list("pk", flat=True)
    expect(page.locator(f"#row-{row_id}")).to_contain_text(REASON)
