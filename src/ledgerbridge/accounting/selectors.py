"""Reads of the outbox, scoped to the actor's company."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, QuerySet
from django.utils import timezone

from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import Document

from .models import AccountingSettings, PaymentStatus, SyncAttempt, SyncRecord, SyncStatus

NOT_SENT = "not_sent"
# Posted, then voided or deleted by someone in the package.
GONE = "gone"
SYNC_FILTERS = [(NOT_SENT, "Not sent"), *SyncStatus.choices, (GONE, "Voided or deleted in Xero")]


def sync_record_for(*, actor: Actor, document_id: int) -> SyncRecord | None:
    return SyncRecord.objects.filter(company=actor.company, document_id=document_id).first()


def sync_attempts(*, record: SyncRecord, limit: int = 50) -> list[SyncAttempt]:
    return list(record.attempt_log.all()[:limit])


def documents_filter_by_sync(qs: QuerySet[Document], status: str | None) -> QuerySet[Document]:
    if not status:
        return qs
    if status == NOT_SENT:
        return qs.filter(sync_record__isnull=True)
    if status == GONE:
        return qs.filter(
            sync_record__payment__status__in=[PaymentStatus.VOIDED, PaymentStatus.DELETED]
        )
    return qs.filter(sync_record__status=status)


def sync_progress(*, actor: Actor) -> dict[str, int]:
    """How many of the company's documents are at each step (for the progress bar)."""
    counts = {
        row["status"]: row["n"]
        for row in SyncRecord.objects.filter(company=actor.company)
        .values("status")
        .annotate(n=Count("id"))
    }
    return {status: counts.get(status, 0) for status in SyncStatus.values}


def posting_paused_until(*, actor: Actor) -> datetime | None:
    """When posting resumes, if the package's daily limit stopped it."""
    settings = AccountingSettings.objects.filter(company=actor.company).first()
    if settings and settings.paused_until and settings.paused_until > timezone.now():
        return settings.paused_until
    return None
