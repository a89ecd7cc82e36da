"""Role checks on every state-changing route, and CSRF on every form and session API call.

Routes come from the URL resolver and the OpenAPI schema (routes.py). A role
without the permission gets 403 and no row of its company changes; platform
staff's actions are refused even to a Super Admin.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import PASSWORD, make_user

from .routes import Route, Tenant, api_request, api_routes, api_token_for, fill, openapi, snapshot
from .routes import web_routes as all_web_routes

pytestmark = pytest.mark.django_db

STAFF, CONFIGURE, WORK, ANYONE = "platform staff", "configure", "work documents", "anyone"
# Who may use a route, by path: the first matching prefix wins.
REQUIRED = [
    ("/platform/", STAFF),
    ("/configuration/accounting/package", STAFF),
    ("/api/accounting/package", STAFF),
    ("/configuration/", CONFIGURE),
    ("/api/accounting", CONFIGURE),
    ("/company/switch", ANYONE),
    ("/health", ANYONE),
    # Prometheus's scrape: its bearer token, not a role (operations/test_metrics.py).
    ("/metrics", ANYONE),
    ("/", WORK),
]
ALLOWED = {
    Role.VIEWER: {ANYONE},
    Role.FINANCE: {ANYONE, WORK},
    Role.SUPER_ADMIN: {ANYONE, WORK, CONFIGURE},
}
MUTATING = {"post", "put", "patch", "delete"}
FORM = {"name": "x", "code": "999", "reason": "x", "package": "xero_api", "auto": "on"}


# Pages that only read: a POST to them renders or redirects like a GET (and the
# snapshot shows it changed nothing). A new route is a write until listed here.
READS = {
    "home",
    "invoice_list",
    "document_detail",
    "document_pdf",
    "xero_progress",
    "payments_outstanding",
    "exports_page",
    "exports_batches",
    "exports_batch",
    "exports_download",
    "partner_list",
    "partner_options",
    "reconciliation_page",
    "reconciliation_progress",
    "reconciliation_row",
}


def required(route: Route) -> str:
    if route.name in READS:
        return ANYONE
    return next(need for prefix, need in REQUIRED if route.path.startswith(prefix))


def web_routes() -> list[Route]:
    return [r for r in all_web_routes() if r.name not in ("login", "logout")]


def user_client(tenant: Tenant, role: str) -> Client:
    client = Client()
    user = make_user(tenant.company, role)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def send(client: Client, method: str, url: str, query=None, body=None):
    if url.startswith("/api/"):
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        return client.generic(
            method.upper(), url, json.dumps(body or {}), content_type="application/json"
        )
    return client.post(url, body or FORM)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.FINANCE, Role.SUPER_ADMIN])
def test_every_web_post_a_role_may_not_make_is_403_and_changes_nothing(ours, role):
    client = user_client(ours, role)
    refused, wrong = 0, []
    for route in web_routes():
        if required(route) in ALLOWED[role]:
            continue
        before = snapshot(ours.company)
        for url in fill(route, ours.ids):
            response = send(client, "post", url)
            if response.status_code != 403:
                wrong.append(f"{route.name} {url}: {response.status_code}")
            refused += 1
        assert snapshot(ours.company) == before, f"{role} POST {route.path} changed data"
    assert not wrong, f"{role} was not refused: " + "; ".join(wrong)
    assert refused >= {Role.VIEWER: 40, Role.FINANCE: 25, Role.SUPER_ADMIN: 1}[role]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.FINANCE, Role.SUPER_ADMIN])
@pytest.mark.parametrize("auth", ["token", "session"])
def test_every_api_mutation_a_role_may_not_make_is_403_and_changes_nothing(ours, role, auth):
    if auth == "token":
        client = Client(headers={"authorization": f"Bearer {api_token_for(ours.company, role)}"})
    else:
        client = user_client(ours, role)
    spec = openapi()
    refused = 0
    for route in api_routes():
        [method] = route.methods
        if method not in MUTATING or required(route) in ALLOWED[role]:
            continue
        before = snapshot(ours.company)
        query, body = api_request(route, ours.ids, spec)
        for url in fill(route, ours.ids):
            response = send(client, method, url, query, body)
            what = f"{role} {method.upper()} {url}"
            assert response.status_code == 403, f"{what}: {response.status_code}"
            assert response.json()["detail"], what
            refused += 1
        assert snapshot(ours.company) == before, f"{role} {method.upper()} {route.path}"
    assert refused >= {Role.VIEWER: 15, Role.FINANCE: 3, Role.SUPER_ADMIN: 1}[role]


def test_the_package_is_platform_staffs_and_a_super_admin_is_told_so(ours):
    client = user_client(ours, Role.SUPER_ADMIN)
    response = client.post("/configuration/accounting/package", {"package": "xero_file"})
    assert response.status_code == 403
    assert b"Only platform staff can change the accounting package." in response.content


# ---------------------------------------------------------------- CSRF


def test_every_web_post_without_a_csrf_token_is_403(ours):
    client = Client(enforce_csrf_checks=True)
    user = make_user(ours.company, Role.SUPER_ADMIN)
    assert client.login(username=user.username, password=PASSWORD)
    before = snapshot(ours.company)
    tried = 0
    for route in all_web_routes():  # login and logout too
        for url in fill(route, ours.ids):
            response = client.post(url, FORM)
            assert response.status_code == 403, f"POST {url}: {response.status_code}"
            assert b"CSRF" in response.content, url
            tried += 1
    assert tried >= 45
    assert snapshot(ours.company) == before


def test_a_web_post_with_the_csrf_token_passes_the_check(ours):
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    token = client.cookies["csrftoken"].value
    user = make_user(ours.company, Role.SUPER_ADMIN)
    response = client.post(
        "/login/",
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    token = client.get("/invoices/").context["csrf_token"]
    response = client.post(
        "/company/switch", {"company_id": ours.company.pk}, HTTP_X_CSRFTOKEN=str(token)
    )
    assert response.status_code == 302


def test_session_authenticated_api_mutations_need_the_csrf_token(ours):
    client = Client(enforce_csrf_checks=True)
    user = make_user(ours.company, Role.SUPER_ADMIN)
    assert client.login(username=user.username, password=PASSWORD)
    spec = openapi()
    before = snapshot(ours.company)
    tried = 0
    for route in api_routes():
        [method] = route.methods
        if method not in MUTATING:
            continue
        query, body = api_request(route, ours.ids, spec)
        for url in fill(route, ours.ids):
            response = send(client, method, url, query, body)
            assert response.status_code == 403, f"{method.upper()} {url}: {response.status_code}"
            assert "CSRF" in response.json()["detail"]
            tried += 1
    assert tried >= 15
    assert snapshot(ours.company) == before
    # Reading needs no token, and the token makes a write pass.
    assert client.get("/api/partners").status_code == 200
    token = client.get("/invoices/").context["csrf_token"]
    response = client.post(
        "/api/partners",
        {"kind": "customer", "number": "C9001", "name": "New Customer Ltd"},
        content_type="application/json",
        headers={"x-csrftoken": str(token)},
    )
    assert response.status_code == 201, response.content


def test_api_token_requests_need_no_csrf_token(ours):
    raw = api_token_for(ours.company, Role.FINANCE)
    client = Client(enforce_csrf_checks=True, headers={"authorization": f"Bearer {raw}"})
    response = client.post(
        "/api/partners",
        {"kind": "customer", "number": "C9002", "name": "Token Customer Ltd"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
