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
