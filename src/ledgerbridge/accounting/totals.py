"""Money added up across documents: always per currency, never one mixed figure.

Pounds and euros are different money; a batch or a preview of documents in both has
one total per currency (net, tax, gross; credit notes count negative).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerbridge.invoicing.money import format_money

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    net: Decimal = ZERO
    tax: Decimal = ZERO
    gross: Decimal = ZERO

    def plus(self, net: Decimal, tax: Decimal, gross: Decimal) -> CurrencyTotals:
        return CurrencyTotals(self.currency, self.net + net, self.tax + tax, self.gross + gross)

    def as_json(self) -> dict[str, str]:
        """As stored and sent: amounts as strings, exact to the penny."""
        return {
            "currency": self.currency,
            "net": f"{self.net:.2f}",
            "tax": f"{self.tax:.2f}",
            "gross": f"{self.gross:.2f}",
        }

    @staticmethod
    def of_json(item: dict[str, Any]) -> CurrencyTotals:
        return CurrencyTotals(
            currency=str(item["currency"]),
            net=Decimal(str(item["net"])),
            tax=Decimal(str(item["tax"])),
            gross=Decimal(str(item["gross"])),
        )


class TotalsByCurrency:
    """Signed document totals added up per currency."""

    def __init__(self) -> None:
        self._by: dict[str, CurrencyTotals] = {}

    def add(self, currency: str, net: Decimal, tax: Decimal, gross: Decimal) -> None:
        current = self._by.get(currency, CurrencyTotals(currency))
        self._by[currency] = current.plus(net, tax, gross)

    def as_list(self) -> list[CurrencyTotals]:
        """One entry per currency, by currency code."""
        return [self._by[currency] for currency in sorted(self._by)]


def totals_as_json(totals: Iterable[CurrencyTotals]) -> list[dict[str, str]]:
    return [item.as_json() for item in totals]


def format_totals(totals: Iterable[CurrencyTotals], *, part: str = "gross") -> str:
    """'1,234.50 GBP · 200.00 EUR' (no currency at all: 'nothing')."""
    words = [format_money(getattr(item, part), item.currency) for item in totals]
    return " · ".join(words) if words else "nothing"
