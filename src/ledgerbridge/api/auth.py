"""API authentication: a company's API token (Bearer), or the web session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from ledgerbridge.companies.services import api_token_authenticate
from ledgerbridge.logging import bind_actor


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        actor = api_token_authenticate(raw=token)
        if actor is not None:
            request.actor = actor  # type: ignore[attr-defined]
            bind_actor(actor)  # the rest of the request logs under the token's company
        return actor


class SessionActorAuth(APIKeyCookie):
    """The logged-in user in their current company (CSRF-checked for writes)."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return getattr(request, "actor", None)
