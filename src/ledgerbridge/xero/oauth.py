"""Xero's identity service: authorize URL, token exchange and refresh, revocation,
connections. Plain HTTP through Authlib; no database here.

Every URL is built from the three configured roots, so pointing them at the
sandbox or at real Xero is a configuration change.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import ssl
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx  # the HTTP library Authlib builds on
import jwt
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from django.conf import settings

from ledgerbridge.metrics import XERO_TOKEN_REFRESHES

from .errors import XeroError, unreachable_words
from .scopes import requested_scopes

TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every call: each new client would load the CA bundle again
    (tens of milliseconds, and it happens on every token refresh)."""
    return httpx.create_ssl_context()


class IdentityError(XeroError):
    """Xero's identity service said no, or could not be reached (one of the Xero
    errors, so whoever handles those handles these too)."""

    def __init__(self, message: str, *, error: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.error = error
        self.retryable = retryable


class GrantRejected(IdentityError):
    """``invalid_grant``: the refresh token or code is expired, used or revoked."""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: dt.datetime
    scope: str
    user_email: str = ""


@dataclass(frozen=True)
class Connection:
    id: str
    tenant_id: str
    tenant_name: str
    tenant_type: str


def authorize_url() -> str:
    return f"{settings.XERO_LOGIN_URL}/identity/connect/authorize"


def token_url() -> str:
    return f"{settings.XERO_IDENTITY_URL}/connect/token"


def revocation_url() -> str:
    return f"{settings.XERO_IDENTITY_URL}/connect/revocation"


def connections_url() -> str:
    return f"{settings.XERO_API_URL}/connections"


def _client(**kwargs: Any) -> OAuth2Client:
    if not settings.XERO_CLIENT_ID or not settings.XERO_CLIENT_SECRET:
        raise IdentityError(
            "The Xero app is not configured: set LEDGERBRIDGE_XERO_CLIENT_ID and "
            "LEDGERBRIDGE_XERO_CLIENT_SECRET."
        )
    return OAuth2Client(
        client_id=settings.XERO_CLIENT_ID,
        client_secret=settings.XERO_CLIENT_SECRET,
        token_endpoint_auth_method="client_secret_basic",
        timeout=TIMEOUT,
        verify=tls_context(),
        **kwargs,
    )


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


def authorization_request(*, redirect_uri: str) -> AuthorizationRequest:
    """Where to send the user, with PKCE (S256) and a fresh ``state``."""
    state = secrets.token_urlsafe(24)
    verifier = generate_token(64)
    with _client(
        scope=" ".join(requested_scopes(broad=settings.XERO_BROAD_SCOPES)),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    ) as client:
        url, _ = client.create_authorization_url(
            authorize_url(), state=state, code_verifier=verifier
        )
    return AuthorizationRequest(url=url, state=state, code_verifier=verifier)


def _token_set(token: dict[str, Any], *, now: dt.datetime) -> TokenSet:
    email = ""
    if token.get("id_token"):
        # Only read for display ("authorised as …"); the token came straight
        # from Xero over TLS, which is what vouches for it here.
        claims = jwt.decode(token["id_token"], options={"verify_signature": False})
        email = str(claims.get("email", ""))
    return TokenSet(
        access_token=token["access_token"],
        refresh_token=token.get("refresh_token", ""),
        expires_at=now + dt.timedelta(seconds=int(token.get("expires_in", 1800))),
        scope=token.get("scope", ""),
        user_email=email,
    )


def _token_call(call: Any, *, now: dt.datetime) -> TokenSet:
    try:
        return _token_set(call(), now=now)
    except OAuthError as error:
        message = error.description or error.error or "refused"
        if error.error == "invalid_grant":
            raise GrantRejected(f"Xero refused the grant: {message}", error=error.error) from error
        raise IdentityError(
            f"Xero refused the request: {message}", error=error.error or ""
        ) from error
    except httpx.HTTPError as error:
        raise IdentityError(
            f"Xero's identity service could not be reached: {unreachable_words(error)}.",
            retryable=True,
        ) from error


def exchange_code(
    *, code: str, redirect_uri: str, code_verifier: str, now: dt.datetime
) -> TokenSet:
    with _client(redirect_uri=redirect_uri) as client:
        return _token_call(
            lambda: client.fetch_token(
                token_url(),
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
            ),
            now=now,
        )


def refresh(*, refresh_token: str, now: dt.datetime) -> TokenSet:
    with _client() as client:
        try:
            tokens = _token_call(
                lambda: client.refresh_token(token_url(), refresh_token=refresh_token), now=now
            )
        except IdentityError:
            XERO_TOKEN_REFRESHES.labels(outcome="failed").inc()
            raise
    XERO_TOKEN_REFRESHES.labels(outcome="ok").inc()
    return tokens


def revoke(*, refresh_token: str) -> None:
    with _client() as client:
        try:
            response = client.revoke_token(
                revocation_url(), token=refresh_token, token_type_hint="refresh_token"
            )
        except httpx.HTTPError as error:
            raise IdentityError(
                f"Xero's identity service could not be reached: {unreachable_words(error)}.",
                retryable=True,
            ) from error
    if response.status_code >= 400:
        raise IdentityError(f"Xero refused to revoke the token (HTTP {response.status_code}).")


def list_connections(*, access_token: str) -> list[Connection]:
    response = _bearer("GET", connections_url(), access_token)
    return [
        Connection(
            id=item["id"],
            tenant_id=item["tenantId"],
            tenant_name=item.get("tenantName") or "",
            tenant_type=item.get("tenantType") or "",
        )
        for item in response.json()
    ]


def delete_connection(*, access_token: str, connection_id: str) -> None:
    _bearer("DELETE", f"{connections_url()}/{connection_id}", access_token, missing_ok=True)


def _bearer(
    method: str, url: str, access_token: str, *, missing_ok: bool = False
) -> httpx.Response:
    try:
        response = httpx.request(
            method,
            url,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT,
            verify=tls_context(),
        )
    except httpx.HTTPError as error:
        raise IdentityError(
            f"Xero could not be reached: {unreachable_words(error)}.", retryable=True
        ) from error
    if response.status_code == 404 and missing_ok:
        return response
    if response.status_code in (401, 403):
        raise GrantRejected(
            f"Xero refused the access token (HTTP {response.status_code}).", error="unauthorized"
        )
    if response.status_code >= 400:
        raise IdentityError(
            f"Xero answered HTTP {response.status_code} to {method} {url}.",
            retryable=response.status_code >= 500,
        )
    return response
