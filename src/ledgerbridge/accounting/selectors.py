"""Reads of the outbox, scoped to the actor's company."""

from __future__ import annotations

from django.db.models import QuerySet

from ledgerbridge.companies.models import Company
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import Document

from .models import PaymentStatus, SyncAttempt, SyncRecord, SyncStatus

NOT_SENT = "not_sent"
# Posted, then voided or deleted by someone in the package.
GONE = "gone"
SYNC_FILTERS = [(NOT_SENT, "Not sent"), *SyncStatus.choices, (GONE, "Voided or deleted in Xero")]


def sync_record_for(*, actor: Actor, document_id: int) -> SyncRecord | None:
    return SyncRecord.objects.filter(company=actor.company, document_id=document_id).first()


def sync_attempts(*, record: SyncRecord, limit: int = 50) -> list[SyncAttempt]:
    return list(record.attempt_log.all()[:limit])


def documents_filter_by_sync(
    qs: QuerySet[Document], status: str | None, *, company: Company
) -> QuerySet[Document]:
    """``qs`` (documents of ``company``) kept to those whose Xero record is in ``status``.

    The records are also filtered by company: by status alone PostgreSQL counts
    every company's posted records and hashes them all to join a small company's
    documents (25 ms for 1,000 documents beside 110,000 of other companies).
    """
    if not status:
        return qs
    if status == NOT_SENT:
        return qs.filter(sync_record__isnull=True)
    if status == GONE:
        return qs.filter(
            sync_record__company=company,
            sync_record__payment__status__in=[PaymentStatus.VOIDED, PaymentStatus.DELETED],
        )
    return qs.filter(sync_record__company=company, sync_record__status=status)
