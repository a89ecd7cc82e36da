"""Invoices > Reconciliation in Debian's chromium at 1280×800, as Finance and as a Viewer:
the classes as tabs, ours and the package's values side by side, acknowledging a row."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    ReconcileOutcome,
)
from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import (
    make_actor,
    make_company,
    make_final_document,
    make_partner,
    make_user,
)

from .test_reconciliation import STARTED, acknowledge, make_row, make_run, values

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LEDGERBRIDGE_SCREENSHOTS", "/tmp/ledgerbridge-screenshots"))


@pytest.fixture
def books(transactional_db):
    """A run of November with a row of every class, and three runs before it."""
    company = make_company("Northern Haulage Ltd")
    AccountingSettings.objects.create(company=company, package=AccountingPackage.XERO_API)
    actor = make_actor(company, Role.FINANCE)
    make_user(company, Role.FINANCE, username="fiona", password="lorry-load-42")
    make_user(company, Role.VIEWER, username="vic", password="read-only-99")
    long_name = make_partner(
        company, name="Castlegate Building Supplies and Aggregates (North East) Limited"
    )
    for days, counts in ((21, (6, 1, 3, 2)), (14, (4, 2, 1, 2)), (7, (3, 0, 2, 1))):
        differs, status, missing, only = counts
        make_run(
            company,
            started=STARTED - dt.timedelta(days=days),
            counts={
                "differs": differs,
                "status_differs": status,
                "missing": missing,
                "only_in_package": only,
                "agrees": 40 + days,
                "acknowledged": days // 7,
            },
        )
    run = make_run(
        company,
        counts={
            "differs": 1,
            "status_differs": 1,
            "missing": 1,
            "only_in_package": 1,
            "agrees": 1,
            "acknowledged": 1,
        },
    )
    changed = make_row(
        run,
        document=make_final_document(actor, partner=long_name),
        contact_name=long_name.name,
        ours=values(gross="1,200.00", net="1,000.00", tax="200.00", reference="ORD-1"),
        theirs=values(gross="1,000.00", net="833.33", tax="166.67", reference="ORD-1"),
        differences=[
            "total 1,200.00 GBP → 1,000.00 GBP",
            "net 1,000.00 GBP → 833.33 GBP",
            "tax 200.00 GBP → 166.67 GBP",
            "account 200 → 260",
        ],
    )
    make_row(run, ReconcileOutcome.STATUS_DIFFERS, document=make_final_document(actor))
    make_row(run, ReconcileOutcome.MISSING, document=make_final_document(actor))
    make_row(
        run, ReconcileOutcome.ONLY_IN_PACKAGE, number="HAND-0042", contact_name="Typed by hand Ltd"
    )
    make_row(run, ReconcileOutcome.AGREES, document=make_final_document(actor))
    acknowledge(make_row(run, number="INV-OLD", contact_name="Albion Foods"))
    return changed


def log_in(page: Page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Invoices & credit notes")).to_be_visible()


@pytest.mark.parametrize(
    ("username", "password"), [("fiona", "lorry-load-42"), ("vic", "read-only-99")]
)
def test_the_reconciliation_page_fits_1280_with_every_class(
    page: Page, live_server, books, username, password
):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, username, password)
    page.get_by_role("link", name="Reconciliation").click()
    expect(page.get_by_role("heading", name="Reconciliation with Xero")).to_be_visible()
    expect(page.locator("#tab-open .recon-count")).to_have_text("4")
    expect(page.locator(".recon-tabs svg polyline")).to_have_count(6)
    expect(page.locator(f"#row-{books.pk} .recon-diff")).to_have_count(6)  # total, net, tax
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"reconciliation-{username}.png"))
    buttons = page.locator(".recon-actions button")
    if username == "vic":
        expect(buttons).to_have_count(0)
        expect(page.locator("#reconcile-start")).to_have_count(0)
    else:
        expect(page.locator("#reconcile-start")).to_be_visible()
        expect(page.locator(f"#row-{books.pk}")).to_contain_text("Check again")


def test_finance_acknowledges_a_row_with_a_reason_and_it_moves_to_acknowledged(
    page: Page, live_server, books
):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "fiona", "lorry-load-42")
    page.goto(f"{live_server.url}/invoices/reconciliation/")
    page.locator("#tab-differs").click()
    row = page.locator(f"#row-{books.pk}")
    row.get_by_text("Acknowledge…").click()
    row.get_by_label("Why is this right as it is?").fill("Customer agreed a 200.00 discount")
    page.screenshot(path=str(SHOTS / "reconciliation-acknowledging.png"))
    row.get_by_role("button", name=f"Acknowledge {books.number}").click()
    # Back on the list being worked through, the row gone from it.
    expect(page.locator(".message-success")).to_contain_text("acknowledged")
    expect(page.locator(f"#row-{books.pk}")).to_have_count(0)
    expect(page.locator("#tab-differs .recon-count")).to_have_text("0")
    page.locator("#tab-acknowledged").click()
    expect(page.locator(f"#row-{books.pk}")).to_contain_text("Customer agreed a 200.00 discount")


def test_the_invoice_list_marks_what_reconciliation_found_and_leads_to_the_row(
    page: Page, live_server, books
):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "vic", "read-only-99")
    chips = page.locator("a.badge[class*='recon-']")
    expect(chips).to_have_count(3)  # differs, status differs, missing: not the agreeing one
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(SHOTS / "reconciliation-invoice-list.png"))
    page.get_by_role("link", name=books.number).click()
    expect(page.locator("#reconcile-open")).to_contain_text("differs")
    page.screenshot(path=str(SHOTS / "reconciliation-document.png"))
    page.locator("#reconcile-row-link").click()
    expect(page.locator(f"#row-{books.pk}")).to_be_visible()
    expect(page.locator("#tab-differs")).to_have_class("active")


def test_a_running_reconciliation_shows_its_results_when_it_has_finished(
    page: Page, live_server, books
):
    from ledgerbridge.accounting.models import ReconcileRunStatus

    company = books.company
    running = make_run(
        company, status=ReconcileRunStatus.RUNNING, started=STARTED + dt.timedelta(hours=1)
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, "vic", "read-only-99")
    page.goto(f"{live_server.url}/invoices/reconciliation/")
    expect(page.locator("#reconcile-progress")).to_contain_text("Reconciling 1 Nov 2026")
    expect(page.locator("#reconcile-run")).to_contain_text("09:00")  # the last finished one
    make_row(running, ReconcileOutcome.ONLY_IN_PACKAGE, number="HAND-NEW")
    running.status = ReconcileRunStatus.DONE
    running.save()
    # The next poll (every 2 s) reloads the page with the finished run.
    expect(page.locator("#reconcile-progress")).to_have_count(0, timeout=8000)
    expect(page.locator("#reconcile-run")).to_contain_text("10:00")
    expect(page.locator("#reconcile-rows")).to_contain_text("HAND-NEW")
