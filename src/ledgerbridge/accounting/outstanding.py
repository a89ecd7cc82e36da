"""Receivables and payables still open in the accounting package, aged, per currency.

Amounts are what the package last told us (``PaymentState``): an invoice's
amount due, and a credit note's credit not yet used, which counts against the
partner (a negative amount). Every figure is per currency: pounds and euros are
never added together. Documents are aged by their due date against an "as of"
date: not yet due (0 days or fewer past due), 1–30, 31–60, 61–90 and over 90
days past due. Totals, partner rows and bucket sums are each one aggregate
query, scoped to the actor's company.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)

from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import DocumentType, Partner, PartnerKind
from ledgerbridge.invoicing.money import round_money

from .models import PaymentLine, PaymentState, PaymentStatus, SyncRecord

RECEIVABLES = "receivables"
PAYABLES = "payables"
SIDES = {
    RECEIVABLES: (
        "Receivables",
        PartnerKind.CUSTOMER,
        DocumentType.SALES_INVOICE,
        DocumentType.SALES_CREDIT_NOTE,
    ),
    PAYABLES: (
        "Payables",
        PartnerKind.SUPPLIER,
        DocumentType.PURCHASE_INVOICE,
        DocumentType.PURCHASE_CREDIT_NOTE,
    ),
}

# (key, label, fewest days past due, most days past due); None = no bound.
BUCKETS: list[tuple[str, str, int | None, int | None]] = [
    ("current", "Not yet due", None, 0),
    ("1_30", "1–30 days", 1, 30),
    ("31_60", "31–60 days", 31, 60),
    ("61_90", "61–90 days", 61, 90),
    ("over_90", "Over 90 days", 91, None),
]
BUCKET_LABELS = {key: label for key, label, _, _ in BUCKETS}
OPEN = [PaymentStatus.UNPAID, PaymentStatus.PARTLY_PAID]
ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=16, decimal_places=2)


def bucket_of(days_overdue: int) -> str:
    """The ageing bucket of a document ``days_overdue`` days past its due date."""
    for key, _, low, high in BUCKETS:
        if (low is None or days_overdue >= low) and (high is None or days_overdue <= high):
            return key
    raise AssertionError(days_overdue)  # the buckets cover every integer


def _days_before(day: dt.date, days: int) -> dt.date:
    # An "as of" date in year 1 (a hostile query) has no date 91 days before it.
    try:
        return day - dt.timedelta(days=days)
    except OverflowError:
        return dt.date.min


def _bucket_q(key: str, as_of: dt.date) -> Q:
    """Documents in bucket ``key`` on ``as_of``, as a condition on the due date."""
    [(low, high)] = [(lo, hi) for k, _, lo, hi in BUCKETS if k == key]
    q = Q()
    if low is not None:  # at least ``low`` days past due: due on or before as_of - low
        q &= Q(record__document__due_date__lte=_days_before(as_of, low))
    if high is not None:
        q &= Q(record__document__due_date__gte=_days_before(as_of, high))
    return q


@dataclass(frozen=True)
class OutstandingFilters:
    side: str = RECEIVABLES
    as_of: dt.date | None = None
    partner_id: int | None = None
    currency: str = ""
    bucket: str = ""


@dataclass
class AgedAmounts:
    """Amounts of one currency (of one partner, or of all), by bucket."""

    currency: str
    documents: int
    total: Decimal
    buckets: dict[str, Decimal]
    partner_id: int | None = None
    partner_name: str = ""
    partner_number: str = ""

    @property
    def bucket_list(self) -> list[tuple[str, str, Decimal]]:
        return [(key, label, self.buckets[key]) for key, label, _, _ in BUCKETS]

    @property
    def overdue(self) -> Decimal:
        return self.total - self.buckets["current"]


@dataclass(frozen=True)
class OutstandingDocument:
    document_id: int
    type: str
    type_label: str
    number: str
    partner_id: int
    partner_name: str
    currency: str
    issue_date: dt.date
    due_date: dt.date
    days_overdue: int
    bucket: str
    total: Decimal
    amount_due: Decimal  # negative for a credit note's unused credit
    status: str
    last_payment_date: dt.date | None
    last_payment_amount: Decimal | None
    last_checked_at: dt.datetime | None

    @property
    def bucket_label(self) -> str:
        return BUCKET_LABELS[self.bucket]

    @property
    def is_credit_note(self) -> bool:
        return self.type in (DocumentType.SALES_CREDIT_NOTE, DocumentType.PURCHASE_CREDIT_NOTE)


@dataclass
class Outstanding:
    side: str
    as_of: dt.date
    currencies: list[AgedAmounts]
    partners: list[AgedAmounts]
    checked_from: dt.datetime | None  # the oldest of the package's reads behind these figures
    checked_to: dt.datetime | None
    filters: OutstandingFilters = field(default_factory=OutstandingFilters)

    @property
    def label(self) -> str:
        return SIDES[self.side][0]


def outstanding_states(*, actor: Actor, filters: OutstandingFilters) -> QuerySet[PaymentState]:
    """Open documents of one side of the ledger, filtered, with a signed ``due``."""
    side = SIDES.get(filters.side, SIDES[RECEIVABLES])
    _, _, invoice_type, credit_type = side
    as_of = filters.as_of
    assert as_of is not None
    qs = PaymentState.objects.filter(
        company=actor.company,
        record__company=actor.company,
        status__in=OPEN,
        record__document__type__in=[invoice_type, credit_type],
    ).exclude(amount_due=0)
    if filters.partner_id:
        qs = qs.filter(record__document__partner_id=filters.partner_id)
    if filters.currency:
        qs = qs.filter(record__document__currency=filters.currency)
    if filters.bucket in BUCKET_LABELS:
        qs = qs.filter(_bucket_q(filters.bucket, as_of))
    return qs.annotate(
        due=Case(
            When(record__document__type=credit_type, then=-F("amount_due")),
            default=F("amount_due"),
            output_field=_MONEY,
        ),
    )


def _aggregates(as_of: dt.date) -> dict[str, Any]:
    sums: dict[str, Any] = {
        "documents": Count("id"),
        "total": Sum("due"),
    }
    for key, _, _, _ in BUCKETS:
        sums[f"b_{key}"] = Sum("due", filter=_bucket_q(key, as_of))
    return sums


def _money(value: Decimal | None) -> Decimal:
    # SQLite adds decimals as floats (99.9900000000000); PostgreSQL is exact.
    return round_money(value) if value is not None else ZERO


def _aged(row: Mapping[str, Any]) -> AgedAmounts:
    return AgedAmounts(
        currency=row["currency"],
        documents=row["documents"],
        total=_money(row["total"]),
        buckets={key: _money(row[f"b_{key}"]) for key, _, _, _ in BUCKETS},
        partner_id=row.get("partner_id"),
        partner_name=row.get("partner_name", ""),
        partner_number=row.get("partner_number", ""),
    )


def outstanding_get(*, actor: Actor, filters: OutstandingFilters) -> Outstanding:
    """Totals per currency and rows per partner and currency (two aggregate queries)."""
    assert filters.as_of is not None
    states = outstanding_states(actor=actor, filters=filters).annotate(
        currency=F("record__document__currency")
    )
    sums = _aggregates(filters.as_of)
    currencies = [
        _aged(row) for row in states.values("currency").annotate(**sums).order_by("currency")
    ]
    partners = [
        _aged(row)
        for row in states.annotate(
            partner_id=F("record__document__partner_id"),
            partner_name=F("record__document__partner__name"),
            partner_number=F("record__document__partner__number"),
        )
        .values("partner_id", "partner_name", "partner_number", "currency")
        .annotate(**sums)
        .order_by("partner_name", "partner_id", "currency")
    ]
    checked = states.aggregate(first=Min("last_checked_at"), last=Max("last_checked_at"))
    return Outstanding(
        side=filters.side if filters.side in SIDES else RECEIVABLES,
        as_of=filters.as_of,
        currencies=currencies,
        partners=partners,
        checked_from=checked["first"],
        checked_to=checked["last"],
        filters=filters,
    )


def outstanding_documents(
    *, actor: Actor, filters: OutstandingFilters, limit: int | None = None
) -> list[OutstandingDocument]:
    """Each open document with its last payment, oldest due first (one query)."""
    as_of = filters.as_of
    assert as_of is not None
    last_payment = PaymentLine.objects.filter(state=OuterRef("pk")).order_by("-date", "-id")
    qs = (
        outstanding_states(actor=actor, filters=filters)
        .select_related("record__document__partner")
        .annotate(
            last_payment_date=Subquery(last_payment.values("date")[:1]),
            last_payment_amount=Subquery(last_payment.values("amount")[:1], output_field=_MONEY),
        )
        .order_by("record__document__due_date", "record__document__number", "id")
    )
    if limit is not None:
        qs = qs[:limit]
    documents = []
    for state in qs:
        document = state.record.document
        days = (as_of - document.due_date).days
        documents.append(
            OutstandingDocument(
                document_id=document.pk,
                type=document.type,
                type_label=document.get_type_display(),
                number=document.number,
                partner_id=document.partner_id,
                partner_name=document.partner.name,
                currency=document.currency,
                issue_date=document.issue_date,
                due_date=document.due_date,
                days_overdue=days,
                bucket=bucket_of(days),
                total=state.total,
                amount_due=_money(state.due),  # type: ignore[attr-defined]
                status=state.status,
                last_payment_date=state.last_payment_date,  # type: ignore[attr-defined]
                last_payment_amount=(
                    _money(state.last_payment_amount)  # type: ignore[attr-defined]
                    if state.last_payment_amount is not None  # type: ignore[attr-defined]
                    else None
                ),
                last_checked_at=state.last_checked_at,
            )
        )
    return documents


def outstanding_partner_choices(*, actor: Actor, side: str) -> QuerySet[Partner]:
    kind = SIDES.get(side, SIDES[RECEIVABLES])[1]
    return Partner.objects.filter(company=actor.company, kind=kind).only("id", "name", "number")


def outstanding_currencies(*, actor: Actor) -> list[str]:
    # The open states' records first, then their documents' currencies by id. In one
    # join PostgreSQL guesses a company's open states from every company's and reads
    # all sync records to hash them (20 ms at 100,000 documents, growing with the
    # ledger); by id it reads just those records.
    records = list(
        PaymentState.objects.filter(company=actor.company, status__in=OPEN).values_list(
            "record_id", flat=True
        )
    )
    return list(
        SyncRecord.objects.filter(company=actor.company, pk__in=records)
        .values_list("document__currency", flat=True)
        .distinct()
        .order_by("document__currency")
    )
