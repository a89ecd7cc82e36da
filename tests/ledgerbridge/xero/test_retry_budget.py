"""Waiting for Xero's rate-limit window is not a failed attempt.

Found by the fault suite (``ledgerbridge bench faults``): a document whose
lookups met a storm of 429s used up its eight attempts in seconds and was
marked "needs attention" although Xero had only asked it to wait.
"""

from __future__ import annotations

import pytest

from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.accounting.outbox import MAX_TRANSIENT_ATTEMPTS

from .conftest import authorise
from .test_posting import _queue, post_all, xero_numbers

pytestmark = pytest.mark.django_db


@pytest.fixture
def manual(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    AccountingSettings.objects.filter(company=admin.company).update(auto_post_sales_invoice=False)
    return admin


def test_more_429s_than_attempts_still_post_the_document(sandbox, manual):
    [document] = _queue(manual, 1)
    storm = MAX_TRANSIENT_ATTEMPTS + 2
    sandbox.control.add_fault("rate_limit", retry_after=1, times=storm)
    post_all(manual.company, runs=storm + 1)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED, record.message
    assert record.attempts == 1
    assert xero_numbers(sandbox) == [document.number]


def test_5xx_answers_still_count_towards_giving_up(sandbox, manual):
    [document] = _queue(manual, 1)
    sandbox.control.add_fault("error", status=503, times=MAX_TRANSIENT_ATTEMPTS + 2)
    post_all(manual.company, runs=MAX_TRANSIENT_ATTEMPTS + 1)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.NEEDS_ATTENTION
    assert record.attempts == MAX_TRANSIENT_ATTEMPTS
