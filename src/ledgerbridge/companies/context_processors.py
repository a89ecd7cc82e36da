"""Template context: the current company and the user's role in it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def current_company(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    return {"actor": actor, "current_company": actor.company if actor else None}
