"""A retried document goes ahead of a backlog that has used its share of the minute."""

from __future__ import annotations

import pytest
from huey.contrib.djhuey import HUEY
from huey.storage import MemoryStorage

from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.accounting.outbox import sync_company_run, sync_record_retry
from ledgerbridge.xero.ratelimit import rate_limiter
from tests.ledgerbridge.factories import make_document

from .conftest import authorise

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue_without_consumer():
    """Nudges are queued but nobody consumes them: the test runs the worker."""
    previous = HUEY.storage, HUEY.immediate
    HUEY.storage, HUEY.immediate = MemoryStorage("retry-first"), False
    yield
    HUEY.storage, HUEY.immediate = previous


def test_a_retried_document_is_posted_while_the_backlog_holds_back(
    sandbox, admin, queue_without_consumer
):
    authorise(sandbox, admin, [sandbox.tenant_id])  # the Super Admin is there: someone waits
    refused, *backlog = [make_document(admin, lines=1, finalise=True) for _ in range(3)]
    SyncRecord.objects.filter(document=refused).update(
        status=SyncStatus.FAILED, message="Xero refused it: the account code was archived."
    )
    limiter, tenant = rate_limiter(), sandbox.tenant_id
    while limiter.acquire(tenant) == 0:
        pass  # the backlog has used what it may of the minute

    sync_record_retry(actor=admin, document_id=refused.pk)
    sync_company_run(company_id=admin.company.pk)

    retried = SyncRecord.objects.get(document=refused)
    assert retried.status == SyncStatus.POSTED, retried.message
    assert retried.wanted_at is None
    for record in SyncRecord.objects.filter(document__in=backlog):
        assert record.status == SyncStatus.PENDING
        assert "Holding back" in record.message
