"""Xero Identity: consent page, code + PKCE, refresh rotation, revocation, connections,
bearer-token errors and scope enforcement."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from starlette.testclient import TestClient

from xero_sandbox import Sandbox
from xero_sandbox.seed import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
    DEMO_TENANT_ID,
    DEMO_USER_EMAIL,
    DEMO_USER_PASSWORD,
)

from .conftest import XeroApi, mint

REDIRECT = DEMO_REDIRECT_URIS[0]
SCOPES = "openid profile email offline_access accounting.invoices accounting.contacts accounting.settings"
VERIFIER = "a-long-random-verifier-string-of-at-least-43-characters-0123456789"
CHALLENGE = (
    base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")
)
BASIC = "Basic " + base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()


def authorize_params(**overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": SCOPES,
        "state": "xyz",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return params


def consent(
    client: TestClient, *, tenant_ids: tuple[str, ...] = (DEMO_TENANT_ID,), **overrides: str
) -> httpx.Response:
    """Log in and tick organisations the way a user does on the consent page."""
    form: dict[str, Any] = {
        **authorize_params(**overrides),
        "email": DEMO_USER_EMAIL,
        "password": DEMO_USER_PASSWORD,
        "step": "consent",
        "action": "allow",
        "tenant_id": list(tenant_ids),
    }
    return client.post("/identity/connect/authorize", data=form)


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def exchange(client: TestClient, code: str, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    }
    form.update(overrides)
    return client.post("/connect/token", data=form, headers={"Authorization": BASIC})


def refresh(client: TestClient, token: str) -> httpx.Response:
    return client.post(
        "/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        headers={"Authorization": BASIC},
    )


@pytest.fixture
def tokens(client: TestClient) -> dict[str, Any]:
    response = exchange(client, code_from(consent(client)))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_authorize_page_asks_the_user_to_log_in(client: TestClient) -> None:
    response = client.get("/identity/connect/authorize", params=authorize_params())

    assert response.status_code == 200
    assert 'name="email"' in response.text and 'name="password"' in response.text


def test_logging_in_shows_the_users_organisations_to_tick(client: TestClient) -> None:
    form = {
        **authorize_params(),
        "email": DEMO_USER_EMAIL,
        "password": DEMO_USER_PASSWORD,
        "step": "login",
    }

    response = client.post("/identity/connect/authorize", data=form)

    assert "Demo Company (UK)" in response.text
    assert f'value="{DEMO_TENANT_ID}"' in response.text


def test_a_wrong_password_is_refused_on_the_login_page(client: TestClient) -> None:
    form = {**authorize_params(), "email": DEMO_USER_EMAIL, "password": "nope", "step": "login"}

    response = client.post("/identity/connect/authorize", data=form)

    assert "Your email or password is incorrect" in response.text


def test_allowing_access_redirects_with_a_code_and_the_state(client: TestClient) -> None:
    assert code_from(consent(client))


def test_cancelling_redirects_with_access_denied(client: TestClient) -> None:
    response = client.post(
        "/identity/connect/authorize",
        data={
            **authorize_params(),
            "email": DEMO_USER_EMAIL,
            "password": DEMO_USER_PASSWORD,
            "action": "deny",
        },
    )

    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["access_denied"]


def test_an_unregistered_redirect_uri_is_refused_on_the_authorize_page(client: TestClient) -> None:
    response = client.get(
        "/identity/connect/authorize",
        params=authorize_params(redirect_uri="https://evil.example/cb"),
    )

    assert response.status_code == 400
    assert "unauthorized_client" in response.text and "Invalid redirect_uri" in response.text


def test_a_new_app_may_not_ask_for_accounting_transactions(client: TestClient) -> None:
    response = client.get(
        "/identity/connect/authorize",
        params=authorize_params(scope="openid accounting.transactions"),
    )

    assert response.status_code == 400
    assert "invalid_scope" in response.text


def test_a_legacy_app_may_ask_for_accounting_transactions(client: TestClient) -> None:
    client.post(
        "/sandbox/apps",
        json={
            "client_id": "OLD",
            "client_secret": "s",
            "redirect_uris": [REDIRECT],
            "legacy_scopes": True,
        },
    )

    response = client.get(
        "/identity/connect/authorize",
        params=authorize_params(client_id="OLD", scope="openid accounting.transactions"),
    )

    assert response.status_code == 200


def test_code_exchange_returns_tokens_with_the_consented_scopes(tokens: dict[str, Any]) -> None:
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})

    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 1800
    assert tokens["refresh_token"]
    assert claims["client_id"] == DEMO_CLIENT_ID
    assert set(claims["scope"]) == set(SCOPES.split())
    assert claims["exp"] - claims["nbf"] == 1800


def test_id_token_names_the_user_for_openid(tokens: dict[str, Any]) -> None:
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})

    assert claims["email"] == DEMO_USER_EMAIL
    assert claims["aud"] == DEMO_CLIENT_ID


def test_tokens_are_signed_with_the_published_key(
    client: TestClient, tokens: dict[str, Any]
) -> None:
    jwks = client.get("/.well-known/openid-configuration/jwks").json()
    key = jwt.PyJWK(jwks["keys"][0]).key

    claims = jwt.decode(
        tokens["access_token"],
        key,
        algorithms=["RS256"],
        audience="https://identity.xero.com/resources",
    )

    assert claims["iss"] == "https://identity.xero.com"


def test_client_secret_may_be_sent_in_the_form(client: TestClient) -> None:
    code = code_from(consent(client))
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }

    assert client.post("/connect/token", data=form).status_code == 200


def test_a_wrong_client_secret_is_invalid_client(client: TestClient) -> None:
    code = code_from(consent(client))
    wrong = "Basic " + base64.b64encode(f"{DEMO_CLIENT_ID}:wrong".encode()).decode()

    response = client.post(
        "/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        },
        headers={"Authorization": wrong},
    )

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client"}


def test_a_redirect_uri_other_than_the_authorized_one_is_invalid_grant(client: TestClient) -> None:
    response = exchange(client, code_from(consent(client)), redirect_uri=DEMO_REDIRECT_URIS[1])

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant"}


def test_a_code_works_once(client: TestClient) -> None:
    code = code_from(consent(client))
    exchange(client, code)

    response = exchange(client, code)

    assert response.json() == {"error": "invalid_grant"}


def test_a_wrong_pkce_verifier_is_invalid_grant(client: TestClient) -> None:
    response = exchange(client, code_from(consent(client)), code_verifier="x" * 50)

    assert response.json() == {"error": "invalid_grant"}


def test_an_unknown_grant_type_is_refused(client: TestClient) -> None:
    response = client.post(
        "/connect/token", data={"grant_type": "password"}, headers={"Authorization": BASIC}
    )

    assert response.json() == {"error": "unsupported_grant_type"}


def test_refresh_rotates_the_refresh_token(client: TestClient, tokens: dict[str, Any]) -> None:
    response = refresh(client, tokens["refresh_token"])

    assert response.status_code == 200
    assert response.json()["refresh_token"] != tokens["refresh_token"]
    assert response.json()["access_token"] != tokens["access_token"]


def test_a_retried_refresh_within_30_minutes_gets_the_same_new_refresh_token(
    client: TestClient, sandbox: Sandbox, tokens: dict[str, Any]
) -> None:
    first = refresh(client, tokens["refresh_token"]).json()
    sandbox.clock.advance(29 * 60)

    retried = refresh(client, tokens["refresh_token"])

    assert retried.status_code == 200
    assert retried.json()["refresh_token"] == first["refresh_token"]


def test_a_used_refresh_token_fails_after_the_grace_period(
    client: TestClient, sandbox: Sandbox, tokens: dict[str, Any]
) -> None:
    refresh(client, tokens["refresh_token"])
    sandbox.clock.advance(31 * 60)

    response = refresh(client, tokens["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_used_refresh_token_fails_once_its_successor_is_used(
    client: TestClient, tokens: dict[str, Any]
) -> None:
    successor = refresh(client, tokens["refresh_token"]).json()["refresh_token"]
    refresh(client, successor)

    assert refresh(client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_an_unused_refresh_token_expires_after_60_days(
    client: TestClient, sandbox: Sandbox, tokens: dict[str, Any]
) -> None:
    sandbox.clock.advance(60 * 24 * 3600 + 1)

    assert refresh(client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_revocation_removes_the_connections_and_the_refresh_token(
    client: TestClient, tokens: dict[str, Any]
) -> None:
    response = client.post(
        "/connect/revocation",
        data={"token": tokens["refresh_token"]},
        headers={"Authorization": BASIC},
    )
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    assert response.status_code == 200
    assert client.get("/connections", headers=bearer).json() == []
    assert refresh(client, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_connections_list_the_ticked_organisations(
    client: TestClient, tokens: dict[str, Any]
) -> None:
    connections = client.get(
        "/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()

    assert [(c["tenantId"], c["tenantType"], c["tenantName"]) for c in connections] == [
        (DEMO_TENANT_ID, "ORGANISATION", "Demo Company (UK)")
    ]
    assert connections[0]["authEventId"]


def test_connections_filter_by_auth_event(client: TestClient, tokens: dict[str, Any]) -> None:
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    response = client.get("/connections", params={"authEventId": "not-this-one"}, headers=bearer)

    assert response.json() == []


def test_deleting_a_connection_takes_away_access_to_the_tenant(
    client: TestClient, tokens: dict[str, Any]
) -> None:
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    connection_id = client.get("/connections", headers=bearer).json()[0]["id"]

    deleted = client.delete(f"/connections/{connection_id}", headers=bearer)
    after = client.get(
        "/api.xro/2.0/Organisation", headers={**bearer, "xero-tenant-id": DEMO_TENANT_ID}
    )

    assert deleted.status_code == 204
    assert after.status_code == 403
    assert after.json()["Detail"] == "AuthenticationUnsuccessful"


def test_an_expired_access_token_gets_token_expired(api: XeroApi, sandbox: Sandbox) -> None:
    sandbox.clock.advance(30 * 60 + 1)

    response = api.get("/Organisation")

    assert response.status_code == 401
    assert response.json()["Title"] == "Unauthorized"
    assert response.json()["Detail"].startswith("TokenExpired: token expired at ")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_forged_token_gets_token_invalid(api: XeroApi) -> None:
    api.token = api.token[:-4] + ("AAAA" if not api.token.endswith("AAAA") else "BBBB")

    response = api.get("/Organisation")

    assert response.status_code == 401
    assert response.json()["Detail"].startswith("TokenInvalid")


def test_no_token_is_unauthorized(client: TestClient) -> None:
    response = client.get("/api.xro/2.0/Organisation", headers={"xero-tenant-id": DEMO_TENANT_ID})

    assert response.status_code == 401


def test_a_tenant_the_token_is_not_connected_to_is_forbidden(
    api: XeroApi, client: TestClient
) -> None:
    other = client.post("/sandbox/orgs", json={"name": "Other Ltd", "users": []}).json()
    api.tenant_id = other["tenant_id"]

    response = api.get("/Organisation")

    assert response.status_code == 403
    assert response.json() == {
        **response.json(),
        "Title": "Forbidden",
        "Status": 403,
        "Detail": "AuthenticationUnsuccessful",
    }


def test_a_missing_scope_gets_authorization_unsuccessful(api_for) -> None:  # type: ignore[no-untyped-def]
    api = api_for(scopes=["accounting.contacts"])

    response = api.get("/Invoices")

    assert response.status_code == 401
    assert response.json()["Detail"] == "AuthorizationUnsuccessful"


def test_a_read_scope_cannot_write(api_for) -> None:  # type: ignore[no-untyped-def]
    api = api_for(scopes=["accounting.contacts.read"])

    listed = api.get("/Contacts")
    written = api.put("/Contacts", {"Contacts": [{"Name": "X"}]})

    assert listed.status_code == 200
    assert written.status_code == 401


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        ("accounting.settings.read", "/Accounts"),
        ("accounting.settings.read", "/TaxRates"),
        ("accounting.settings.read", "/TrackingCategories"),
        ("accounting.invoices.read", "/CreditNotes"),
        ("accounting.payments.read", "/Payments"),
    ],
)
def test_each_endpoint_answers_to_its_granular_scope(api_for, scope: str, path: str) -> None:  # type: ignore[no-untyped-def]
    assert api_for(scopes=[scope]).get(path).status_code == 200


def test_payments_need_the_payments_scope_not_the_invoices_scope(api_for) -> None:  # type: ignore[no-untyped-def]
    assert api_for(scopes=["accounting.invoices"]).get("/Payments").status_code == 401


def test_the_broad_transactions_scope_works_for_a_legacy_app(client: TestClient, api_for) -> None:  # type: ignore[no-untyped-def]
    client.post(
        "/sandbox/apps", json={"client_id": "OLD", "client_secret": "s", "legacy_scopes": True}
    )

    api = api_for(client_id="OLD", scopes=["accounting.transactions"])

    assert api.get("/Invoices").status_code == 200
    assert api.get("/Payments").status_code == 200


def test_minting_the_broad_scope_for_a_new_app_is_refused(client: TestClient) -> None:
    response = client.post("/sandbox/tokens", json={"scopes": ["accounting.transactions"]})

    assert response.status_code == 400


def test_mint_token_helper_connects_the_demo_tenant(client: TestClient) -> None:
    assert mint(client)["tenant_ids"] == [DEMO_TENANT_ID]


def test_a_pkce_only_app_exchanges_a_code_without_a_secret(client: TestClient) -> None:
    client.post(
        "/sandbox/apps",
        json={"client_id": "NATIVE", "client_secret": None, "redirect_uris": [REDIRECT]},
    )
    code = code_from(consent(client, client_id="NATIVE"))

    response = client.post(
        "/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
            "client_id": "NATIVE",
        },
    )

    assert response.status_code == 200


def test_a_pkce_only_app_must_send_a_challenge(client: TestClient) -> None:
    client.post(
        "/sandbox/apps",
        json={"client_id": "NATIVE", "client_secret": None, "redirect_uris": [REDIRECT]},
    )

    response = client.get(
        "/identity/connect/authorize",
        params=authorize_params(client_id="NATIVE", code_challenge=""),
    )

    assert response.status_code == 400


def test_a_confidential_app_must_send_its_secret(client: TestClient) -> None:
    code = code_from(consent(client))

    response = client.post(
        "/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
            "client_id": DEMO_CLIENT_ID,
        },
    )

    assert response.json() == {"error": "invalid_client"}


def test_without_offline_access_there_is_no_refresh_token(client: TestClient) -> None:
    code = code_from(consent(client, scope="openid accounting.invoices"))

    assert "refresh_token" not in exchange(client, code).json()
