"""In Debian's chromium: platform staff open a company from the operations page,
see every mistake at once, then create it."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.companies.models import Membership, Role, User
from tests.ledgerbridge.factories import PASSWORD, make_company, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("LEDGERBRIDGE_SCREENSHOTS", "")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=False)


def test_staff_open_a_company_and_its_super_admin_in_the_browser(page: Page, live_server):
    make_company("Northway Haulage Ltd", starter=False)
    make_user(platform_staff=True, username="staff")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/platform/operations")
    page.get_by_role("link", name="New company").click()
    expect(page.get_by_role("heading", name="New company")).to_be_visible()

    page.get_by_label("Legal name").fill("Moorside Freight Ltd")
    page.get_by_label("City").fill("Wakefield")
    page.get_by_label("First name").fill("Priya")
    page.get_by_label("Last name").fill("Shah")
    page.get_by_label("Username").fill("priya")
    page.locator("#id_admin_email").fill("priya at moorside")
    page.locator("#id_admin_password").fill("password")
    page.locator("#id_admin_password_again").fill("password")
    page.get_by_role("button", name="Create company").click()

    expect(
        page.get_by_text("Enter the Super Admin's email address, such as name@example.com.")
    ).to_be_visible()
    expect(page.get_by_text("This password is too common.")).to_be_visible()
    expect(page.locator("#id_admin_password")).to_have_value("")
    expect(page.get_by_label("Legal name")).to_have_value("Moorside Freight Ltd")
    _shot(page, "platform-company-new-errors")

    page.locator("#id_admin_email").fill("priya@moorside.example")
    page.locator("#id_admin_password").fill("Trailer-Hitch-Ninety-4")
    page.locator("#id_admin_password_again").fill("Trailer-Hitch-Ninety-4")
    page.get_by_role("button", name="Create company").click()

    expect(page).to_have_url(f"{live_server.url}/platform/operations")
    expect(page.get_by_text("Moorside Freight Ltd is created.")).to_be_visible()
    _shot(page, "platform-company-new-created")
    admin = User.objects.get(username="priya")
    assert admin.check_password("Trailer-Hitch-Ninety-4")
    assert Membership.objects.get(user=admin).role == Role.SUPER_ADMIN
