"""The declared ranges of figures: how text is read, what fits, and that every
bound fits the column it is stored in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerbridge.invoicing import bounds
from ledgerbridge.invoicing.bounds import NotANumberError, OutOfBoundsError, parse_number
from ledgerbridge.invoicing.models import Document, DocumentLine, NumberSeries, TaxRate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100", "100"),
        ("  12.50 ", "12.50"),
        ("£100", "100"),
        ("€ 7.5", "7.5"),
        ("$1,000.50", "1000.50"),
        ("1,000", "1000"),
        ("1,234,567.8901", "1234567.8901"),
        ("-£5", "-5"),
        ("£-5", "-5"),
        ("+3", "3"),
        (".5", "0.5"),
        ("7.", "7"),
        ("1\u00a0000", None),
        (Decimal("2.5"), "2.5"),
        (3, "3"),
        (49.5, "49.5"),
    ],
)
def test_obvious_forms_of_a_number_are_read(text, expected):
    if expected is None:
        with pytest.raises(NotANumberError):
            parse_number(text)
    else:
        assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["1,5", "2,50", "1,00,000", "1.000,50"])
def test_a_comma_that_could_be_a_decimal_comma_is_refused_as_ambiguous(text):
    with pytest.raises(NotANumberError, match="use a dot for decimals"):
        parse_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "NaN",
        "Infinity",
        "-inf",
        "1e5",
        "1E-3",
        "£",
        "12£",
        "1 2",
        "١٢",
        "0x10",
        Decimal("NaN"),
        Decimal("Infinity"),
        float("nan"),
        True,
        None,
        "--1",
        "££1",
    ],
)
def test_what_is_not_a_number_is_refused(text):
    with pytest.raises(NotANumberError):
        parse_number(text)


def test_the_issue_unit_price_is_out_of_range_with_the_range_in_the_message():
    with pytest.raises(OutOfBoundsError) as caught:
        bounds.UNIT_PRICE.clean("99999999999999999999")
    message = caught.value.message("Line 1: unit price")
    assert message == (
        "Line 1: unit price must be between -9,999,999,999.9999 and 9,999,999,999.9999."
    )


def test_a_value_that_is_not_a_number_is_quoted_in_the_message():
    with pytest.raises(OutOfBoundsError) as caught:
        bounds.QUANTITY.clean("1,5")
    assert caught.value.message().startswith("Quantity “1,5” is ambiguous: use a dot")


@pytest.mark.parametrize(
    ("bound", "value", "ok"),
    [
        (bounds.QUANTITY, "0", False),
        (bounds.QUANTITY, "0.0001", True),
        (bounds.QUANTITY, "-1", False),
        (bounds.QUANTITY, "99999999.9999", True),
        (bounds.QUANTITY, "100000000", False),
        (bounds.QUANTITY, "1.00001", False),
        (bounds.QUANTITY, "1.50000", True),
        (bounds.DISCOUNT_PERCENT, "150", False),
        (bounds.DISCOUNT_PERCENT, "12.5", True),
        (bounds.DISCOUNT_PERCENT, "12.555", False),
        (bounds.TAX_RATE_PERCENT, "17.5", True),
        (bounds.TAX_RATE_PERCENT, "101", False),
        (bounds.NEXT_NUMBER, "9223372036854775807", False),
        (bounds.NEXT_NUMBER, "999999999", True),
        (bounds.NEXT_NUMBER, "1.5", False),
        (bounds.POSITION, "99999999999999999999", False),
        (bounds.POSITION, "-1", False),
        (bounds.POSITION, "10", True),
    ],
)
def test_values_inside_the_bound_pass_and_others_do_not(bound, value, ok):
    if ok:
        assert bound.clean(value) == Decimal(value)
    else:
        with pytest.raises(OutOfBoundsError):
            bound.clean(value)


def test_cleaned_values_carry_the_bounds_places():
    assert str(bounds.MONEY.clean("12.5")) == "12.50"
    assert str(bounds.QUANTITY.clean("2")) == "2.0000"
    assert bounds.NEXT_NUMBER.clean_int("1,000") == 1000


@pytest.mark.parametrize(
    ("bound", "model", "field"),
    [
        (bounds.QUANTITY, DocumentLine, "quantity"),
        (bounds.UNIT_PRICE, DocumentLine, "unit_price"),
        (bounds.DISCOUNT_PERCENT, DocumentLine, "discount_percent"),
        (bounds.MONEY, DocumentLine, "net_amount"),
        (bounds.MONEY, DocumentLine, "tax_amount"),
        (bounds.MONEY, Document, "net_total"),
        (bounds.MONEY, Document, "tax_total"),
        (bounds.MONEY, Document, "gross_total"),
        (bounds.TAX_RATE_PERCENT, TaxRate, "rate"),
    ],
)
def test_every_decimal_bound_fits_its_column(bound, model, field):
    column = model._meta.get_field(field)
    assert bound.places == column.decimal_places
    largest = Decimal(10) ** (column.max_digits - column.decimal_places) - Decimal(1).scaleb(
        -column.decimal_places
    )
    assert -largest <= bound.minimum <= bound.maximum <= largest
    # A double carries 15 significant digits exactly: what we send Xero arrives intact.
    assert len(bound.maximum.as_tuple().digits) <= 15


def test_a_series_at_its_last_number_still_formats_within_the_document_number():
    series = NumberSeries(
        prefix="P" * 20, padding=int(bounds.NUMBER_PADDING.maximum), reset_yearly=True
    )
    number = series.format(int(bounds.NEXT_NUMBER.maximum), 2026)
    assert len(number) <= Document._meta.get_field("number").max_length
    # The increment after the last number still fits a 32-bit integer column.
    assert bounds.NEXT_NUMBER.maximum + 1 <= 2**31 - 1


def test_ids_out_of_the_64_bit_range_are_no_id():
    assert bounds.id_or_none("12") == 12
    assert bounds.id_or_none("9223372036854775808") is None
    assert bounds.id_or_none("0") is None
    assert bounds.id_or_none("x") is None
    assert bounds.id_or_none(None) is None
