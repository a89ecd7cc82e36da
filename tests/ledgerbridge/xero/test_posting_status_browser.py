"""In Debian's chromium: the blocked banner says who must act (a link for the Super
Admin, whom to ask for Finance), and a posting failure names our code and where it
is fixed."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import AccountingSettings
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import DocumentType, Task, TaxRate
from ledgerbridge.invoicing.workflow import task_complete
from ledgerbridge.xero.coding import xero_tax_mapping_set
from tests.ledgerbridge.factories import PASSWORD, line, make_document, make_user

from .conftest import authorise

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("LEDGERBRIDGE_SCREENSHOTS", "")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=False)


def _login(page: Page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def people(admin):
    admin.user.first_name, admin.user.last_name = "Sam", "Admin"
    admin.user.save()
    make_user(admin.company, Role.FINANCE, username="fiona")
    return admin


def test_the_blocked_banner_and_a_failure_say_who_fixes_what_where(
    page: Page, live_server, sandbox, people
):
    page.set_viewport_size({"width": 1280, "height": 800})
    admin = people
    for _ in range(2):
        make_document(admin, finalise=True)  # auto-post: queued, but Xero is not connected

    _login(page, live_server, "fiona")
    banner = page.locator("#xero-progress")
    expect(banner).to_have_attribute("data-state", "blocked")
    expect(banner).to_contain_text("Posting to Xero is blocked: the Xero link is not connected.")
    expect(banner).to_contain_text("Ask your Super Admin (Sam Admin) to connect Xero")
    expect(banner).not_to_contain_text("on the way")
    expect(page.locator("#posting-action")).to_have_count(0)
    _shot(page, "blocked-finance")

    _login(page, live_server, admin.user.username)
    expect(banner).to_contain_text("A Super Admin must connect Xero")
    _shot(page, "blocked-super-admin")
    page.locator("#posting-action").click()
    expect(page).to_have_url(f"{live_server.url}/configuration/accounting/#xero-link")
    expect(page.get_by_role("button", name="Authorise API")).to_be_visible()

    # Linked, with a Super Admin's typo in the tax mapping: Xero refuses the bill.
    authorise(sandbox, admin, [sandbox.tenant_id])
    r5p = TaxRate.objects.get(company=admin.company, code="R5P")
    xero_tax_mapping_set(actor=admin, tax_rate_id=r5p.pk, tax_type="RRINPUTX")
    AccountingSettings.objects.filter(company=admin.company).update(
        auto_post_purchase_invoice=False
    )
    bill = make_document(
        admin,
        DocumentType.PURCHASE_INVOICE,
        lines=[line("freight", sales=False, tax_rate="R5P")],
        finalise=True,
    )
    task_complete(actor=admin, task_id=Task.objects.get(document=bill, type="post_to_xero").pk)

    _login(page, live_server, "fiona")
    page.goto(f"{live_server.url}/invoices/{bill.pk}/")
    problem = page.locator("#sync-problems li").first
    expect(problem).to_contain_text("Tax rate R5P → Xero TaxType RRINPUTX")
    expect(problem).to_contain_text(
        "Ask your Super Admin (Sam Admin) to map tax rate R5P to the right Xero tax rate"
    )
    expect(problem).to_contain_text("Configuration > Accounting > Mapping to Xero")
    expect(problem).to_contain_text("Xero said: “The TaxType code 'RRINPUTX' does not exist")
    expect(page.locator("#task-status-post_to_xero")).to_have_text("Failed")
    expect(problem.locator("a")).to_have_count(0)
    page.locator("#xero").scroll_into_view_if_needed()
    _shot(page, "failure-finance")

    _login(page, live_server, admin.user.username)
    page.goto(f"{live_server.url}/invoices/{bill.pk}/")
    link = page.locator("#sync-problems a.problem-link")
    expect(link).to_contain_text("Map tax rate R5P")
    page.locator("#xero").scroll_into_view_if_needed()
    _shot(page, "failure-super-admin")
    link.click()
    expect(page).to_have_url(f"{live_server.url}/configuration/accounting/#map-tax-{r5p.pk}")
    expect(page.get_by_label("Xero TaxType for R5P", exact=True)).to_have_value("RRINPUTX")
    _shot(page, "mapping-row")
