"""Puts ``request.actor`` (user + current company + role) on every request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .selectors import actor_for

SESSION_KEY = "company_id"


class CurrentCompanyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = actor_for(user=user, company_id=request.session.get(SESSION_KEY))  # type: ignore[arg-type]
            request.actor = actor  # type: ignore[attr-defined]
            # Written only when it changes: assigning marks the session modified,
            # and a modified session is saved (an UPDATE) after every page view.
            if actor is not None and request.session.get(SESSION_KEY) != actor.company.pk:
                request.session[SESSION_KEY] = actor.company.pk
        return self.get_response(request)
