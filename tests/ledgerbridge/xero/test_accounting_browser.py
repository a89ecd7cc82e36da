"""End to end in Debian's chromium: authorise Xero, check setup, fix a mapping, reset."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import AccountingSettings
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import TaxRate
from ledgerbridge.xero.models import XeroConnection, XeroTaxMapping
from tests.ledgerbridge.factories import make_company, make_user

from .conftest import NORTHWAY_TRACKING

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup(sandbox, live_server, settings):
    settings.PUBLIC_URL = live_server.url
    sandbox.control.update_app(
        sandbox.client_id,
        redirect_uris=[f"{live_server.url}/configuration/accounting/xero/callback"],
    )
    org = sandbox.control.create_org(
        "Northway Haulage (Xero)", tracking_categories=NORTHWAY_TRACKING
    )
    company = make_company("Northway Haulage Ltd")
    AccountingSettings.objects.create(company=company, package="xero_api")
    make_user(company, Role.SUPER_ADMIN, username="sam", password="pallet-jack-77")
    # A deliberately wrong tax code, as a Super Admin might have typed it.
    XeroTaxMapping.objects.create(
        tax_rate=TaxRate.objects.get(company=company, code="S20"), tax_type="OUTPUT9"
    )
    return org.get("tenant_id") or org["OrganisationID"]


def test_authorise_check_fix_and_reset_the_xero_link(page: Page, live_server, sandbox, setup):
    tenant_id = setup
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill("pallet-jack-77")
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Configuration").click()
    page.get_by_role("link", name="Accounting package").click()
    expect(page.locator("#link-status")).to_have_text("Not connected")
    page.get_by_role("button", name="Authorise API").click()

    # Xero's (the sandbox's) login and consent pages
    page.locator("#email").fill("demo@xero.sandbox")
    page.locator("#password").fill("sandbox")
    page.locator("#login").click()
    page.get_by_label("Northway Haulage (Xero)").check()
    page.locator("#allow").click()

    expect(page.locator("#link-status")).to_have_text("Connected")
    expect(page.locator("#link-org")).to_contain_text("Northway Haulage (Xero)")
    assert (
        XeroConnection.objects.get(company__legal_name="Northway Haulage Ltd").tenant_id
        == tenant_id
    )

    page.get_by_role("button", name="Check setup").click()
    failed = page.locator("#setup-check tr.check-failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("S20 Standard rate sales")
    expect(failed).to_contain_text("Xero has no tax rate OUTPUT9.")
    expect(failed).to_contain_text("Map S20 to the right Xero tax rate")

    page.get_by_label("Xero TaxType for S20", exact=True).fill("OUTPUT2")
    page.get_by_role("button", name="Save mapping").click()
    page.get_by_role("button", name="Check setup").click()
    expect(page.locator("#setup-check tr.check-failed")).to_have_count(0)
    expect(page.locator("#setup-check h2")).to_contain_text("Passed")

    page.get_by_role("button", name="Reset API link status").click()
    expect(page.locator("#link-status")).to_have_text("Not connected")
    connections = [c for c in sandbox.control.calls() if c["method"] == "DELETE"]
    assert connections and connections[-1]["path"].startswith("/connections/")
    assert sandbox.control.calls()[-1]["path"] == "/connect/revocation"
