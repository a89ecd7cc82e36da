"""The whole OAuth journey over real HTTP with Authlib, the product's OAuth client."""

from __future__ import annotations

import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.integrations.httpx_client import OAuth2Client

from xero_sandbox.seed import DEMO_REDIRECT_URIS, DEMO_USER_EMAIL, DEMO_USER_PASSWORD
from xero_sandbox.testing import RunningSandbox, running_sandbox

SCOPE = "openid profile email offline_access accounting.invoices accounting.contacts accounting.settings"


def consent_in_a_browser(authorize_url: str) -> str:
    """What the user does: open the page, log in, tick the organisation, allow."""
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(authorize_url)
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        form.update({"email": DEMO_USER_EMAIL, "password": DEMO_USER_PASSWORD})
        action = urlsplit(authorize_url)._replace(query="").geturl()
        consent_page = browser.post(action, data=form)
        tenant = re.search(r'name="tenant_id" value="([^"]+)"', consent_page.text)
        assert tenant is not None
        form.update({"step": "consent", "action": "allow", "tenant_id": tenant[1]})
        redirect = browser.post(action, data=form)
    assert redirect.status_code == 302
    return str(redirect.headers["location"])


def test_authlib_authorises_fetches_and_refreshes_tokens(server: RunningSandbox) -> None:
    client = OAuth2Client(
        server.client_id,
        server.client_secret,
        scope=SCOPE,
        redirect_uri=DEMO_REDIRECT_URIS[0],
        code_challenge_method="S256",
    )
    verifier = secrets.token_urlsafe(48)
    url, state = client.create_authorization_url(
        f"{server.base_url}/identity/connect/authorize", code_verifier=verifier
    )

    callback = consent_in_a_browser(url)
    token = client.fetch_token(
        f"{server.base_url}/connect/token", authorization_response=callback, code_verifier=verifier
    )
    connections = client.get(f"{server.base_url}/connections").json()
    refreshed = client.refresh_token(f"{server.base_url}/connect/token")

    assert parse_qs(urlsplit(callback).query)["state"] == [state]
    assert token["refresh_token"] and token["id_token"]
    assert [c["tenantId"] for c in connections] == [server.tenant_id]
    assert refreshed["refresh_token"] != token["refresh_token"]
    organisation = client.get(
        f"{server.base_url}/api.xro/2.0/Organisation", headers={"xero-tenant-id": server.tenant_id}
    )
    assert organisation.json()["Organisations"][0]["Name"] == "Demo Company (UK)"


def test_a_fast_clock_expires_access_tokens_in_real_seconds() -> None:
    with running_sandbox(time_scale=3600) as fast:
        token = fast.control.mint_token()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": fast.tenant_id}
        fresh = httpx.get(f"{fast.base_url}/api.xro/2.0/Organisation", headers=headers)
        time.sleep(0.6)  # 36 sandbox minutes
        stale = httpx.get(f"{fast.base_url}/api.xro/2.0/Organisation", headers=headers)

    assert fresh.status_code == 200
    assert stale.status_code == 401
    assert stale.json()["Detail"].startswith("TokenExpired")
