"""Response builders in Xero's shapes: envelopes, ApiException bodies, problem details."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from starlette.responses import Response

from .dates import ms_timestamp
from .store import Json

CORRELATION_SCOPE_KEY = "sandbox.correlation_id"
CORRELATION_HEADER = "Xero-Correlation-Id"


def correlation_id(path: str) -> str:
    """A new ``Xero-Correlation-Id``: a UUID, written without dashes by the identity
    host's token and revocation endpoints as recorded, with them everywhere else."""
    value = uuid.uuid4()
    return value.hex if path.startswith("/connect/") else str(value)


def _default(value: object) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(payload: object) -> bytes:
    return json.dumps(payload, default=_default, separators=(",", ":")).encode()


def json_response(
    payload: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        dumps(payload),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers=headers,
    )


def envelope(
    key: str,
    items: list[Json],
    *,
    now: float,
    provider: str,
    extra: Json | None = None,
    id_: str | None = None,
) -> Json:
    """Xero's list envelope: ``{"Id", "Status", "ProviderName", "DateTimeUTC", key: [...]}``.

    Xero's ``Id`` is the call's ``Xero-Correlation-Id``; ``DateTimeUTC`` has no offset.
    """
    body: Json = {
        "Id": id_ or str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": provider,
        "DateTimeUTC": ms_timestamp(now),
    }
    if extra:
        body.update(extra)
    body[key] = items
    return body


def validation_exception(
    elements: list[Json], message: str = "A validation exception occurred"
) -> Response:
    """Xero's 400 body: ErrorNumber 10, ValidationException, Elements with ValidationErrors."""
    return json_response(
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": message,
            "Elements": elements,
        },
        status=400,
    )


def single_validation_error(message: str) -> Response:
    return validation_exception([{"ValidationErrors": [{"Message": message}]}])


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    """The problem-details shape Xero's gateway uses for 401/403/429."""
    return json_response(
        {
            "Type": None,
            "Title": title,
            "Status": status,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
        status=status,
        headers=headers,
    )


def not_found() -> Response:
    return Response(
        "The resource you're looking for cannot be found",
        status_code=404,
        media_type="text/plain; charset=utf-8",
    )


def oauth_error(error: str, status: int = 400, description: str | None = None) -> Response:
    body: Json = {"error": error}
    if description:
        body["error_description"] = description
    return json_response(body, status=status)
