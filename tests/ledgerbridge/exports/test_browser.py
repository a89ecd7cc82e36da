"""End to end in Debian's chromium: export from the page, download, import into Xero; what
an export leaves out and the marks it leaves, as a Finance user sees them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import PartnerKind
from tests.ledgerbridge.factories import make_actor, make_company, make_partner, make_user

from .conftest import STARTER_TRACKING, money, purchase_invoice, sales_invoice, xero_import

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_export_from_the_page_download_and_import_into_xero(
    page: Page, live_server, transactional_db, xero
):
    company = make_company("Northway Haulage Ltd")
    make_user(company, Role.FINANCE, username="fiona", password="lorry-load-42")
    finance = make_actor(company, Role.FINANCE)
    customer = make_partner(company, name="Acme Retail Ltd", number="C0042")
    invoices = [sales_invoice(finance, customer) for _ in range(2)]
    tenant_id = xero.control.create_org("Northway", tracking_categories=STARTER_TRACKING)[
        "tenant_id"
    ]

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("fiona")
    page.get_by_label("Password").fill("lorry-load-42")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exports").click()
    expect(page.get_by_role("heading", name="Invoices Exports")).to_be_visible()
    page.get_by_label("Type").select_option("sales_invoice")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("table", name="Documents to export")).to_contain_text(
        invoices[1].number
    )
    page.get_by_role("button", name="Export 2 documents to Xero").click()
    expect(page.get_by_role("status")).to_contain_text("Export 1: 2 documents exported.")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    content = Path(download.path()).read_bytes()

    assert download.suggested_filename == "xero-export-0001-sales-1.csv"
    answer = xero_import(xero, tenant_id, "sales", content)
    assert answer.status_code == 200, answer.text
    assert sorted((i["Number"], money(i["Total"])) for i in answer.json()["Invoices"]) == [
        (invoice.number, invoice.gross_total) for invoice in invoices
    ]


def test_a_finance_user_sees_what_was_left_out_the_batch_and_the_mark_on_documents(
    page: Page, live_server, transactional_db, tmp_path
):
    company = make_company("Northway Haulage Ltd")
    AccountingSettings.objects.create(company=company, package="xero_api")
    make_user(company, Role.FINANCE, username="fiona", password="lorry-load-42")
    finance = make_actor(company, Role.FINANCE)
    customer = make_partner(company, name="Acme Retail Ltd", number="C0042")
    supplier = make_partner(company, PartnerKind.SUPPLIER, name="Pennine Fuels Ltd")
    posted = [sales_invoice(finance, customer) for _ in range(3)]
    # Posted through the API, as the outbox records it.
    SyncRecord.objects.filter(document__in=posted).update(
        status=SyncStatus.POSTED, posted_at=timezone.now()
    )
    for document in posted:
        SyncRecord.objects.filter(document=document).update(external_number=document.number)
    bills = [
        purchase_invoice(finance, supplier, issue_date=dt.date(2026, 11, day)) for day in (2, 3)
    ]
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("fiona")
    page.get_by_label("Password").fill("lorry-load-42")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/invoices/exports/?preview=1")
    left_out = page.get_by_role("table", name="Documents already in Xero")
    expect(left_out).to_contain_text(f"Already in Xero through the API as {posted[0].number}.")
    page.screenshot(path=tmp_path / "exports-page.png", full_page=True)
    page.get_by_role("button", name="Export 2 documents to Xero").click()

    expect(page.get_by_role("heading", name="Export 1")).to_be_visible()
    expect(page.get_by_role("table", name="Documents in export 1")).to_contain_text(bills[0].number)
    expect(page.get_by_role("table", name="Documents already in Xero")).to_contain_text(
        posted[2].number
    )
    page.screenshot(path=tmp_path / "batch-page.png", full_page=True)
    page.get_by_role("link", name=bills[1].number).click()
    expect(page.locator("#exported")).to_contain_text("Exported to Xero file, batch 1,")
    expect(page.locator("#exported")).to_contain_text("by fiona")
    page.screenshot(path=tmp_path / "document-page.png", full_page=True)
    page.goto(f"{live_server.url}/invoices/")
    expect(page.get_by_role("link", name="Exported · batch 1")).to_have_count(2)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=tmp_path / "invoice-list.png")
    assert width <= 1280
