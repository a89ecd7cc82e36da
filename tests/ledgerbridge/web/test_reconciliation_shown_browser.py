"""A reconciliation row with long values (a reference of three order numbers, a contact
renamed by hand in the package) wraps inside the table at 1280×800: the differences
and the actions stay on the screen, the table never scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import AccountingPackage, AccountingSettings
from tests.ledgerbridge.factories import make_company, make_user

from .test_reconciliation import make_row, make_run, values
from .test_reconciliation_browser import SHOTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_REFERENCE = "PO 66401 / ORD-653850 / INT-2611-3390 / DOM-2611-1897-RETURN-LEG"
RENAMED = "Castlegate Building Supplies and Aggregates (North East) Limited – Accounts Payable"


def test_long_values_wrap_inside_the_table_at_1280(page: Page, live_server, transactional_db):
    from ledgerbridge.companies.models import Role

    company = make_company("Northern Haulage Ltd")
    AccountingSettings.objects.create(company=company, package=AccountingPackage.XERO_API)
    make_user(company, Role.FINANCE, username="fiona", password="lorry-load-42")
    run = make_run(company)
    for number in range(3):
        make_row(
            run,
            number=f"INV-2026-0020{number}",
            ours=values(reference=LONG_REFERENCE, contact="Castlegate Building Supplies"),
            theirs=values(gross="1000.00", reference="Changed by hand in Xero", contact=RENAMED),
            differences=[
                f"reference “{LONG_REFERENCE}” → “Changed by hand in Xero”",
                "total 1,200.00 GBP → 1,000.00 GBP",
            ],
        )
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "fiona", "lorry-load-42")
    page.goto(f"{live_server.url}/invoices/reconciliation/?tab=differs")
    expect(page.locator(".recon-table tbody tr")).to_have_count(3)
    table, room = page.evaluate(
        "[document.querySelector('.recon-table').scrollWidth,"
        " document.querySelector('.table-wrap').clientWidth]"
    )
    assert table <= room
    action = page.locator(".recon-actions").first.bounding_box()
    assert action is not None and action["x"] + action["width"] <= 1280
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "reconciliation-long-values.png"))


def test_a_dates_error_sits_under_it_and_the_filters_keep_one_row(
    page: Page, live_server, transactional_db
):
    from ledgerbridge.companies.models import Role

    company = make_company("Northern Haulage Ltd")
    AccountingSettings.objects.create(company=company, package=AccountingPackage.XERO_API)
    make_user(company, Role.FINANCE, username="fiona", password="lorry-load-42")
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "fiona", "lorry-load-42")
    page.goto(f"{live_server.url}/invoices/reconciliation/?date_from=2026-02-30&date_to=2026-03-05")
    expect(page.locator("#reconcile-period-error")).to_contain_text("not a date on the calendar")
    tops = page.evaluate(
        "['#id_date_from', '#id_date_to', '#id_search', '#reconcile-filters button']"
        ".map(s => Math.round(document.querySelector(s).getBoundingClientRect().top))"
    )
    assert max(tops) - min(tops) <= 4, tops  # one row: the error did not push any down
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "reconciliation-period-error.png"))
