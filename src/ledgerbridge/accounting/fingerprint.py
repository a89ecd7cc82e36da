"""What a posted document should look like in the package, and how it differs now.

A ``DocumentFingerprint`` holds the values the package should keep of a document
we sent (contact, currency, dates, reference, totals, and per line the account,
tax type, tracking and amount). The adapter builds one from the payload it sent
and one from the document the package holds now, both in these neutral terms;
``fingerprint_compare`` tells the differences in words a person reads. Pure:
no queries, no clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ledgerbridge.invoicing.money import format_date, format_money

CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    # The package keeps amounts to 2 dp: our own sub-cent figures are not a change.
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FingerprintLine:
    account_code: str
    tax_type: str
    amount: Decimal
    # (category, option) pairs, sorted: the order a package lists them in means nothing.
    tracking: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DocumentFingerprint:
    contact_id: str
    currency: str
    date: dt.date | None
    due_date: dt.date | None
    reference: str
    net: Decimal
    tax: Decimal
    gross: Decimal
    lines: tuple[FingerprintLine, ...] = field(default_factory=tuple)
    # The contact's name, to say who it was and who it is now; compared by id (a
    # contact renamed in the package is the same contact). Empty in fingerprints
    # kept before it was.
    contact_name: str = ""

    @property
    def line_count(self) -> int:
        return len(self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "contact_name": self.contact_name,
            "currency": self.currency,
            "date": self.date.isoformat() if self.date else None,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "reference": self.reference,
            "net": str(self.net),
            "tax": str(self.tax),
            "gross": str(self.gross),
            "line_count": self.line_count,
            "lines": [
                {
                    "account_code": line.account_code,
                    "tax_type": line.tax_type,
                    "amount": str(line.amount),
                    "tracking": [list(pair) for pair in line.tracking],
                }
                for line in self.lines
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentFingerprint:
        return cls(
            contact_id=str(data.get("contact_id") or ""),
            contact_name=str(data.get("contact_name") or ""),
            currency=str(data.get("currency") or ""),
            date=_iso_date(data.get("date")),
            due_date=_iso_date(data.get("due_date")),
            reference=str(data.get("reference") or ""),
            net=_decimal(data.get("net")),
            tax=_decimal(data.get("tax")),
            gross=_decimal(data.get("gross")),
            lines=tuple(
                FingerprintLine(
                    account_code=str(line.get("account_code") or ""),
                    tax_type=str(line.get("tax_type") or ""),
                    amount=_decimal(line.get("amount")),
                    tracking=tuple(
                        (str(pair[0]), str(pair[1])) for pair in line.get("tracking") or []
                    ),
                )
                for line in data.get("lines") or []
            ),
        )


def _iso_date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


def _date_text(value: dt.date | None) -> str:
    return format_date(value) if value else "none"


def _tracking_text(tracking: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{name}: {option}" for name, option in tracking) or "none"


def _codings(lines: tuple[FingerprintLine, ...]) -> dict[str, set[str]]:
    return {
        "accounts": {line.account_code for line in lines if line.account_code},
        "tax types": {line.tax_type.upper() for line in lines if line.tax_type},
        "tracking": {f"{name}: {option}" for line in lines for name, option in line.tracking},
    }


def _codings_compare(
    ours: tuple[FingerprintLine, ...], theirs: tuple[FingerprintLine, ...]
) -> list[str]:
    """Lines added or removed cannot be paired, but the codings used on each side can
    be told: "accounts 200, 201 → 260" (only those that differ, sorted)."""
    mine, its = _codings(ours), _codings(theirs)
    return [
        f"{label} {', '.join(sorted(mine[label])) or 'none'} → "
        f"{', '.join(sorted(its[label])) or 'none'}"
        for label in mine
        if mine[label] != its[label]
    ]


def fingerprint_compare(sent: DocumentFingerprint, now: DocumentFingerprint) -> list[str]:
    """What differs between the document we sent and the package's, in words.

    Amounts are compared to the cent, as the package keeps them, and shown with
    the currency we sent ("total 1,200.00 GBP → 1,000.00 GBP"). Lines are
    compared in order when their count is the same ("account 200 → 260" for a
    one-line document, "line 2: account 200 → 260" otherwise); when it is not, the
    accounts, tax types and tracking used on each side ("accounts 200, 201 → 260").
    """
    currency = sent.currency
    differences: list[str] = []
    if sent.contact_id.lower() != now.contact_id.lower():
        if sent.contact_name and now.contact_name:
            differences.append(f"contact {sent.contact_name} → {now.contact_name}")
        else:
            differences.append("contact changed")
    if sent.currency.upper() != now.currency.upper():
        differences.append(f"currency {sent.currency} → {now.currency}")
    if sent.date != now.date:
        differences.append(f"date {_date_text(sent.date)} → {_date_text(now.date)}")
    if sent.due_date is not None and sent.due_date != now.due_date:
        differences.append(f"due date {_date_text(sent.due_date)} → {_date_text(now.due_date)}")
    if sent.reference.strip() != now.reference.strip():
        differences.append(f"reference “{sent.reference}” → “{now.reference}”")
    for label, ours, theirs in (
        ("total", sent.gross, now.gross),
        ("net", sent.net, now.net),
        ("tax", sent.tax, now.tax),
    ):
        if _cents(ours) != _cents(theirs):
            differences.append(
                f"{label} {format_money(ours, currency)} → {format_money(theirs, currency)}"
            )
    if sent.line_count != now.line_count:
        differences.append(f"lines {sent.line_count} → {now.line_count}")
        return differences + _codings_compare(sent.lines, now.lines)
    for number, (ours_line, their_line) in enumerate(zip(sent.lines, now.lines, strict=True), 1):
        prefix = f"line {number}: " if sent.line_count > 1 else ""
        if ours_line.account_code != their_line.account_code:
            differences.append(
                f"{prefix}account {ours_line.account_code} → {their_line.account_code}"
            )
        if ours_line.tax_type.upper() != their_line.tax_type.upper():
            differences.append(f"{prefix}tax type {ours_line.tax_type} → {their_line.tax_type}")
        if tuple(sorted(ours_line.tracking)) != tuple(sorted(their_line.tracking)):
            differences.append(
                f"{prefix}tracking {_tracking_text(ours_line.tracking)} → "
                f"{_tracking_text(their_line.tracking)}"
            )
        if _cents(ours_line.amount) != _cents(their_line.amount):
            differences.append(
                f"{prefix}amount {format_money(ours_line.amount, currency)} → "
                f"{format_money(their_line.amount, currency)}"
            )
    return differences
