"""The allowed range and precision of every figure a user or the TMS can enter.

One ``Bound`` per kind of figure, used by the forms, the REST API and the
services alike, so a value is refused at the edge, with the same words
everywhere, before anything is saved. Pure: no database, no I/O.

Where the limits come from:

- The model fields (``max_digits`` / ``decimal_places`` in ``models.py``): a
  stored value must fit its column, or reading it back fails (SQLite does not
  enforce ``max_digits``; Django's converter then raises on every read).
  ``test_bounds`` checks each bound against its field.
- What Xero accepts: quantities and unit amounts to 4 decimal places (unit
  amounts with ``unitdp=4``), line and document amounts to 2, discount rates
  to 2; the spec types them as doubles, so every bound keeps to at most 14
  significant digits, which a double carries exactly.
- Arithmetic: quantity × unit price can exceed what a money column holds, so
  the line amount and the document totals have a bound of their own
  (``MONEY``), checked after computing them.
- Configuration integers fit their columns (positions are small integers) and
  a number series stops at a number whose formatted document number still fits
  ``Document.number`` (prefix 20 + year 5 + at most 12 digits ≤ 40).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q

from ledgerbridge.errors import ApplicationError

# A currency sign the form accepts in front of a figure: it is decoration,
# the document's currency is chosen elsewhere.
CURRENCY_SIGNS = "£€$"

# Digits in groups of three separated by commas ("1,000,000.50"): unambiguous.
_GROUPED = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")
_PLAIN = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


class NotANumberError(ValueError):
    """The text is not a figure; ``message`` says why, in words for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_number(value: Any) -> Decimal:
    """A ``Decimal`` from what a person or a client sent, or ``NotANumberError``.

    Accepts Decimals and integers as they are, and text with surrounding spaces,
    a sign, a leading currency sign (``£100``, ``-€5``, ``$-5``) and thousands
    separators in groups of three (``1,000.50``). A comma that could be a decimal
    comma (``1,5``, ``2,50``) is refused as ambiguous, and so are exponents,
    ``NaN``, infinities and digits other than 0-9.
    """
    if isinstance(value, bool):
        raise NotANumberError("is not a number")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotANumberError("is not a number")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # From Python callers (the demo, benchmarks): the shortest text that reads
        # back as the same float is what the caller wrote.
        value = repr(value)
    text = str(value if value is not None else "").strip()
    if not text:
        raise NotANumberError("is empty; enter a number")
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:].strip()
    if text and text[0] in CURRENCY_SIGNS:
        text = text[1:].strip()
        if not sign and text[:1] in ("+", "-"):
            sign, text = text[0], text[1:].strip()
    if _GROUPED.match(text):
        text = text.replace(",", "")
    elif "," in text:
        if re.match(r"^[0-9,.]+$", text):
            raise NotANumberError(
                "is ambiguous: use a dot for decimals (1.5), and commas only "
                "between groups of three digits (1,000.50)"
            )
        raise NotANumberError("is not a number")
    if not _PLAIN.match(text):
        raise NotANumberError("is not a number")
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
        raise NotANumberError("is not a number") from None
    return -number if sign == "-" else number


def _grouped(value: Decimal) -> str:
    return f"{value:,f}"


@dataclass(frozen=True)
class Bound:
    """The inclusive range and the decimal places allowed for one kind of figure."""

    label: str
    minimum: Decimal
    maximum: Decimal
    places: int
    unit: str = ""

    @property
    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"between {_grouped(self.minimum)} and {_grouped(self.maximum)}{unit}"

    def describe(self) -> str:
        places = (
            "a whole number"
            if self.places == 0
            else f"at most {self.places} decimal place{'s' if self.places > 1 else ''}"
        )
        return f"{self.range_text}, {places}"

    def problem(self, value: Decimal) -> str | None:
        """Why ``value`` is not allowed (a phrase following the label), or None."""
        if not value.is_finite():
            return "is not a number"
        if not self.minimum <= value <= self.maximum:
            return f"must be {self.range_text}"
        # Trailing zeros are not precision: 1.50000 is 1.5.
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            if self.places == 0:
                return "must be a whole number"
            return f"can have at most {self.places} decimal places"
        return None

    def clean(self, value: Any) -> Decimal:
        """``value`` parsed and checked, quantized to the bound's places; or ``OutOfBoundsError``."""
        try:
            number = parse_number(value)
        except NotANumberError as error:
            raise OutOfBoundsError(self, error.message, value) from None
        problem = self.problem(number)
        if problem:
            raise OutOfBoundsError(self, problem, value)
        return number.quantize(Decimal(1).scaleb(-self.places)) if self.places else number

    def clean_int(self, value: Any) -> int:
        return int(self.clean(value))

    def json_schema(self) -> dict[str, Any]:
        """For API schemas: documents the range in OpenAPI (the services enforce it)."""
        return {
            "minimum": float(self.minimum),
            "maximum": float(self.maximum),
            "description": f"{self.label.capitalize()}: {self.describe()}.",
        }


