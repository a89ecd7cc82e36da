"""Every page fits a 1280 px laptop screen, for every role.

Chromium opens each HTML page a role can GET (the routes come from the URL
resolver, as in the Content-Security-Policy walk, so a page added later is
covered) at 1280×800 and checks that the page is no wider than the screen and
that no table is wider than its own box (a table that scrolls sideways hides
its right-hand columns, such as the payment chip). A screenshot of each page is
kept under the test run's temporary folder, named in the test summary.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import (
    AccountingSettings,
    PaymentState,
    PaymentStatus,
    SyncRecord,
    SyncStatus,
)
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import DocumentType, PartnerKind
from ledgerbridge.xero.models import XeroConnection
from tests.ledgerbridge.factories import (
    PASSWORD,
    make_actor,
    make_final_document,
    make_partner,
    make_user,
)
from tests.ledgerbridge.security.routes import (
    html_pages,
    review_task_type_register,
    review_task_type_unregister,
    tenant,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1280, 800

# The page's width, and each table box whose content is wider than the box.
MEASURE = """() => ({
  page: document.documentElement.scrollWidth,
  tables: [...document.querySelectorAll(".table-wrap")]
    .filter((box) => box.scrollWidth > box.clientWidth + 1)
    .map((box) => `${box.querySelector("table")?.id || box.className}: ${box.scrollWidth} px in ${box.clientWidth} px`),
})"""


@pytest.fixture
def world(db):
    """A company whose list holds the widest rows the product draws: a long customer
    name, a posted invoice part paid in Xero, a bill Xero voided, and a draft."""
    review_task_type_register()
    ours = tenant("Northern Haulage Ltd")
    company = ours.company
    AccountingSettings.objects.update_or_create(company=company, defaults={"package": "xero_api"})
    XeroConnection.objects.update_or_create(
        company=company,
        defaults={"status": "connected", "tenant_id": "width-tenant", "tenant_name": "Northern"},
    )
    admin = make_actor(company, Role.SUPER_ADMIN)
    long_name = make_partner(
        company, name="Castlegate Building Supplies and Aggregates (North East) Limited"
    )
    # Stand-in PDFs (no page here shows a PDF): rendering them was seconds of the setup.
    invoice = make_final_document(admin, partner=long_name)
    bill = make_final_document(
        admin,
        DocumentType.PURCHASE_INVOICE,
        partner=make_partner(company, PartnerKind.SUPPLIER, name="Pennine Subcontract Haulage"),
    )
    now = timezone.now()
    for document, status, due in (
        (invoice, PaymentStatus.PARTLY_PAID, Decimal("1234567.89")),
        (bill, PaymentStatus.VOIDED, Decimal("0")),
    ):
        record, _ = SyncRecord.objects.update_or_create(
            document=document,
            defaults={
                "company": company,
                "status": SyncStatus.POSTED,
                "external_id": f"xero-{document.pk}",
                "external_number": document.number,
                "posted_at": now,
            },
        )
        PaymentState.objects.create(
            record=record,
            company=company,
            status=status,
            total=document.gross_total,
            amount_paid=Decimal("100.00"),
            amount_due=due,
            last_checked_at=now - dt.timedelta(minutes=5),
        )
    ours.ids["document"] += [invoice.pk, bill.pk]
    users = {
        role: make_user(company, role, username=f"width-{role}")
        for role in (Role.SUPER_ADMIN, Role.FINANCE, Role.VIEWER)
    }
    users["platform staff"] = make_user(company, Role.VIEWER, platform_staff=True)
    yield ours, users
    review_task_type_unregister()


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Invoices", exact=True)).to_be_visible()


def test_every_page_fits_1280_px_for_every_role(
    page: Page, live_server, world, tmp_path_factory, record_property
):
    tenant_, users = world
    screens = tmp_path_factory.mktemp("screens-1280")
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    too_wide = []
    seen = 0
    for role, user in users.items():
        page.context.clear_cookies()
        log_in(page, live_server.url, user.username)
        for url, _ in html_pages(user, tenant_.ids):
            response = page.goto(f"{live_server.url}{url}")
            assert response is not None and response.ok, url
            measured = page.evaluate(MEASURE)
            if measured["page"] > WIDTH:
                too_wide.append(f"{role} {url}: page {measured['page']} px")
            too_wide += [f"{role} {url}: table {table}" for table in measured["tables"]]
            name = re.sub(r"[^a-z0-9]+", "-", f"{role} {url}".lower()).strip("-")
            page.screenshot(path=screens / f"{name}.png", full_page=True)
            seen += 1
    record_property("summary", f"{seen} pages at {WIDTH}x{HEIGHT}, screenshots in {screens}")
    assert seen >= 40, seen
    assert too_wide == [], "\n".join(too_wide)


def test_the_width_check_sees_a_table_wider_than_its_box(page: Page, live_server, world):
    """The walk above can fail: a long unbreakable partner name widens the list."""
    _tenant, users = world
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    log_in(page, live_server.url, users[Role.FINANCE].username)
    page.goto(f"{live_server.url}/invoices/")
    page.evaluate(
        """() => document.querySelector('#results td.partner').textContent = 'W'.repeat(400)"""
    )
    measured = page.evaluate(MEASURE)
    assert measured["page"] <= WIDTH  # the page itself still fits: the box scrolls
    assert measured["tables"], measured
