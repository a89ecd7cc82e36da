"""The Starlette application: routes, the call log and the webhook worker."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import accounting, control, identity
from .responses import (
    CORRELATION_HEADER,
    CORRELATION_SCOPE_KEY,
    correlation_id,
    json_response,
    not_found,
)
from .state import Sandbox, SandboxConfig
from .tokens import peek_claims

# Xero's gateway answers 404 "The resource you're looking for cannot be found" to a
# URL longer than about 2,091 characters: 53 ids in ``IDs=`` (commas sent as %2C)
# or a long where clause (XeroAPI/Xero-NetStandard#471, Xero-OpenAPI#534).
XERO_ORIGIN = "https://api.xero.com"
MAX_URL_LENGTH = 2091


def url_too_long(scope: Scope) -> bool:
    """Whether Xero would refuse this request's URL for its length."""
    if not scope["path"].startswith("/api.xro/"):
        return False
    query = scope.get("query_string", b"")
    length = len(XERO_ORIGIN) + len(scope.get("raw_path") or scope["path"].encode())
    if query:
        length += 1 + len(query)
    return length > MAX_URL_LENGTH


class CallLog:
    """Records every Xero-facing call (not ``/sandbox``) for tests and benchmarks, and
    gives each answer the headers Xero puts on every one: a ``Xero-Correlation-Id``
    (also the envelope's ``Id``) and its no-cache headers."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/sandbox"):
            await self.app(scope, receive, send)
            return
        status_holder = {"status": 0}
        started = time.perf_counter()
        generation = self.sandbox.generation
        correlation = correlation_id(scope["path"])
        scope[CORRELATION_SCOPE_KEY] = correlation

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                headers.setdefault(CORRELATION_HEADER, correlation)
                headers.setdefault("Cache-Control", "max-age=0, no-cache, no-store")
                headers.setdefault("Pragma", "no-cache")
                headers.setdefault("Expires", formatdate(usegmt=True))
            await send(message)

        try:
            if url_too_long(scope):
                await not_found()(scope, receive, capture)
            else:
                await self.app(scope, receive, capture)
        finally:
            if self.sandbox.generation == generation:  # not a call from before a reset
                self._log(scope, status_holder["status"], started, correlation)

    def _log(self, scope: Scope, status: int, started: float, correlation: str) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", "")
        client_id = (
            peek_claims(auth[7:]).get("client_id") if auth.lower().startswith("bearer ") else None
        )
        status = status or scope.get("sandbox.dropped_status", 0)
        self.sandbox.store.log_call(
            {
                "at": self.sandbox.clock.now(),
                "method": scope["method"],
                "path": scope["path"],
                "query": scope.get("query_string", b"").decode(),
                "tenant_id": (headers.get("xero-tenant-id") or "").lower() or None,
                "client_id": client_id,
                "status": status,
                "idempotency_key": headers.get("idempotency-key"),
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "dropped": "sandbox.dropped_status" in scope,
                "correlation_id": correlation,
            }
        )


class SandboxApp(Starlette):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Keep the server's own send: a "drop" fault reaches its transport through it.
        scope["sandbox.raw_send"] = send
        await super().__call__(scope, receive, send)


async def health(request: Request) -> Response:
    return json_response({"status": "ok"})


def create_app(config: SandboxConfig | None = None, *, sandbox: Sandbox | None = None) -> Starlette:
    """Build the sandbox server; pass ``sandbox`` to share state with a caller."""
    sb = sandbox or Sandbox(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task: asyncio.Task[Any] | None = None
        if sb.config.webhooks_enabled:
            task = asyncio.create_task(sb.webhooks.run())
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = SandboxApp(
        routes=[
            Route("/health", health, methods=["GET"]),
            *identity.routes,
            *accounting.routes,
            *control.routes,
        ],
        lifespan=lifespan,
        exception_handlers={control.BadBody: control.bad_body},
    )
    app.state.sandbox = sb
    app.add_middleware(CallLog, sandbox=sb)
    return app
