"""Payment status of posted documents, neutral of the accounting package.

Adapters read a document's state in the package and hand it over as a
``RemoteDocumentState``; ``payment_state_apply`` stores it, keeps one row per
payment and allocation, and writes a ``PaymentEvent`` when something changed.
The selectors here give the UI and the API the same view, scoped to a company.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, QuerySet

from ledgerbridge.companies.models import Company
from ledgerbridge.invoicing.models import Document
from ledgerbridge.invoicing.money import format_money

from .fingerprint import DocumentFingerprint
from .models import (
    CreditAllocation,
    PaymentEvent,
    PaymentLine,
    PaymentState,
    PaymentStatus,
    SyncRecord,
)

NOT_CHECKED = "not_checked"
PAYMENT_FILTERS = [(NOT_CHECKED, "Not known yet"), *PaymentStatus.choices]
SALES_TYPES = ("sales_invoice", "sales_credit_note")


@dataclass(frozen=True)
class RemotePayment:
    external_id: str
    date: dt.date | None
    amount: Decimal
    reference: str = ""


@dataclass(frozen=True)
class RemoteAllocation:
    kind: str  # credit_note, overpayment, prepayment, invoice
    external_id: str
    number: str
    date: dt.date | None
    amount: Decimal


@dataclass(frozen=True)
class RemoteDocumentState:
    """A document as the package has it now, in our words."""

    external_id: str
    status: str  # a PaymentStatus value
    total: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    amount_due: Decimal
    fully_paid_on: dt.date | None = None
    updated_at: dt.datetime | None = None
    payments: list[RemotePayment] = field(default_factory=list)
    allocations: list[RemoteAllocation] = field(default_factory=list)
    # What the package holds of the document's content, when the read carried it
    # (a summary-only read has no lines): compared with what we sent.
    fingerprint: DocumentFingerprint | None = None


def _describe(old: PaymentState | None, new: RemoteDocumentState, currency: str) -> str:
    parts = []
    if old is None or old.status != new.status:
        parts.append(PaymentStatus(new.status).label)
    if old is None or old.amount_paid != new.amount_paid:
        parts.append(f"paid {format_money(new.amount_paid, currency)}")
    if old is None or old.amount_credited != new.amount_credited:
        parts.append(f"credited {format_money(new.amount_credited, currency)}")
    parts.append(f"due {format_money(new.amount_due, currency)}")
    return ", ".join(parts)


@transaction.atomic
def payment_state_apply(
    *, record: SyncRecord, remote: RemoteDocumentState, source: str, now: dt.datetime
) -> bool:
    """Store what the package says of ``record``'s document; True when something changed.

    Always taking the package's current state (not the event's) is what makes
    duplicate and out-of-order notifications harmless.
    """
    state = PaymentState.objects.select_for_update().filter(record=record).first()
    if (
        state is not None
        and state.remote_updated_at
        and remote.updated_at
        and remote.updated_at < state.remote_updated_at
    ):
        # An older read finishing after a newer one: keep the newer.
        state.last_checked_at = now
        state.save(update_fields=["last_checked_at"])
        return False
    payments = {p.external_id: p for p in remote.payments}
    allocations = {(a.kind, a.external_id): a for a in remote.allocations}
    old_payments: set[tuple[str, Decimal]] = set()
    old_allocations: set[tuple[str, str, Decimal]] = set()
    if state is not None:
        old_payments = {(p.external_id, p.amount) for p in state.payments.all()}
        old_allocations = {(a.kind, a.external_id, a.amount) for a in state.allocations.all()}
    changed = (
        state is None
        or state.status != remote.status
        or state.amount_paid != remote.amount_paid
        or state.amount_credited != remote.amount_credited
        or state.amount_due != remote.amount_due
        or state.total != remote.total
        or state.fully_paid_on != remote.fully_paid_on
        or old_payments != {(p.external_id, p.amount) for p in payments.values()}
        or old_allocations != {(a.kind, a.external_id, a.amount) for a in allocations.values()}
    )
    message = _describe(state, remote, record.document.currency) if changed else ""
    old_status = state.status if state is not None else ""
    if state is None:
        state = PaymentState(record=record, company_id=record.company_id)
    state.status = remote.status
    state.total = remote.total
    state.amount_paid = remote.amount_paid
    state.amount_credited = remote.amount_credited
    state.amount_due = remote.amount_due
    state.fully_paid_on = remote.fully_paid_on
    state.remote_updated_at = remote.updated_at or state.remote_updated_at
    state.last_checked_at = now
    if changed:
        state.changed_at = now
    state.save()
    if not changed:
        return False
    state.payments.exclude(external_id__in=list(payments)).delete()
    for payment in payments.values():
        PaymentLine.objects.update_or_create(
            state=state,
            external_id=payment.external_id,
            defaults={
                "date": payment.date,
                "amount": payment.amount,
                "reference": payment.reference[:255],
            },
        )
    kept = Q(pk__in=[])
    for kind, external_id in allocations:
        kept |= Q(kind=kind, external_id=external_id)
    state.allocations.exclude(kept).delete()
    for allocation in allocations.values():
        CreditAllocation.objects.update_or_create(
            state=state,
            kind=allocation.kind,
            external_id=allocation.external_id,
            defaults={
                "number": allocation.number[:60],
                "date": allocation.date,
                "amount": allocation.amount,
            },
        )
    PaymentEvent.objects.create(
        state=state,
        at=now,
        source=source,
        old_status=old_status,
        new_status=remote.status,
        amount_paid=remote.amount_paid,
        amount_due=remote.amount_due,
        message=message,
    )
    return True


def payment_states_checked(*, records: list[SyncRecord], now: dt.datetime) -> None:
    """Mark documents the package reported unchanged as checked now."""
    PaymentState.objects.filter(record__in=records).update(last_checked_at=now)


# -- selectors -------------------------------------------------------------------------


def documents_filter_by_payment(
    qs: QuerySet[Document], status: str | None, *, company: Company
) -> QuerySet[Document]:
    """``qs`` (documents of ``company``) kept to those whose payment state is ``status``
    (the states filtered by company too, as ``documents_filter_by_sync`` says why)."""
    if not status:
        return qs
    if status == NOT_CHECKED:
        return qs.filter(sync_record__payment__isnull=True)
    return qs.filter(sync_record__payment__company=company, sync_record__payment__status=status)
