"""A sales invoice voided in Xero, on its page in Debian's chromium at 1280×800: the
choices Finance has (credit it in the TMS, acknowledge), why posting it again is not
one, and crediting it in two clicks; a Viewer reads the same page without them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    PaymentState,
    PaymentStatus,
    SyncRecord,
)
from ledgerbridge.accounting.reconcile import reconciliation_run
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Document, DocumentType
from tests.ledgerbridge.accounting.conftest import books, package, post_all  # noqa: F401
from tests.ledgerbridge.accounting.test_reconcile import FROM, TO, later
from tests.ledgerbridge.factories import (
    make_actor,
    make_company,
    make_document,
    make_partner,
    make_user,
)

from .test_reconciliation_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LEDGERBRIDGE_SCREENSHOTS", "/tmp/ledgerbridge-screenshots"))


@pytest.fixture
def voided(books):  # noqa: F811
    company = make_company("Northern Haulage Ltd")
    AccountingSettings.objects.create(
        company=company, package=AccountingPackage.XERO_API, auto_post_purchase_invoice=True
    )
    actor = make_actor(company, Role.SUPER_ADMIN)
    make_user(company, Role.FINANCE, username="fiona", password="lorry-load-42")
    make_user(company, Role.VIEWER, username="vic", password="read-only-99")
    customer = make_partner(company, name="Castlegate Building Supplies Ltd")
    # Its PDF renders on commit here (no test transaction to hold it back).
    invoice = make_document(actor, partner=customer, lines=2, finalise=True)
    bill = make_document(actor, DocumentType.PURCHASE_INVOICE, lines=1, finalise=True)
    post_all(company)
    for document in (invoice, bill):
        record = SyncRecord.objects.get(document=document)
        books.void(company, record.external_id, at=later())
        PaymentState.objects.create(record=record, company=company, status=PaymentStatus.VOIDED)
    reconciliation_run(company, date_from=FROM, date_to=TO, reader=books, now=later(120))
    return invoice


def test_finance_sees_the_choices_for_a_voided_invoice_and_credits_it(
    page: Page, live_server, voided
):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "fiona", "lorry-load-42")
    page.goto(f"{live_server.url}/invoices/{voided.pk}/")
    expect(page.locator("#gone-in-xero")).to_be_visible()
    choices = page.locator("#gone-choices")
    expect(choices.get_by_role("button", name="Credit it in the TMS")).to_be_visible()
    expect(choices.locator('[data-action="post_again"]')).to_have_count(0)
    expect(choices).to_contain_text("Invoice # must be unique")
    expect(choices.get_by_text("Acknowledge…")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "gone-choices.png"))

    page.once("dialog", lambda dialog: dialog.accept())
    choices.get_by_role("button", name="Credit it in the TMS").click()
    expect(page.get_by_text("Credit note drafted")).to_be_visible()
    [credit_note] = Document.objects.filter(original=voided)
    assert page.url.endswith(f"/invoices/{credit_note.pk}/")


def test_a_viewer_reads_the_voided_invoice_without_choices(page: Page, live_server, voided):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "vic", "read-only-99")
    page.goto(f"{live_server.url}/invoices/{voided.pk}/")
    expect(page.locator("#gone-in-xero")).to_be_visible()
    expect(page.locator("#gone-choices")).to_have_count(0)


def test_the_reconciliation_page_lists_the_voided_rows_choices_within_1280(
    page: Page, live_server, voided
):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "fiona", "lorry-load-42")
    page.goto(f"{live_server.url}/invoices/reconciliation/?date_from=2026-11-01&date_to=2026-11-30")
    rows = page.locator("tr[data-outcome]")
    expect(rows).to_have_count(2)
    expect(page.locator('.recon-actions [data-action="credit"]')).to_have_count(2)
    expect(page.locator('.recon-actions [data-action="post_again"]')).to_have_count(1)
    expect(page.locator(".recon-not-offered")).to_contain_text("Invoice # must be unique")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(SHOTS / "gone-choices-reconciliation.png"))
