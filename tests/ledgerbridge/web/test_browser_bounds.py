"""In chromium: the live total reads figures the way the server does, and a draft
with several bad figures comes back with every error at once, as typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.invoicing.models import Document

from .test_browser import haulier, log_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bad_figures_are_said_live_and_all_reported_on_save(
    page: Page,
    live_server,
    haulier,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    _company, customer = haulier
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "fiona", "lorry-load-42")
    page.get_by_role("link", name="New sales invoice").click()
    page.get_by_label("Partner").select_option(label=str(customer))

    row = page.locator("#lines tr.line-row").nth(0)
    row.get_by_label("Description").fill("Freight Leeds – Hull")
    row.get_by_label("Quantity").fill("2")
    row.get_by_label("Unit price").fill("£1,000.50")
    # A currency sign and thousands separators are read, not taken for 0.00.
    expect(row.locator(".line-net")).to_have_text("2,001.00")
    expect(page.locator("#lines-gross")).to_have_text("2,401.20")

    row.get_by_label("Quantity").fill("1,5")
    expect(row.locator(".line-net")).to_have_text("not a number")
    expect(page.locator("#lines-gross")).to_have_text("—")

    row.get_by_label("Unit price").fill("99999999999999999999")
    row.get_by_label("Discount %").fill("150")
    row.get_by_label("Tax rate").select_option("")
    page.get_by_role("button", name="Save draft").click()

    errors = page.locator(".line-error-row")
    expect(errors).to_contain_text("Line 1: quantity “1,5” is ambiguous: use a dot for decimals")
    expect(errors).to_contain_text("Line 1: unit price must be between")
    expect(errors).to_contain_text("Line 1: discount must be between 0 and 100 %.")
    expect(errors).to_contain_text("Line 1: choose a tax rate.")
    expect(row.get_by_label("Quantity")).to_have_value("1,5")
    expect(row.get_by_label("Unit price")).to_have_value("99999999999999999999")
    path = tmp_path / "draft-form-errors.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    assert Document.objects.count() == 0
