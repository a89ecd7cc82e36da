"""REST endpoints of Invoices > Outstanding: receivables and payables per currency, aged.

Any role of the company may read them. Amounts are per currency (never added
across currencies) and are what Xero last reported; ``checked_from`` and
``checked_to`` say when.
"""

# No `from __future__ import annotations`: ninja reads these annotations at runtime.
import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from ledgerbridge.accounting.outstanding import (
    AgedAmounts,
    OutstandingFilters,
    outstanding_documents,
    outstanding_get,
)
from ledgerbridge.companies.permissions import Actor

from .pagination import Pages

router = Router(tags=["outstanding"])

BucketKey = Literal["current", "1_30", "31_60", "61_90", "over_90"]


class OutstandingQuery(Schema):
    side: Literal["receivables", "payables"] = Field(
        "receivables", description="receivables (customers) or payables (suppliers)"
    )
    as_of: dt.date | None = Field(None, description="age documents on this date (default today)")
    partner_id: int | None = None
    currency: str | None = Field(None, max_length=3)
    bucket: BucketKey | None = Field(
        None,
        description="current (not yet due), 1_30, 31_60, 61_90 or over_90 days past due",
    )

    def filters(self) -> OutstandingFilters:
        return OutstandingFilters(
            side=self.side,
            as_of=self.as_of or timezone.localdate(),
            partner_id=self.partner_id,
            currency=(self.currency or "").upper(),
            bucket=self.bucket or "",
        )


class BucketOut(Schema):
    key: str
    label: str
    amount: Decimal


class AgedOut(Schema):
    currency: str
    documents: int
    total: Decimal
    buckets: list[BucketOut]
    partner_id: int | None = None
    partner_name: str = ""
    partner_number: str = ""


class OutstandingOut(Schema):
    side: str
    as_of: dt.date
    checked_from: dt.datetime | None = Field(description="oldest Xero read behind these figures")
    checked_to: dt.datetime | None = Field(description="newest Xero read behind these figures")
    currencies: list[AgedOut] = Field(description="one row per currency; never summed across")
    partners: list[AgedOut] = Field(description="one row per customer or supplier and currency")


class OutstandingDocumentOut(Schema):
    document_id: int
    type: str
    number: str
    partner_id: int
    partner_name: str
    currency: str
    issue_date: dt.date
    due_date: dt.date
    days_overdue: int
    bucket: str
    total: Decimal
    amount_due: Decimal = Field(description="negative for a credit note's credit not yet used")
    status: str
    last_payment_date: dt.date | None
    last_payment_amount: Decimal | None
    last_checked_at: dt.datetime | None


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _aged(row: AgedAmounts) -> AgedOut:
    return AgedOut(
        currency=row.currency,
        documents=row.documents,
        total=row.total,
        buckets=[BucketOut(key=k, label=label, amount=v) for k, label, v in row.bucket_list],
        partner_id=row.partner_id,
        partner_name=row.partner_name,
        partner_number=row.partner_number,
    )


@router.get("", response=OutstandingOut)
def outstanding(request: HttpRequest, query: Query[OutstandingQuery]) -> Any:
    """Totals per currency and per customer or supplier, by age (buckets in order)."""
    overview = outstanding_get(actor=_actor(request), filters=query.filters())
    return OutstandingOut(
        side=overview.side,
        as_of=overview.as_of,
        checked_from=overview.checked_from,
        checked_to=overview.checked_to,
        currencies=[_aged(row) for row in overview.currencies],
        partners=[_aged(row) for row in overview.partners],
    )


@router.get("/documents", response=list[OutstandingDocumentOut])
@paginate(Pages, page_size=100)
def outstanding_document_list(request: HttpRequest, query: Query[OutstandingQuery]) -> Any:
    """Each open document, oldest due first, with its last payment."""
    return outstanding_documents(actor=_actor(request), filters=query.filters())
