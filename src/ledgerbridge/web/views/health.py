"""``GET /health``: is this process able to serve? (database and queue reachable)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from huey.contrib.djhuey import HUEY


def health(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not healthy", said in words
        checks["database"] = f"unavailable: {type(error).__name__}"
    try:
        checks["queue"] = f"ok ({HUEY.pending_count()} waiting)"
    except Exception as error:
        checks["queue"] = f"unavailable: {type(error).__name__}"
    healthy = all(value.startswith("ok") for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", **checks}, status=200 if healthy else 503
    )
