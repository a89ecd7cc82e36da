"""Binds a request id, the user and the company to every log line of a request,
and writes one ``request.finished`` line per request (method, path, status, time)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

from ledgerbridge.logging import bind_actor
from ledgerbridge.metrics import http_response_counted

log = structlog.get_logger(__name__)

# A caller's id is kept only if it looks like one: it is echoed and logged.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        outer = structlog.contextvars.get_contextvars()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        # The web session's actor is known here; an API token's is bound when
        # the API authenticates it (api/auth.py).
        bind_actor(getattr(request, "actor", None))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            log.info(
                "request.finished",
                method=request.method,
                path=request.path,  # never the query string: it may carry codes
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            http_response_counted(status=response.status_code)
            response["X-Request-ID"] = request_id
            return response
        finally:
            # Whatever ran before this request (a test, a worker thread) keeps its context.
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**outer)
