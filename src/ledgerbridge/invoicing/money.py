"""Line and document arithmetic, rounded the way Xero rounds.

Xero computes a line amount as quantity × unit amount × (100 − discount) / 100,
rounded to 2 dp, and the tax of each line from that amount, rounded to 2 dp;
document totals are the sums of the rounded line figures. Halves round away
from zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str) -> str:
    """An amount as people read it in messages: ``1,142.40 GBP``."""
    return f"{round_money(amount):,.2f} {currency}"


def format_date(value: dt.date) -> str:
    """A date as every page and message shows it: ``1 Dec 2026`` (the templates'
    ``date:"j M Y"``)."""
    return f"{value.day} {value:%b %Y}"


def line_net(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    return round_money(quantity * unit_price * (HUNDRED - discount_percent) / HUNDRED)


def line_tax(net: Decimal, rate_percent: Decimal) -> Decimal:
    return round_money(net * rate_percent / HUNDRED)


@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def totals_of(lines: Iterable[tuple[Decimal, Decimal]]) -> Totals:
    """Totals of (net, tax) pairs that are already rounded."""
    net = Decimal("0.00")
    tax = Decimal("0.00")
    for line_net_amount, line_tax_amount in lines:
        net += line_net_amount
        tax += line_tax_amount
    return Totals(net=net, tax=tax)


def percent_text(rate: Decimal) -> str:
    """A VAT rate as printed: ``20%``, ``17.5%``, ``0%``."""
    return f"{rate.normalize():f}%"


def to_base_currency(amount: Decimal, exchange_rate: Decimal) -> Decimal:
    """``amount`` of a foreign currency in the base currency, at units per 1 base unit."""
    return round_money(amount / exchange_rate)


@dataclass(frozen=True)
class TaxSummaryRow:
    code: str
    name: str
    rate: Decimal
    net: Decimal
    tax: Decimal

    @property
    def rate_text(self) -> str:
        return percent_text(self.rate)
