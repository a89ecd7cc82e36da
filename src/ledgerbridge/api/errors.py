"""Refusals of the REST API in one shape, whoever refused: a service or the schema.

A service's ``ApplicationError`` naming a field answers ``422`` with
``{"detail": [{"loc", "field", "msg", "type"}]}`` (README, REST API). Input the
schema refuses before any service sees it (a date that does not exist, a number
that is not one, a required field left out) answered pydantic's own form instead:
"Input should be a valid date or datetime, day value is outside expected range",
no ``field``, and ``loc`` naming the handler's argument (``["body", "payload",
"date_from"]``). ``schema_errors`` turns those into the same shape, in words a
person fixes the request from: "Enter a real date (YYYY-MM-DD): 2026-02-30 is not
one.", ``field`` ``date_from``, ``loc`` ``["body", "date_from"]``.

Pure, over pydantic's error dicts; the API's ``validation_error_from_error_contexts``
calls it with where each error was found (body, query or path).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

# An input echoed in a message is cut to this many characters.
SHOWN_INPUT = 40

Loc = list[str | int]


def field_name(loc: Sequence[str | int]) -> str:
    """``["lines", 0, "unit_price"]`` as ``lines[0].unit_price`` (the ``field`` of a
    service's errors)."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text if text.strip() else repr(text)
    return text if len(text) <= SHOWN_INPUT else f"{text[: SHOWN_INPUT - 1]}…"


def _not_one(what: str, value: Any, *, missing: bool) -> str:
    return f"{what}." if missing else f"{what}: {_shown(value)} is not one."


def error_words(error: Mapping[str, Any], *, where: str, field: str = "") -> str:
    """What is wrong with one input and how to put it right, from pydantic's error
    (``type``, ``ctx``, ``input``); its own words only for a kind not named here."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    has_input = "input" in error
    value = error.get("input")
    if kind == "missing":
        return f"Required: send {field or 'it'}."
    if kind.startswith("date_"):  # date_parsing, date_from_datetime_inexact, ...
        return _not_one("Enter a real date (YYYY-MM-DD)", value, missing=not has_input)
    if kind.startswith("datetime"):
        return _not_one(
            "Enter a real date and time (YYYY-MM-DDTHH:MM:SS)", value, missing=not has_input
        )
    if kind.startswith("int_"):
        return _not_one("Enter a whole number", value, missing=not has_input)
    if kind.startswith(("decimal_", "float_", "finite_number")):
        return _not_one("Enter a number (e.g. 12.50)", value, missing=not has_input)
    if kind.startswith("bool_"):
        return (
            f"Enter true or false: {_shown(value)} is neither."
            if has_input
            else "Enter true or false."
        )
    if kind in {"literal_error", "enum"}:
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"Choose one of {expected}: {_shown(value)} is not one."
    if kind == "string_type":
        return "Enter text here."
    if kind == "string_too_long":
        return f"At most {ctx.get('max_length')} characters."
    if kind == "string_too_short":
        return f"At least {ctx.get('min_length')} characters."
    if kind in {"list_type", "tuple_type", "set_type"}:
        return "Send a list here."
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return "Send an object (its fields in braces) here."
    if kind == "too_long":
        return f"At most {ctx.get('max_length')} items."
    if kind == "too_short":
        return f"At least {ctx.get('min_length')} items."
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"Must be {words} {ctx.get(key)}: {_shown(value)} is not."
    message = str(error.get("msg", "Not valid.")).removeprefix("Value error, ")
    return message if message.endswith(".") else f"{message}."


def about(what: str, message: str) -> str:
    """``about("Line 2", "Enter a number…")`` reads "Line 2: enter a number…"."""
    return f"{what}: {message[:1].lower()}{message[1:]}"


def schema_error(error: Mapping[str, Any], *, where: str, body_arg: str = "") -> dict[str, Any]:
    """One refusal of the schema in the documented shape. ``where``: body, query or
    path; ``body_arg``: the handler's argument holding the whole body (``payload``),
    which is no part of what the caller sent and is left out of ``loc``."""
    loc: Loc = list(error.get("loc", ()))
    if where == "body" and body_arg and loc[:1] == [body_arg]:
        loc = loc[1:]
    field = field_name(loc)
    message = error_words(error, where=where, field=field)
    if where == "query":
        message = about(f"Query parameter {field}", message)
    elif len(loc) > 2 and loc[0] == "lines" and isinstance(loc[1], int):
        # As the services say it of a line: "Line 2: …".
        message = about(f"Line {loc[1] + 1}", message)
    return {
        "loc": [where, *loc],
        "field": field,
        "msg": message,
        "type": "missing" if error.get("type") == "missing" else "invalid",
    }
