"""Schemathesis fuzzes our own OpenAPI: no input gives a 5xx, every refusal says why.

Each operation of /api/openapi.json is one test, driven through the WSGI app
with an API token of a seeded company (a Super Admin token, so the requests
reach the services rather than stopping at a 403). Examples per operation are
capped to keep ./test fast; ``LEDGERBRIDGE_FUZZ_EXAMPLES`` raises the cap.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from ledgerbridge.companies.models import Role
from ledgerbridge.wsgi import application

from .routes import Tenant, api_token_for

EXAMPLES = int(os.environ.get("LEDGERBRIDGE_FUZZ_EXAMPLES", "15"))


# Loaded through the app itself, as a client would (serving it touches no database).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def token(ours: Tenant) -> str:
    return api_token_for(ours.company, Role.SUPER_ADMIN)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
# Each request commits on its own, as in production: on PostgreSQL a refused
# statement would otherwise poison the test's one transaction for every later example.
@pytest.mark.django_db(transaction=True)
def test_no_input_makes_the_api_fail_and_every_error_says_why(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    what = f"{case.method} {case.formatted_path} {case.query} {case.body!r}"
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:500]}"
    headers = {k.lower(): v for k, v in response.headers.items()}
    if response.status_code == 405:  # a method the path does not take: Allow names those it does
        assert headers.get("allow"), what
    elif response.status_code >= 400:
        content_type = headers.get("content-type")
        assert "application/json" in str(content_type), (
            f"{what}: {response.status_code} {content_type}"
        )
        detail = response.json().get("detail")
        assert detail, f"{what}: {response.status_code} without a message: {response.text}"
        if isinstance(detail, list):
            assert all(item.get("msg") for item in detail), what


# Found by the fuzzer: 500s on numbers beyond the database's integers.


@pytest.mark.django_db
def test_a_page_number_beyond_any_page_is_refused_with_a_message(client, token):
    response = client.get(
        "/api/partners?page=92233720368547760", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "page"]


@pytest.mark.django_db
def test_an_id_beyond_64_bits_is_refused_with_a_message_not_500(client, token):
    auth = {"authorization": f"Bearer {token}"}
    big = 2**63
    response = client.post(f"/api/documents/{big}/xero/retry", headers=auth)
    # SQLite cannot bind it (400); Django answers PostgreSQL's lookup as not found (404).
    assert response.status_code in (400, 404)
    assert response.json()["detail"]
    response = client.post(
        "/api/documents/post-to-xero",
        {"document_ids": [big]},
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code in (400, 200)
