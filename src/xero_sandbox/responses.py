"""Response builders in Xero's shapes: envelopes, ApiException bodies, problem details."""

from __future__ import annotations

import json
import re
import secrets
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


# Xero writes its numbers with fixed decimals, as recorded (May 2020, every one of 1,200
# numbers on 79 invoices): money with 2 (``90.00``), quantities with 4 (``1.0000``),
# currency rates with 6 (``1.000000``); counts and days as integers. JSON parsers read
# them as the same numbers, but a client keeping the text (or parsing into decimals)
# sees the scale, so the sandbox writes them the same way.
FIXED_DECIMALS = {
    **dict.fromkeys(
        (
            "Amount",
            "AmountCredited",
            "AmountDue",
            "AmountPaid",
            "AppliedAmount",
            "BankAmount",
            "LineAmount",
            "RemainingCredit",
            "SubTotal",
            "TaxAmount",
            "Total",
            "TotalTax",
            "UnitAmount",
        ),
        2,
    ),
    "Quantity": 4,
    "CurrencyRate": 6,
}


def _fixed(value: object, places: int, mark: str) -> object:
    amount = Decimal(str(value))
    if not amount.is_finite():
        return value
    exact = amount.quantize(Decimal(1).scaleb(-places))
    if places == 2 and exact != amount:  # a unit price kept to 4 places (``unitdp=4``)
        exact = amount.quantize(Decimal("0.0001"))
    return f"{mark}{exact}"


def _with_fixed_decimals(node: Any, mark: str) -> Any:
    if isinstance(node, dict):
        return {
            key: _fixed(value, FIXED_DECIMALS[key], mark)
            if key in FIXED_DECIMALS
            and isinstance(value, int | float | Decimal)
            and not isinstance(value, bool)
            else _with_fixed_decimals(value, mark)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_with_fixed_decimals(item, mark) for item in node]
    return node


def dumps(payload: object) -> bytes:
    # A number to write with fixed decimals travels through json.dumps as a string
    # marked with a token no stored text can contain, then loses its quotes.
    token = secrets.token_hex(8)
    text = json.dumps(
        _with_fixed_decimals(payload, f"{token}:"), default=_default, separators=(",", ":")
    )
    return re.sub(rf'"{token}:(-?\d+(?:\.\d+)?)"', r"\1", text).encode()


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
