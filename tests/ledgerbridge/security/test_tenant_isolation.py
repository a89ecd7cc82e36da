"""No company ever sees or changes another's data, through any web route or API operation.

Routes come from Django's URL resolver and the OpenAPI schema (see routes.py),
so one added later is tried too. Company A's Super Admin (browser session) and
A's API token (and the session on the API) try every route with each of company
B's ids: the answer is the one an id that exists nowhere gets (404, or 405 for a
method the route does not take), nothing of B is in it, and no row of B changed.
"""

from __future__ import annotations

import json

import pytest
from django.http import HttpResponse
from django.test import Client

from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import PASSWORD, make_user

from .routes import (
    MISSING_ID,
    Tenant,
    api_request,
    api_routes,
    api_token_for,
    fill,
    openapi,
    snapshot,
    web_routes,
)

pytestmark = pytest.mark.django_db


# A form post carrying B's ids in every field name a view might read them from.
def _form_with(ids: dict[str, list[int]]) -> dict[str, object]:
    return {
        "document_ids": ids["document"],
        "document_id": ids["document"][0],
        "partner": ids["partner"][0],
        "partner_id": ids["partner"][0],
        "company_id": ids["company"][0],
        "batch_id": ids["export_batch"][0],
        "task_id": ids["task"][0],
        "reason": "security test",
        "name": "security test",
    }


def session_client(tenant: Tenant) -> Client:
    client = Client()
    user = make_user(tenant.company, Role.SUPER_ADMIN)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def token_client(tenant: Tenant) -> Client:
    return Client(
        headers={"authorization": f"Bearer {api_token_for(tenant.company, Role.SUPER_ADMIN)}"}
    )


def assert_nothing_of(theirs: Tenant, response, what: str) -> None:
    body = response.content.decode(errors="replace")
    for marker in theirs.markers:
        assert marker not in body, f"{what}: {marker!r} of company B in the answer"


def missing(ids: dict[str, list[int]]) -> dict[str, list[int]]:
    return {kind: [MISSING_ID] for kind in ids}


def call(client: Client, method: str, url: str, query=None, body=None) -> HttpResponse:
    if method == "get":
        return client.get(url, query or {})
    if body is None and url.startswith("/api/"):
        body = {}
    if url.startswith("/api/"):
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        return client.generic(
            method.upper(), url, json.dumps(body), content_type="application/json"
        )
    return getattr(client, method)(url, body or {})


def test_every_web_route_with_company_bs_ids_answers_as_for_no_such_id(ours, theirs):
    before = snapshot(theirs.company)
    client = session_client(ours)
    tried = 0
    for route in web_routes():
        if route.name in ("logout", "login"):
            continue
        if not route.params:
            continue
        for method in route.methods:
            [nowhere] = fill(route, missing(theirs.ids))
            form = _form_with(theirs.ids)
            expected = call(client, method, nowhere, body=form).status_code
            assert expected in (404, 405), f"{method.upper()} {nowhere}: {expected}"
            if method == "post":
                assert expected == 404, f"POST {nowhere}: {expected}"
            for url in fill(route, theirs.ids):
                response = call(client, method, url, body=form)
                what = f"{method.upper()} {url} ({route.name})"
                assert response.status_code == expected, f"{what}: {response.status_code}"
                assert_nothing_of(theirs, response, what)
                tried += 1
    assert tried >= 60
    assert snapshot(theirs.company) == before


def test_web_routes_without_ids_show_and_change_nothing_of_company_b(ours, theirs):
    before = snapshot(theirs.company)
    client = session_client(ours)
    routes = [r for r in web_routes() if not r.params and r.name not in ("logout", "login")]
    assert len(routes) >= 20
    for route in routes:
        for method in route.methods:
            response = call(client, method, route.path, body=_form_with(theirs.ids))
            assert response.status_code < 500, f"{method.upper()} {route.path}"
            assert_nothing_of(theirs, response, f"{method.upper()} {route.path}")
            # and B's ids as query filters
            response = client.get(route.path, {"partner": theirs.ids["partner"][0]})
            assert_nothing_of(theirs, response, f"GET {route.path}?partner=B")
    assert snapshot(theirs.company) == before


@pytest.mark.parametrize("auth", ["token", "session"])
def test_every_api_operation_with_company_bs_ids_is_404_and_leaks_nothing(ours, theirs, auth):
    before = snapshot(theirs.company)
    client = token_client(ours) if auth == "token" else session_client(ours)
    spec = openapi()
    routes = api_routes()
    with_ids = [r for r in routes if r.params]
    assert len(with_ids) >= 10
    for route in with_ids:
        [method] = route.methods
        for url in fill(route, theirs.ids):
            query, body = api_request(route, theirs.ids, spec)
            response = call(client, method, url, query, body)
            what = f"{method.upper()} {url} ({route.name})"
            assert response.status_code == 404, (
                f"{what}: {response.status_code} {response.content[:300]!r}"
            )
            assert_nothing_of(theirs, response, what)
    assert snapshot(theirs.company) == before


@pytest.mark.parametrize("auth", ["token", "session"])
def test_api_operations_given_company_bs_ids_in_queries_and_bodies_leak_and_change_nothing(
    ours, theirs, auth
):
    before = snapshot(theirs.company)
    client = token_client(ours) if auth == "token" else session_client(ours)
    spec = openapi()
    for route in api_routes():
        [method] = route.methods
        query, body = api_request(route, theirs.ids, spec)
        for url in fill(route, ours.ids):
            response = call(client, method, url, query, body)
            what = f"{method.upper()} {url} ({route.name}) with B's ids in {query} {body}"
            assert response.status_code < 500, f"{what}: {response.status_code}"
            assert_nothing_of(theirs, response, what)
    assert snapshot(theirs.company) == before


def test_every_route_with_an_id_can_be_filled():
    """A new route whose ids this suite cannot supply fails here, naming the route."""
    for route in web_routes() + api_routes():
        route.kinds()
