"""Invoices > Outstanding in Debian's chromium at 1280×800, as Finance and as a Viewer."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    PaymentState,
    PaymentStatus,
    SyncRecord,
    SyncStatus,
)
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import PartnerKind
from tests.ledgerbridge.factories import (
    line,
    make_actor,
    make_company,
    make_document,
    make_partner,
    make_user,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LEDGERBRIDGE_SCREENSHOTS", "/tmp/ledgerbridge-screenshots"))


@pytest.fixture
def ledger(transactional_db):
    """Customers owing in pounds and euros, 10 to 100 days past due, as Xero reported it."""
    company = make_company("Northern Haulage Ltd")
    AccountingSettings.objects.create(company=company, package=AccountingPackage.XERO_API)
    actor = make_actor(company, Role.FINANCE)
    make_user(company, Role.FINANCE, username="fiona", password="lorry-load-42")
    make_user(company, Role.VIEWER, username="vic", password="read-only-99")
    today = timezone.localdate()
    customers = [
        make_partner(company, name="Albion Foods Distribution Ltd"),
        make_partner(company, name="Bretagne Primeurs SARL", currency="EUR"),
    ]
    for i, days_overdue in enumerate([-10, 10, 40, 70, 100]):
        for customer in customers:
            due = today - dt.timedelta(days=days_overdue)
            document = make_document(
                actor,
                partner=customer,
                lines=[line(unit_price=f"{300 + 50 * i}")],
                issue_date=due - dt.timedelta(days=30),
                due_date=due,
                finalise=True,
            )
            # As the outbox leaves it once Xero took the document.
            record, _ = SyncRecord.objects.update_or_create(
                document=document,
                defaults={"company": company, "status": SyncStatus.POSTED, "external_id": "x"},
            )
            PaymentState.objects.create(
                record=record,
                company=company,
                status=PaymentStatus.UNPAID,
                total=document.gross_total,
                amount_due=document.gross_total,
                last_checked_at=timezone.now(),
            )
    make_partner(company, PartnerKind.SUPPLIER, name="M62 Trucking Ltd")
    return customers


def log_in(page: Page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Invoices & credit notes")).to_be_visible()


@pytest.mark.parametrize(
    ("username", "password"), [("fiona", "lorry-load-42"), ("vic", "read-only-99")]
)
def test_outstanding_fits_1280_and_drills_down_to_documents(
    page: Page, live_server, ledger, username, password
):
    albion, _ = ledger
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, username, password)
    page.get_by_role("link", name="Outstanding receivables and payables").click()
    expect(page.get_by_role("heading", name="Outstanding in Xero")).to_be_visible()

    totals = page.locator("#outstanding-totals tbody tr")
    expect(totals).to_have_count(2)  # one row per currency, never added together
    expect(page.locator("#chart-GBP svg rect")).to_have_count(5)
    expect(page.locator("#chart-EUR svg rect")).to_have_count(5)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"outstanding-{username}.png"), full_page=True)

    page.locator("#outstanding-partners").get_by_role("link", name=albion.name).click()
    documents = page.locator("#outstanding-documents tbody tr")
    expect(documents).to_have_count(5)
    expect(page.locator("#outstanding-documents")).not_to_contain_text("EUR")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    documents.first.get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text("Sales invoice")

    page.go_back()
    page.get_by_role("link", name="Payables (suppliers)").click()
    expect(page.locator("#outstanding-empty")).to_be_visible()
