"""Fixtures for the Xero adapter: a real sandbox server and a company linked to it."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlparse

import pytest

from ledgerbridge.accounting.models import AccountingSettings
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.xero import connection
from tests.ledgerbridge.factories import make_actor, make_company
from tests.sandbox_server import point_settings_at
from xero_sandbox.testing import RunningSandbox

REDIRECT_URI = "http://127.0.0.1:8000/configuration/accounting/xero/callback"

# The company's coding as an organisation in Xero would have it for our starter setup.
NORTHWAY_TRACKING = [
    {"Name": "Business unit", "Options": ["Domestic", "International", "Warehousing"]},
    {"Name": "Vehicle type", "Options": ["Articulated", "Rigid", "Van"]},
]


@pytest.fixture
def sandbox(settings, sandbox_servers) -> RunningSandbox:
    """The test process's sandbox server, reset to its demo state."""
    running = sandbox_servers.get()
    point_settings_at(settings, running)
    return running


@pytest.fixture
def admin() -> Actor:
    company = make_company("Northway Haulage Ltd")
    AccountingSettings.objects.create(company=company, package="xero_api")
    return make_actor(company, Role.SUPER_ADMIN)


@pytest.fixture
def northway_org(sandbox) -> str:
    """A Xero organisation set up to match the starter configuration."""
    org = sandbox.control.create_org(
        "Northway Haulage (Xero)", tracking_categories=NORTHWAY_TRACKING
    )
    return org["tenant_id"] if "tenant_id" in org else org["OrganisationID"]


def consent(
    sandbox: RunningSandbox, url: str, *, tenant_ids: list[str], redirect_uri: str = REDIRECT_URI
) -> dict[str, str]:
    """Log in as the sandbox's Xero user, tick organisations, allow; the callback query.

    Through the sandbox's long-lived HTTP client: a new client per call would load
    the CA bundle each time, most of what a consent flow cost.
    """
    page = sandbox.control.http.get(url)
    assert page.status_code == 200, page.text
    fields = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text
        )
    }
    fields.update(
        {"step": "consent", "action": "allow", "email": "demo@xero.sandbox", "password": "sandbox"}
    )
    data: dict[str, str | list[str]] = {**fields, "tenant_id": tenant_ids}
    answer = sandbox.control.http.post("/identity/connect/authorize", data=data)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(redirect_uri)
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def authorise(sandbox: RunningSandbox, actor: Actor, tenant_ids: list[str]):
    request = connection.xero_authorise_start(actor=actor, redirect_uri=REDIRECT_URI)
    query = consent(sandbox, request.url, tenant_ids=tenant_ids)
    assert query["state"] == request.state
    return connection.xero_authorise_complete(
        actor=actor,
        code=query["code"],
        redirect_uri=REDIRECT_URI,
        code_verifier=request.code_verifier,
    )
