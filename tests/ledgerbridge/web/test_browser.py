"""End to end in Debian's chromium: log in, write an invoice, finalise it, open its PDF."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import (
    make_actor,
    make_company,
    make_document,
    make_partner,
    make_user,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def haulier(transactional_db):
    company = make_company("Northern Haulage Ltd")
    make_user(company, Role.FINANCE, username="fiona", password="lorry-load-42")
    customer = make_partner(company, name="Acme Retail Ltd", number="C0042")
    return company, customer


def log_in(page: Page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Invoices & credit notes")).to_be_visible()


def test_create_finalise_and_open_the_pdf_of_a_sales_invoice(page: Page, live_server, haulier):
    _company, customer = haulier
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server, "fiona", "lorry-load-42")

    page.get_by_role("link", name="New sales invoice").click()
    page.get_by_label("Partner").select_option(label=str(customer))
    page.get_by_label("Order reference").fill("ORD-7781")

    rows = page.locator("#lines tr.line-row")
    first = rows.nth(0)
    first.get_by_label("Description").fill("Freight Leeds – Hull, 26 pallets")
    first.get_by_label("Quantity").fill("2")
    first.get_by_label("Unit price").fill("450")
    page.get_by_role("button", name="+ Add line").click()
    second = rows.nth(1)
    second.get_by_label("Description").fill("Fuel surcharge")
    second.get_by_label("Charge type").select_option("fuel_surcharge")
    second.get_by_label("Quantity").fill("1")
    second.get_by_label("Unit price").fill("63.50")
    second.get_by_label("Tax rate").select_option("S20")
    # The running total is only an estimate; the server computes the real one.
    expect(page.locator("#lines-gross")).to_have_text("1,156.20")
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_text("Draft saved")).to_be_visible()
    expect(page.locator(".totals")).to_contain_text("1,156.20")
    page.get_by_role("button", name="Finalise").click()
    expect(page.get_by_text(re.compile(r"Finalised as sales invoice \S+"))).to_be_visible()
    number = page.locator(".doc-number").inner_text()
    assert number and not number.startswith("Draft")

    with page.context.expect_page() as new_tab:
        page.get_by_role("link", name="Open PDF").click()
    pdf_url = new_tab.value.url
    assert pdf_url.endswith("/pdf")
    response = page.request.get(pdf_url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    expect(page.locator("#results")).to_contain_text(number)


def test_invoice_list_screenshot_at_1280(page: Page, live_server, haulier, tmp_path):
    company, customer = haulier
    actor = make_actor(company, Role.FINANCE)
    for i in range(12):
        make_document(actor, lines=1 + i % 3, partner=customer, finalise=i % 4 != 0)
    make_document(actor, "purchase_invoice", lines=2, finalise=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "fiona", "lorry-load-42")
    path = tmp_path / "invoice-list.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    # Filtering through htmx swaps the results without reloading the page.
    page.get_by_label("Status").select_option("draft")
    expect(page).to_have_url(re.compile(r"status=draft"))
    expect(page.locator("#results tbody tr")).to_have_count(3)