class OutOfBoundsError(ValueError):
    """A figure that is not a number or not within its ``Bound``."""

    def __init__(self, bound: Bound, problem: str, value: Any) -> None:
        super().__init__(f"{bound.label} {problem}")
        self.bound = bound
        self.problem = problem
        self.value = value

    def message(self, label: str | None = None) -> str:
        """``"<Label> <problem>."``; a value that is not a number is quoted."""
        text = f"{label or self.bound.label.capitalize()}"
        if isinstance(self.value, str) and self.problem.startswith(("is not", "is ambiguous")):
            shown = self.value.strip()
            if len(shown) > 30:
                shown = shown[:29] + "…"
            text += f" “{shown}”"
        return f"{text} {self.problem}."


def _d(text: str) -> Decimal:
    return Decimal(text)


# Lines: DocumentLine.quantity (12, 4); must be more than 0 (a correction is a
# credit note, not a negative quantity).
QUANTITY = Bound("quantity", _d("0.0001"), _d("99999999.9999"), 4)
# DocumentLine.unit_price (14, 4); negative for a deduction on the line.
UNIT_PRICE = Bound("unit price", _d("-9999999999.9999"), _d("9999999999.9999"), 4)
# DocumentLine.discount_percent (5, 2).
DISCOUNT_PERCENT = Bound("discount", _d("0"), _d("100"), 2, "%")
# TaxRate.rate (6, 3).
TAX_RATE_PERCENT = Bound("rate", _d("0"), _d("100"), 3, "%")
# Line net and tax amounts, document net / tax / gross totals (14, 2).
MONEY = Bound("amount", _d("-999999999999.99"), _d("999999999999.99"), 2)

# Configuration. Positions are PositiveSmallIntegerFields (0..32767); 9,999
# orders more rules than anyone writes.
POSITION = Bound("position", _d("0"), _d("9999"), 0)
# NumberSeries.padding: digits of the running number.
NUMBER_PADDING = Bound("padding", _d("1"), _d("12"), 0)
# NumberSeries.next_number: the last number a series can issue. Nine digits keep
# the formatted number within Document.number and the column within 32 bits
# after the increment.
NEXT_NUMBER = Bound("next number", _d("1"), _d("999999999"), 0)
# A quantity to credit: 0 leaves the line out.
CREDIT_QUANTITY = Bound("quantity", _d("0"), QUANTITY.maximum, 4)
# Primary keys (BigAutoField): an id outside this range names nothing, and
# the database refuses to compare with it.
RECORD_ID = Bound("id", _d("1"), _d("9223372036854775807"), 0)
# Partner.payment_terms_days.
# Units of a document's currency per unit of the base currency (Xero's CurrencyRate).
EXCHANGE_RATE = Bound("exchange rate", _d("0.000001"), _d("99999999.999999"), 6)

PAYMENT_TERMS_DAYS = Bound("payment terms", _d("0"), _d("365"), 0, "days")


def clean_field(bound: Bound, value: Any, *, field: str, label: str | None = None) -> Decimal:
    """``bound.clean(value)``, refusing with an ``ApplicationError`` naming ``field``."""
    try:
        return bound.clean(value)
    except OutOfBoundsError as error:
        raise ApplicationError(error.message(label), field=field) from None


def clean_int_field(bound: Bound, value: Any, *, field: str, label: str | None = None) -> int:
    return int(clean_field(bound, value, field=field, label=label))


def money_text(value: Decimal) -> str:
    """An amount as it reads in a message: 1,234,567.80."""
    return f"{value:,.2f}"


def id_or_none(value: Any) -> int | None:
    """An id from a query or form parameter, or None when it cannot be one."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if RECORD_ID.minimum <= number <= RECORD_ID.maximum else None


def outside(figures: dict[str, Bound]) -> Q:
    """A filter on rows with any of ``figures`` (field name: bound) outside its range.

    The same condition is the predicate of a partial index per model (see
    ``models.py``), so finding such rows reads an index that is empty while there
    are none, however many rows the table holds.
    """
    condition = Q()
    for name, bound in figures.items():
        condition |= Q(**{f"{name}__gt": bound.maximum}) | Q(**{f"{name}__lt": bound.minimum})
    return condition
