"""Changes people made in the package to documents we posted.

Adapters read a posted document (webhook or poll) and hand over what the package
holds now as a ``DocumentFingerprint``; ``remote_change_detect`` compares it with
the fingerprint of what we sent and records the differences (``RemoteChange``)
with an audit entry. Our document is never changed: the differences are shown,
and a person decides. Documents posted before fingerprints were kept have none
and are not compared here (reconciliation rebuilds from the package).
"""

from __future__ import annotations

import datetime as dt

import structlog
from django.db import transaction

from ledgerbridge.companies.services import audit_record

from .fingerprint import DocumentFingerprint, fingerprint_compare
from .models import PaymentStatus, RemoteChange, SyncRecord, SyncStatus

log = structlog.get_logger(__name__)

GONE = (PaymentStatus.VOIDED, PaymentStatus.DELETED)


@transaction.atomic
def remote_change_detect(
    *,
    record: SyncRecord,
    remote: DocumentFingerprint,
    status: str,
    remote_updated_at: dt.datetime | None,
    source: str,
    now: dt.datetime,
) -> RemoteChange | None:
    """Compare the package's document with what we sent; record a change when the
    differences are new. Returns the change recorded, else None.

    Every later read of a changed document differs from what we sent in the same
    way, so a change is recorded only when the differences are not those of the
    latest one (an empty list when the document agrees again). Voided and
    deleted documents are flagged by their payment state, not here.
    """
    if not record.fingerprint or status in GONE:
        return None
    differences = fingerprint_compare(DocumentFingerprint.from_json(record.fingerprint), remote)
    latest = (
        RemoteChange.objects.select_for_update()
        .filter(record=record)
        .order_by("-detected_at", "-id")
        .first()
    )
    previous = latest.differences if latest is not None else []
    if differences == previous:
        return None
    if (
        latest is not None
        and latest.remote_updated_at
        and remote_updated_at
        and remote_updated_at < latest.remote_updated_at
    ):
        # An older read finishing after a newer one: keep the newer.
        return None
    change = RemoteChange.objects.create(
        record=record,
        company_id=record.company_id,
        remote_updated_at=remote_updated_at,
        detected_at=now,
        source=source,
        differences=differences,
    )
    document = record.document
    audit_record(
        actor=None,
        company=record.company,
        action="document changed in accounting package"
        if differences
        else "document agrees with accounting package again",
        target=f"{document.get_type_display()} {document.display_number}",
        changes={
            "differences": differences,
            "changed_at": remote_updated_at.isoformat() if remote_updated_at else None,
            "source": source,
            "external_id": record.external_id,
        },
        now=now,
    )
    log.info(
        "accounting.remote_change",
        record_id=record.pk,
        document_id=record.document_id,
        differences=len(differences),
        source=source,
    )
    return change


def remote_change_latest(record: SyncRecord | None) -> RemoteChange | None:
    """The change the document page shows: the latest, when it still differs and is
    of the copy the package holds now (not one voided there and posted again)."""
    if record is None or record.status != SyncStatus.POSTED:
        return None
    latest = record.remote_changes.order_by("-detected_at", "-id").first()
    if latest is None or not latest.differences:
        return None
    if record.posted_at is not None and latest.detected_at < record.posted_at:
        return None
    return latest
