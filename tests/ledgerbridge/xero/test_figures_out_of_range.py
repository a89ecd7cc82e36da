"""A final document holding a figure outside its bounds is never sent to Xero.

Finalising refuses such a figure, so only an edit of the database (or SQLite,
which keeps any number) can put one on a final document; the outbox checks
every batch before sending and fails those documents with the reason.
"""

from __future__ import annotations

import pytest

from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.invoicing.models import Task, TaskStatus
from tests.ledgerbridge.figures.conftest import store_raw

from .conftest import authorise
from .test_posting import _queue, post_all, xero_numbers

pytestmark = pytest.mark.django_db


@pytest.fixture
def manual(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    AccountingSettings.objects.filter(company=admin.company).update(auto_post_sales_invoice=False)
    return admin


def test_a_document_with_a_figure_out_of_range_fails_unsent_and_the_others_post(sandbox, manual):
    good, bad = _queue(manual, 2)
    store_raw(bad.lines.first(), "discount_percent", "150")
    post_all(manual.company, runs=2)

    record = SyncRecord.objects.get(document=bad)
    assert record.status == SyncStatus.FAILED
    assert "Line 1: discount 150 must be between 0 and 100" in record.message
    task = Task.objects.get(document=bad, type="post_to_xero")
    assert task.status == TaskStatus.FAILED
    assert task.message.startswith("Not sent to Xero.")
    assert SyncRecord.objects.get(document=good).status == SyncStatus.POSTED
    assert xero_numbers(sandbox) == [good.number]
