"""Checks on codes that several parts of the product accept from users."""

from __future__ import annotations

import re
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


# IBAN lengths of the countries our customers bank in most (SEPA and neighbours);
# other countries are checked for shape and check digits only.
IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21,
    "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27,
}  # fmt: skip

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def _compact(value: Any) -> str:
    """``value`` upper case without the spaces and hyphens people group it with."""
    return "".join(str(value or "").upper().split()).replace("-", "")


def sort_code(value: Any, *, field: str = "bank_sort_code") -> str:
    """A UK sort code as ``12-34-56``, or "" for none."""
    digits = _compact(value)
    if not digits:
        return ""
    if not (len(digits) == 6 and digits.isdigit() and digits.isascii()):
        raise ApplicationError("A sort code has 6 digits, such as 12-34-56.", field=field)
    return f"{digits[:2]}-{digits[2:4]}-{digits[4:]}"


def account_number(value: Any, *, field: str = "bank_account_number") -> str:
    """A UK bank account number (8 digits), or "" for none."""
    digits = _compact(value)
    if not digits:
        return ""
    if not (digits.isdigit() and digits.isascii()):
        raise ApplicationError("An account number has digits only.", field=field)
    if len(digits) != 8:
        raise ApplicationError(
            f"A UK account number has 8 digits (this has {len(digits)}); "
            "for a 7-digit number put a 0 in front.",
            field=field,
        )
    return digits


def iban(value: Any, *, field: str = "bank_iban") -> str:
    """An IBAN without spaces, its length and check digits verified, or "" for none."""
    text = _compact(value)
    if not text:
        return ""
    if not _IBAN.match(text) or not text.isascii():
        raise ApplicationError(
            "An IBAN starts with a 2-letter country code and 2 check digits, followed by "
            "letters and digits, such as GB33 BUKB 2020 1555 5555 55.",
            field=field,
        )
    expected = IBAN_LENGTHS.get(text[:2])
    if expected is not None and len(text) != expected:
        raise ApplicationError(
            f"An IBAN from {text[:2]} has {expected} characters (this has {len(text)}).",
            field=field,
        )
    # ISO 13616: move the first four characters to the end, letters become 10-35,
    # and the number must leave 1 when divided by 97.
    moved = text[4:] + text[:4]
    if int("".join(str(int(char, 36)) for char in moved)) % 97 != 1:
        raise ApplicationError(
            "This IBAN's check digits do not match; check it for a typing mistake.",
            field=field,
        )
    return text


def bic(value: Any, *, field: str = "bank_bic") -> str:
    """A BIC (SWIFT code) of 8 or 11 characters, or "" for none."""
    text = _compact(value)
    if not text:
        return ""
    if not _BIC.match(text) or not text.isascii():
        raise ApplicationError(
            "A BIC has 8 or 11 letters and digits: 4 for the bank, 2 for its country, 2 for "
            "the place and optionally 3 for the branch, such as BUKBGB22.",
            field=field,
        )
    return text
