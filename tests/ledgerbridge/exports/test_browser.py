"""End to end in Debian's chromium: export from the page, download, import into Xero."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import make_actor, make_company, make_partner, make_user

from .conftest import STARTER_TRACKING, money, sales_invoice, xero_import

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
