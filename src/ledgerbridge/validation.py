"""Checks on codes that several parts of the product accept from users."""

from __future__ import annotations

from typing import Any

from ledgerbridge.errors import ApplicationError


def country_code(value: Any, *, field: str = "country") -> str:
    country = str(value or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ApplicationError("Country must be a 2-letter ISO code such as GB.", field=field)
    return country


def currency_code(value: Any, *, field: str = "currency", label: str = "Currency") -> str:
    currency = str(value or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ApplicationError(f"{label} must be a 3-letter ISO code such as GBP.", field=field)
    return currency


def stored_text(value: Any, *, field: str, label: str, max_length: int | None = None) -> str:
    """Text that its column can keep, refused in words otherwise.

    PostgreSQL refuses NUL characters and text longer than the column (a bare
    DataError), and SQLite would keep either; silently cutting text would lose
    what the user typed.
    """
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise ApplicationError(f"{label} cannot contain a NUL character.", field=field)
    if max_length is not None and len(text) > max_length:
        raise ApplicationError(
            f"{label} can have at most {max_length} characters (this has {len(text)}).",
            field=field,
        )
    return text
