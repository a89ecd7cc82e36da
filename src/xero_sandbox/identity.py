"""Xero Identity: the consent page, the token endpoint, revocation and connections.

Paths are Xero's: ``/identity/connect/authorize`` (login.xero.com),
``/connect/token`` and ``/connect/revocation`` (identity.xero.com),
``/connections`` (api.xero.com). One server plays all three hosts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .dates import datetime_string
from .responses import json_response, not_found, oauth_error, problem
from .state import Sandbox
from .store import Json
from .tokens import (
    ACCESS_TOKEN_SECONDS,
    AUDIENCE,
    AUTH_CODE_SECONDS,
    ISSUER,
    REFRESH_GRACE_SECONDS,
    REFRESH_TOKEN_SECONDS,
    ExpiredToken,
    InvalidToken,
    opaque_token,
)

IDENTITY_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
GRANULAR_SCOPES = frozenset(
    {
        "accounting.invoices",
        "accounting.invoices.read",
        "accounting.payments",
        "accounting.payments.read",
        "accounting.banktransactions",
        "accounting.banktransactions.read",
        "accounting.manualjournals",
        "accounting.manualjournals.read",
        "accounting.contacts",
        "accounting.contacts.read",
        "accounting.settings",
        "accounting.settings.read",
        "accounting.attachments",
        "accounting.attachments.read",
        "accounting.reports.read",
        "accounting.journals.read",
        "accounting.budgets.read",
    }
)
# Only apps created before 2 March 2026 may still ask for the broad scopes.
LEGACY_SCOPES = frozenset({"accounting.transactions", "accounting.transactions.read"})


async def read_form(request: Request) -> FormData:
    """A urlencoded form body (all Xero's identity endpoints take these)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    pairs: list[tuple[str, str | Any]] = list(parse_qsl(body, keep_blank_values=True))
    return FormData(pairs)


def sb_of(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def allowed_scopes(app: Json) -> frozenset[str]:
    scopes = IDENTITY_SCOPES | GRANULAR_SCOPES
    return scopes | LEGACY_SCOPES if app.get("legacy_scopes") else scopes


def invalid_scopes(app: Json, scopes: list[str]) -> list[str]:
    permitted = allowed_scopes(app)
    return [s for s in scopes if s not in permitted]


# -- tokens ----------------------------------------------------------------------
def connect_tenants(
    sb: Sandbox, *, client_id: str, user_id: str, tenant_ids: list[str], auth_event_id: str
) -> list[Json]:
    """Create (or refresh) the app's connections to the organisations the user ticked."""
    now = sb.clock.now()
    existing = {
        c["tenant_id"]: c for c in sb.store.connections(client_id=client_id, user_id=user_id)
    }
    result = []
    for tenant_id in tenant_ids:
        conn = existing.get(tenant_id) or {
            "id": str(uuid.uuid4()),
            "client_id": client_id,
            "user_id": user_id,
            "tenant_id": tenant_id,
            "created": now,
        }
        conn["auth_event_id"] = auth_event_id
        conn["updated"] = now
        sb.store.add_connection(conn)
        result.append(conn)
    return result


def connection_json(sb: Sandbox, conn: Json) -> Json:
    org = sb.store.get_org(conn["tenant_id"]) or {}
    return {
        "id": conn["id"],
        "authEventId": conn["auth_event_id"],
        "tenantId": conn["tenant_id"],
        "tenantType": "ORGANISATION",
        "tenantName": org.get("Name"),
        "createdDateUtc": datetime_string(conn["created"]) + ".0000000",
        "updatedDateUtc": datetime_string(conn["updated"]) + ".0000000",
    }


def issue_tokens(
    sb: Sandbox,
    *,
    app: Json,
    user: Json,
    scopes: list[str],
    auth_event_id: str,
    nonce: str | None = None,
    refresh_token: str | None = None,
) -> Json:
    """An OAuth token response; a new refresh token unless ``refresh_token`` is reused."""
    now = sb.clock.now()
    session = str(uuid.uuid4())
    claims = {
        "nbf": int(now),
        "exp": int(now) + ACCESS_TOKEN_SECONDS,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "client_id": app["client_id"],
        "sub": user["user_id"].replace("-", ""),
        "auth_time": int(now),
        "xero_userid": user["user_id"],
        "global_session_id": session.replace("-", ""),
        "sid": session.replace("-", ""),
        "jti": uuid.uuid4().hex,
        "authentication_event_id": auth_event_id,
        "scope": scopes,
    }
    body: Json = {
        "access_token": sb.signer.sign(claims),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "token_type": "Bearer",
        "scope": " ".join(scopes),
    }
    if "openid" in scopes:
        id_claims: Json = {
            "nbf": int(now),
            "exp": int(now) + 300,
            "iss": ISSUER,
            "aud": app["client_id"],
            "iat": int(now),
            "sub": claims["sub"],
            "auth_time": int(now),
            "xero_userid": user["user_id"],
            "global_session_id": claims["global_session_id"],
            "sid": claims["sid"],
            "amr": ["pwd"],
        }
        if "email" in scopes:
            id_claims["email"] = user["email"]
            id_claims["preferred_username"] = user["email"]
        if "profile" in scopes:
            id_claims["given_name"] = user["first_name"]
            id_claims["family_name"] = user["last_name"]
            id_claims["name"] = f"{user['first_name']} {user['last_name']}"
        if nonce:
            id_claims["nonce"] = nonce
        body["id_token"] = sb.signer.sign({**id_claims, "aud": app["client_id"]})
    if "offline_access" in scopes:
        if refresh_token is None:
            refresh_token = opaque_token()
            sb.store.put_grant(
                refresh_token,
                "refresh",
                {
                    "client_id": app["client_id"],
                    "user_id": user["user_id"],
                    "scopes": scopes,
                    "auth_event_id": auth_event_id,
                    "issued": now,
                    "expires": now + REFRESH_TOKEN_SECONDS,
                    "used_at": None,
                    "successor": None,
                    "revoked": False,
                },
            )
        body["refresh_token"] = refresh_token
    return body


def authenticate_client(request: Request, form: Any) -> tuple[Json | None, str | None, bool]:
    """(app, client_id, secret_presented_and_valid) from HTTP Basic or the form."""
    sb = sb_of(request)
    client_id = form.get("client_id")
    secret = form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
            raw_id, _, raw_secret = decoded.partition(":")
            # RFC 6749 2.3.1: both parts are form-encoded before Basic encoding.
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        except (ValueError, UnicodeDecodeError):
            return None, None, False
    if not client_id:
        return None, None, False
    app = sb.store.get_app(client_id)
    if app is None:
        return None, client_id, False
    expected = app.get("client_secret")
    if secret is None:
        return app, client_id, False
    valid = expected is not None and hmac.compare_digest(str(secret), str(expected))
    return app, client_id, valid


async def token_endpoint(request: Request) -> Response:
    sb = sb_of(request)
    form = await read_form(request)
    app, _client_id, secret_ok = authenticate_client(request, form)
    if app is None:
        return oauth_error("invalid_client")
    presented_secret = bool(form.get("client_secret")) or request.headers.get(
        "authorization", ""
    ).lower().startswith("basic ")
    if presented_secret and not secret_ok:
        return oauth_error("invalid_client")
    grant_type = form.get("grant_type")
    now = sb.clock.now()
    if grant_type == "authorization_code":
        code = str(form.get("code") or "")
        grant = sb.store.get_grant(code, "code")
        if app.get("client_secret") and not secret_ok:
            # Confidential apps must authenticate; only PKCE-only apps may omit the secret.
            return oauth_error("invalid_client")
        if grant is None or grant["client_id"] != app["client_id"]:
            return oauth_error("invalid_grant")
        if grant["used"] or grant["expires"] <= now:
            return oauth_error("invalid_grant")
        if str(form.get("redirect_uri") or "") != grant["redirect_uri"]:
            return oauth_error("invalid_grant")
        challenge = grant.get("code_challenge")
        if challenge:
            verifier = str(form.get("code_verifier") or "")
            digest = hashlib.sha256(verifier.encode()).digest()
            computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if not verifier or not hmac.compare_digest(computed, challenge):
                return oauth_error("invalid_grant")
        elif not app.get("client_secret"):
            return oauth_error("invalid_grant")
        grant["used"] = True
        sb.store.put_grant(code, "code", grant)
        user = sb.store.get_user(grant["user_id"])
        if user is None:
            return oauth_error("invalid_grant")
        body = issue_tokens(
            sb,
            app=app,
            user=user,
            scopes=grant["scopes"],
            auth_event_id=grant["auth_event_id"],
            nonce=grant.get("nonce"),
        )
        return json_response(body)
    if grant_type == "refresh_token":
        if app.get("client_secret") and not secret_ok:
            return oauth_error("invalid_client")
        token = str(form.get("refresh_token") or "")
        grant = sb.store.get_grant(token, "refresh")
        expired = oauth_error("invalid_grant")
        if grant is None or grant["client_id"] != app["client_id"] or grant["revoked"]:
            return expired
        if grant["expires"] <= now:
            return expired
        user = sb.store.get_user(grant["user_id"])
        if user is None:
            return expired
        if grant["used_at"] is not None:
            # Xero's grace period: a refresh whose answer was lost may be retried for
            # 30 minutes, as long as the refresh token it produced is still unused.
            successor = (
                sb.store.get_grant(grant["successor"], "refresh") if grant["successor"] else None
            )
            if (
                now - grant["used_at"] > REFRESH_GRACE_SECONDS
                or successor is None
                or successor["used_at"] is not None
                or successor["revoked"]
            ):
                return expired
            body = issue_tokens(
                sb,
                app=app,
                user=user,
                scopes=grant["scopes"],
                auth_event_id=grant["auth_event_id"],
                refresh_token=grant["successor"],
            )
            return json_response(body)
        body = issue_tokens(
            sb, app=app, user=user, scopes=grant["scopes"], auth_event_id=grant["auth_event_id"]
        )
        grant["used_at"] = now
        grant["successor"] = body.get("refresh_token")
        sb.store.put_grant(token, "refresh", grant)
        return json_response(body)
    return oauth_error("unsupported_grant_type")


async def revocation_endpoint(request: Request) -> Response:
    sb = sb_of(request)
    form = await read_form(request)
    app, _client_id, secret_ok = authenticate_client(request, form)
    if app is None or (app.get("client_secret") and not secret_ok):
        return oauth_error("invalid_client")
    token = str(form.get("token") or "")
    grant = sb.store.get_grant(token, "refresh")
    if grant is not None and grant["client_id"] == app["client_id"]:
        # Revoking a refresh token ends the user's whole grant and all their connections.
        sb.store.revoke_grants(app["client_id"], grant["user_id"])
        for conn in sb.store.connections(client_id=app["client_id"], user_id=grant["user_id"]):
            sb.store.delete_connection(conn["id"])
    return Response(status_code=200)


# -- bearer tokens for /connections and the accounting API -------------------------
def bearer_claims(request: Request) -> tuple[Json | None, Response | None]:
    """The verified claims of the request's bearer token, or Xero's 401."""
    sb = sb_of(request)
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None, problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    try:
        claims = sb.signer.verify(header[7:].strip(), now=sb.clock.now())
    except ExpiredToken as exc:
        from datetime import UTC, datetime

        at = datetime.fromtimestamp(exc.expired_at, tz=UTC).strftime("%m/%d/%Y %H:%M:%S")
        return None, problem(
            401,
            "Unauthorized",
            f"TokenExpired: token expired at {at}",
            headers={
                "WWW-Authenticate": 'Bearer error="invalid_token", '
                'error_description="The token expired"'
            },
        )
    except InvalidToken:
        return None, problem(
            401,
            "Unauthorized",
            "TokenInvalid: signature validation failed",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return claims, None


async def list_connections(request: Request) -> Response:
    sb = sb_of(request)
    claims, error = bearer_claims(request)
    if error is not None or claims is None:
        return error or problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    conns = sb.store.connections(client_id=claims["client_id"], user_id=claims["xero_userid"])
    event = request.query_params.get("authEventId")
    if event:
        conns = [c for c in conns if c["auth_event_id"] == event]
    return json_response([connection_json(sb, c) for c in conns])


async def delete_connection(request: Request) -> Response:
    sb = sb_of(request)
    claims, error = bearer_claims(request)
    if error is not None or claims is None:
        return error or problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    connection_id = request.path_params["id"]
    for conn in sb.store.connections(client_id=claims["client_id"], user_id=claims["xero_userid"]):
        if conn["id"] == connection_id:
            sb.store.delete_connection(connection_id)
            return Response(status_code=204)
    return not_found()


# -- the consent page ------------------------------------------------------------
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Xero sandbox</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f2f5f7; margin: 0; }}
main {{ max-width: 30rem; margin: 4rem auto; background: #fff; padding: 2rem;
        border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
h1 {{ color: #13b5ea; font-size: 1.4rem; }}
label {{ display: block; margin: .6rem 0; }}
input[type=email], input[type=password] {{ width: 100%; padding: .5rem; box-sizing: border-box; }}
button {{ background: #13b5ea; color: #fff; border: 0; padding: .6rem 1.4rem;
          border-radius: 4px; font-size: 1rem; margin-right: .5rem; }}
button.secondary {{ background: #ccc; color: #222; }}
.error {{ color: #b00020; }}
.note {{ color: #555; font-size: .85rem; }}
</style></head><body><main>{body}</main></body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


def _error_page(error: str, description: str) -> HTMLResponse:
    body = (
        f'<h1>Error</h1><p class="error" id="error">Error: {html.escape(error)}</p>'
        f'<p id="error-description">{html.escape(description)}</p>'
    )
    return _page("Error", body, status=400)


_AUTH_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
)


def _validate_authorize(sb: Sandbox, params: Any) -> tuple[Json | None, HTMLResponse | None]:
    app = sb.store.get_app(str(params.get("client_id") or ""))
    if app is None:
        return None, _error_page("unauthorized_client", "Unknown client or client not enabled")
    if params.get("redirect_uri") not in app["redirect_uris"]:
        return None, _error_page("unauthorized_client", "Invalid redirect_uri")
    if params.get("response_type") != "code":
        return None, _error_page("unsupported_response_type", "Invalid response_type")
    scopes = str(params.get("scope") or "").split()
    if not scopes or invalid_scopes(app, scopes):
        return None, _error_page("invalid_scope", "Invalid scope for client")
    if params.get("code_challenge") and params.get("code_challenge_method", "S256") != "S256":
        return None, _error_page("invalid_request", "Invalid code_challenge_method")
    if not app.get("client_secret") and not params.get("code_challenge"):
        return None, _error_page("invalid_request", "code challenge required")
    return app, None


def _hidden(params: Any) -> str:
    return "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(str(params.get(name)))}">'
        for name in _AUTH_PARAMS
        if params.get(name) is not None
    )


def _login_form(params: Any, app: Json, error: str = "") -> HTMLResponse:
    message = f'<p class="error" id="login-error">{html.escape(error)}</p>' if error else ""
    body = f"""<h1>Log in to Xero</h1>
<p>to connect <strong>{html.escape(app["name"])}</strong></p>{message}
<form method="post" action="/identity/connect/authorize">{_hidden(params)}
<input type="hidden" name="step" value="login">
<label>Email address <input type="email" name="email" id="email" required></label>
<label>Password <input type="password" name="password" id="password" required></label>
<button type="submit" id="login">Log in</button></form>
<p class="note">Xero sandbox: this is a local imitation of Xero's login.</p>"""
    return _page("Log in", body)


def _consent_form(sb: Sandbox, params: Any, app: Json, user: Json, password: str) -> HTMLResponse:
    scopes = str(params.get("scope")).split()
    needs_tenant = any(s.startswith("accounting.") for s in scopes)
    orgs = [sb.store.get_org(t) for t in sb.store.user_tenants(user["user_id"])]
    rows = "".join(
        f'<label><input type="checkbox" name="tenant_id" value="{o["OrganisationID"]}"'
        f' class="tenant">{html.escape(o["Name"])}</label>'
        for o in orgs
        if o is not None
    )
    tenant_block = (
        f"<fieldset><legend>Organisations</legend>{rows}</fieldset>" if needs_tenant else ""
    )
    scope_list = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    body = f"""<h1>{html.escape(app["name"])} wants access to your Xero data</h1>
<p>Logged in as <strong>{html.escape(user["email"])}</strong></p>
<ul class="note">{scope_list}</ul>
<form method="post" action="/identity/connect/authorize">{_hidden(params)}
<input type="hidden" name="step" value="consent">
<input type="hidden" name="email" value="{html.escape(user["email"])}">
<input type="hidden" name="password" value="{html.escape(password)}">
{tenant_block}
<button type="submit" name="action" value="allow" id="allow">Allow access</button>
<button type="submit" name="action" value="deny" class="secondary" id="deny">Cancel</button>
</form>"""
    return _page("Allow access", body)


async def authorize_get(request: Request) -> Response:
    sb = sb_of(request)
    app, error = _validate_authorize(sb, request.query_params)
    if error is not None or app is None:
        return error or _error_page("invalid_request", "")
    return _login_form(request.query_params, app)


def _redirect(params: Any, extra: dict[str, str]) -> RedirectResponse:
    query = dict(extra)
    if params.get("state") is not None:
        query["state"] = str(params.get("state"))
    separator = "&" if "?" in str(params.get("redirect_uri")) else "?"
    return RedirectResponse(f"{params.get('redirect_uri')}{separator}{urlencode(query)}", 302)


async def authorize_post(request: Request) -> Response:
    sb = sb_of(request)
    form = await read_form(request)
    app, error = _validate_authorize(sb, form)
    if error is not None or app is None:
        return error or _error_page("invalid_request", "")
    user = sb.store.get_user_by_email(str(form.get("email") or ""))
    password = str(form.get("password") or "")
    if user is None or not hmac.compare_digest(password, user["password"]):
        return _login_form(form, app, "Your email or password is incorrect")
    if form.get("step") == "login":
        return _consent_form(sb, form, app, user, password)
    if form.get("action") != "allow":
        return _redirect(form, {"error": "access_denied"})
    scopes = str(form.get("scope")).split()
    member_of = set(sb.store.user_tenants(user["user_id"]))
    tenant_ids = [str(t) for t in form.getlist("tenant_id") if t in member_of]
    if any(s.startswith("accounting.") for s in scopes) and not tenant_ids:
        return _consent_form(sb, form, app, user, password)
    auth_event_id = str(uuid.uuid4())
    connect_tenants(
        sb,
        client_id=app["client_id"],
        user_id=user["user_id"],
        tenant_ids=tenant_ids,
        auth_event_id=auth_event_id,
    )
    code = opaque_token()
    sb.store.put_grant(
        code,
        "code",
        {
            "client_id": app["client_id"],
            "user_id": user["user_id"],
            "redirect_uri": str(form.get("redirect_uri")),
            "scopes": scopes,
            "tenant_ids": tenant_ids,
            "auth_event_id": auth_event_id,
            "code_challenge": form.get("code_challenge"),
            "nonce": form.get("nonce"),
            "expires": sb.clock.now() + AUTH_CODE_SECONDS,
            "used": False,
        },
    )
    return _redirect(form, {"code": code, "scope": " ".join(scopes)})


async def openid_configuration(request: Request) -> Response:
    root = sb_of(request).api_root
    return json_response(
        {
            "issuer": ISSUER,
            "authorization_endpoint": f"{root}/identity/connect/authorize",
            "token_endpoint": f"{root}/connect/token",
            "revocation_endpoint": f"{root}/connect/revocation",
            "jwks_uri": f"{root}/.well-known/openid-configuration/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }
    )


async def jwks(request: Request) -> Response:
    return json_response(sb_of(request).signer.jwks())


routes = [
    Route("/identity/connect/authorize", authorize_get, methods=["GET"]),
    Route("/identity/connect/authorize", authorize_post, methods=["POST"]),
    Route("/connect/token", token_endpoint, methods=["POST"]),
    Route("/connect/revocation", revocation_endpoint, methods=["POST"]),
    Route("/connections", list_connections, methods=["GET"]),
    Route("/connections/{id}", delete_connection, methods=["DELETE"]),
    # xero-python's IdentityApi spells it with a capital C; Xero accepts both.
    Route("/Connections", list_connections, methods=["GET"]),
    Route("/Connections/{id}", delete_connection, methods=["DELETE"]),
    Route("/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
    Route("/.well-known/openid-configuration/jwks", jwks, methods=["GET"]),
]
