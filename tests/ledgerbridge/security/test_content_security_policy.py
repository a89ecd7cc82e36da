"""The Content-Security-Policy fits the pages: every page, for every role, loads in
chromium without a violation, and the htmx parts still work under it.

Pages come from the URL resolver (routes.py), so a page added later is covered.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Document
from ledgerbridge.web.csp import content_security_policy
from tests.ledgerbridge.factories import PASSWORD, make_user

from .routes import Tenant, html_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any script of each page (Playwright injects it, outside the policy).
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def world(ours: Tenant):
    AccountingSettings.objects.update_or_create(
        company=ours.company, defaults={"package": "xero_api"}
    )
    users = {
        role: make_user(ours.company, role, username=f"csp-{role}")
        for role in (Role.SUPER_ADMIN, Role.FINANCE, Role.VIEWER)
    }
    users["platform staff"] = make_user(ours.company, Role.VIEWER, platform_staff=True)
    return ours, users


# What the policy refuses in markup (a JSON data block is data, not script). An
# inline event handler is only refused (and reported) when its event fires, so
# markup is read too, not only the console.
INLINE = re.compile(
    r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>"
    r"|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:",
    re.I,
)


def pages_for(user, tenant: Tenant) -> list[str]:
    """Every GET of a web route that answers this user with an HTML page; each page's
    markup holds no inline script, style or event handler."""
    urls = []
    for url, markup in html_pages(user, tenant.ids):
        inline = INLINE.search(markup)
        assert inline is None, f"{url}: {inline.group(0)}"
        urls.append(url)
    return urls


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Invoices", exact=True)).to_be_visible()


class Watched:
    """Everything a page reported about the policy, or any script error."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(WATCH_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))
        page.on("response", self._response)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def _response(self, response) -> None:
        # A script or stylesheet that failed to load breaks a page as surely.
        # (Chromium asks for /favicon.ico on its own; there is none.)
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.console.append(f"{response.status} {response.url}")

    def problems(self) -> list[str]:
        found = self.console + self.page.evaluate("window.cspViolations || []")
        self.console = []
        return found


def test_the_watch_sees_an_inline_script_and_an_inline_style(page: Page, live_server, world):
    """The test below can fail: what the policy refuses is reported and does not run."""
    _tenant, users = world
    watched = Watched(page)
    log_in(page, live_server.url, users[Role.FINANCE].username)
    assert watched.problems() == []
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.injected = true";
          document.head.appendChild(s);
          document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
        }"""
    )
    page.wait_for_timeout(200)
    problems = watched.problems()
    assert page.evaluate("window.injected === undefined")
    assert any("script-src-elem blocked inline" in p for p in problems), problems
    assert any("style-src-attr blocked inline" in p for p in problems), problems


def test_every_page_loads_for_every_role_without_a_policy_violation(page: Page, live_server, world):
    tenant, users = world
    watched = Watched(page)
    seen = {}
    for role, user in users.items():
        page.context.clear_cookies()
        log_in(page, live_server.url, user.username)
        urls = pages_for(user, tenant)
        seen[role] = len(urls)
        for url in urls:
            response = page.goto(f"{live_server.url}{url}")
            assert response is not None and response.ok, url
            assert response.headers["content-security-policy"] == content_security_policy()
            assert watched.problems() == [], f"{role} {url}"
    # The walk saw the pages each role has (not, say, only the login page).
    assert seen[Role.SUPER_ADMIN] > seen[Role.FINANCE] > seen[Role.VIEWER] >= 10, seen
    assert seen["platform staff"] > seen[Role.SUPER_ADMIN], seen


def test_htmx_filters_the_invoice_list_and_polls_the_xero_progress(page: Page, live_server, world):
    tenant, users = world
    final = Document.objects.filter(company=tenant.company).exclude(number="").first()
    assert final is not None
    record = SyncRecord.objects.create(
        company=tenant.company, document=final, status=SyncStatus.PENDING
    )
    # Linked: without a link the banner says posting is blocked, not sending.
    from ledgerbridge.xero.models import XeroConnection

    XeroConnection.objects.update_or_create(
        company=tenant.company, defaults={"status": "connected", "tenant_id": "csp-tenant"}
    )
    # Gone live (the world's companies wait for a Super Admin to confirm going live,
    # which holds posting): this is about the progress of posting.
    from ledgerbridge.accounting.models import GoLive, GoLiveState

    GoLive.objects.filter(company=tenant.company).update(state=GoLiveState.CONFIRMED)
    watched = Watched(page)
    log_in(page, live_server.url, users[Role.FINANCE].username)
    progress = page.locator("#xero-progress")
    expect(progress).to_contain_text("Sending to Xero: 1 document on the way")

    # The search box asks htmx for the results and pushes the URL.
    page.get_by_label("Search").fill(final.number)
    expect(page).to_have_url(re.compile(r"search="))
    expect(page.locator("#results")).to_contain_text(final.number)

    # The progress fragment polls every 2 s and swaps itself.
    record.status = SyncStatus.POSTED
    record.save()
    expect(progress).to_contain_text("Xero: 1 posted", timeout=10_000)
    assert watched.problems() == []
