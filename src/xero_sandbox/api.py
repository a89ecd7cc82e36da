"""What every accounting call goes through, in Xero's order.

Bearer token (401 TokenExpired / TokenInvalid), granted scopes (401
AuthorizationUnsuccessful), the ``xero-tenant-id`` header and connection (403
AuthenticationUnsuccessful), rate limits (429), injected faults, then
``Idempotency-Key`` replay for POST/PUT, then the handler. Rate-limit headers
are added to every answer that got past authentication.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .identity import bearer_claims, sb_of
from .responses import json_response, problem, validation_exception
from .state import Fault, Sandbox
from .store import Json

# Which scopes satisfy an endpoint group, for reading and for writing. The broad
# accounting.transactions scopes exist only for apps created before March 2026.
SCOPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "settings": (
        frozenset({"accounting.settings", "accounting.settings.read"}),
        frozenset({"accounting.settings"}),
    ),
    "contacts": (
        frozenset({"accounting.contacts", "accounting.contacts.read"}),
        frozenset({"accounting.contacts"}),
    ),
    "invoices": (
        frozenset(
            {
                "accounting.invoices",
                "accounting.invoices.read",
                "accounting.transactions",
                "accounting.transactions.read",
            }
        ),
        frozenset({"accounting.invoices", "accounting.transactions"}),
    ),
    "payments": (
        frozenset(
            {
                "accounting.payments",
                "accounting.payments.read",
                "accounting.transactions",
                "accounting.transactions.read",
            }
        ),
        frozenset({"accounting.payments", "accounting.transactions"}),
    ),
    "attachments": (
        frozenset({"accounting.attachments", "accounting.attachments.read"}),
        frozenset({"accounting.attachments"}),
    ),
}

IDEMPOTENCY_KEY_MAX = 128


@dataclass
class Ctx:
    """One authorised accounting call."""

    sb: Sandbox
    request: Request
    tenant_id: str
    client_id: str
    app: Json
    claims: Json
    org: Json

    @property
    def now(self) -> float:
        return self.sb.clock.now()

    @property
    def provider(self) -> str:
        return str(self.app.get("name") or "Xero sandbox")

    def query_flag(self, name: str, default: bool = False) -> bool:
        value = self.request.query_params.get(name)
        if value is None:
            # Xero's query parameter names are case-insensitive.
            lowered = name.lower()
            value = next(
                (v for k, v in self.request.query_params.items() if k.lower() == lowered), None
            )
        if value is None:
            return default
        return value.lower() == "true"

    def query(self, name: str) -> str | None:
        value = self.request.query_params.get(name)
        if value is not None:
            return value
        lowered = name.lower()
        return next((v for k, v in self.request.query_params.items() if k.lower() == lowered), None)


Handler = Callable[[Ctx], Awaitable[Response]]


class DroppedResponse(Response):
    """Close the client's connection without answering ("commit then drop")."""

    def __init__(self, status_code: int) -> None:
        super().__init__(status_code=status_code)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["sandbox.dropped_status"] = self.status_code
        # uvicorn's send is a bound method of its request cycle, which owns the transport.
        cycle = getattr(scope.get("sandbox.raw_send"), "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is not None:
            transport.close()
            # Tell uvicorn the client is gone so it does not try to answer 500.
            cycle.disconnected = True  # type: ignore[union-attr]
            return
        raise ConnectionAbortedError("response dropped by an injected fault")


def _fingerprint(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.url.path.encode())
    digest.update("&".join(sorted(request.url.query.split("&"))).encode())
    digest.update(body)
    return digest.hexdigest()


async def _fault_response(fault: Fault) -> Response | None:
    if fault.kind == "latency":
        await asyncio.sleep(fault.seconds)
        return None
    if fault.kind == "error":
        titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        return problem(fault.status, titles.get(fault.status, "Error"), "An error occurred in Xero")
    if fault.kind == "rate_limit":
        return problem(
            429,
            "Too Many Requests",
            "TooManyRequests",
            headers={"Retry-After": str(fault.retry_after), "X-Rate-Limit-Problem": fault.problem},
        )
    if fault.kind == "timeout":
        await asyncio.sleep(fault.seconds or 30.0)
        return problem(504, "Gateway Timeout", "The request timed out")
    return None


def api(
    group: str, *, write: bool = False
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap an accounting handler with Xero's authentication, limits and idempotency."""
    read_scopes, write_scopes = SCOPES[group]
    needed = write_scopes if write else read_scopes

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            sb = sb_of(request)
            claims, error = bearer_claims(request)
            if error is not None or claims is None:
                return error or problem(401, "Unauthorized", "AuthenticationUnsuccessful")
            if not needed.intersection(claims.get("scope") or []):
                return problem(401, "Unauthorized", "AuthorizationUnsuccessful")
            tenant_id = (request.headers.get("xero-tenant-id") or "").strip().lower()
            if not tenant_id:
                return problem(403, "Forbidden", "AuthenticationUnsuccessful")
            client_id = claims["client_id"]
            connected = sb.store.connections(
                client_id=client_id, user_id=claims["xero_userid"], tenant_id=tenant_id
            )
            org = sb.store.get_org(tenant_id) if connected else None
            app = sb.store.get_app(client_id)
            if org is None or app is None:
                return problem(403, "Forbidden", "AuthenticationUnsuccessful")
            decision = sb.limiter.acquire(client_id, tenant_id)
            if not decision.allowed:
                return problem(
                    429, "Too Many Requests", "TooManyRequests", headers=decision.headers
                )
            try:
                response = await _run(
                    Ctx(sb, request, tenant_id, client_id, app, claims, org), handler, write
                )
            finally:
                sb.limiter.release(client_id, tenant_id)
            response.headers.update(decision.headers)
            return response

        endpoint.__name__ = handler.__name__
        return endpoint

    return decorate


async def _run(ctx: Ctx, handler: Handler, write: bool) -> Response:
    request = ctx.request
    generation = ctx.sb.generation
    fault = ctx.sb.take_fault(request.method, request.url.path, ctx.tenant_id)
    if fault is not None and fault.kind == "revoke":
        # The organisation disconnects the app mid-flight: this and later calls get 403.
        for conn in ctx.sb.store.connections(client_id=ctx.client_id, tenant_id=ctx.tenant_id):
            ctx.sb.store.delete_connection(conn["id"])
        return problem(403, "Forbidden", "AuthenticationUnsuccessful")
    if fault is not None:
        early = await _fault_response(fault)
        if early is not None:
            return early
        if ctx.sb.generation != generation:
            # Reset while the call waited: its world is gone (its client usually is too).
            return problem(503, "Service Unavailable", "The sandbox was reset")
    key = request.headers.get("idempotency-key")
    if key is None or request.method not in {"POST", "PUT", "PATCH"}:
        response = await handler(ctx)
    else:
        response = await _idempotent(ctx, handler, key)
    if fault is not None and fault.kind == "drop":
        return DroppedResponse(response.status_code)
    return response


async def _idempotent(ctx: Ctx, handler: Handler, key: str) -> Response:
    if len(key) > IDEMPOTENCY_KEY_MAX:
        return validation_exception(
            [], f"Idempotency-Key must be {IDEMPOTENCY_KEY_MAX} characters or fewer."
        )
    body = await ctx.request.body()
    fingerprint = _fingerprint(ctx.request, body)
    scope = f"{ctx.client_id}:{ctx.tenant_id}"
    store = ctx.sb.store
    with store.lock:
        stored = store.get_idempotent(scope, key)
        if stored is None:
            # Claim the key before running so a concurrent twin cannot create twice.
            store.put_idempotent(scope, key, fingerprint, 0, b"", "", ctx.now)
    if stored is not None:
        if stored["fingerprint"] != fingerprint:
            return validation_exception(
                [], f"Idempotency Key: {key} is used with a different request."
            )
        if stored["status"] == 0:
            return json_response(
                {
                    "Title": "Conflict",
                    "Status": 409,
                    "Detail": "A request with this key is in progress",
                },
                status=409,
            )
        return Response(
            stored["body"],
            status_code=stored["status"],
            media_type=stored["content_type"] or None,
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        response = await handler(ctx)
    except BaseException:
        store.execute("DELETE FROM idempotency WHERE scope = ? AND key = ?", (scope, key))
        raise
    if response.status_code >= 500:
        # A server error did nothing, so the key stays free for the retry.
        store.execute("DELETE FROM idempotency WHERE scope = ? AND key = ?", (scope, key))
    else:
        store.put_idempotent(
            scope,
            key,
            fingerprint,
            response.status_code,
            bytes(response.body),
            response.media_type or response.headers.get("content-type", ""),
            ctx.now,
        )
    return response


def read_items(payload: Any, key: str) -> list[Json] | None:
    """Xero accepts ``{"Invoices": [...]}``, a single object, or a bare list."""
    if isinstance(payload, dict):
        if key in payload:
            items = payload[key]
            return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else None
        return [payload]
    if isinstance(payload, list):
        return [i for i in payload if isinstance(i, dict)]
    return None
