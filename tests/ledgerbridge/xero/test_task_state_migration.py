"""Existing "Post to Xero" tasks marked done before their document was in Xero are
moved to the state of their document by the data migration."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.invoicing.models import Task, TaskStatus
from tests.ledgerbridge.factories import make_document

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "ledgerbridge.accounting.migrations.0010_post_tasks_follow_their_records"
)


def test_done_tasks_take_the_state_of_their_document(admin):
    documents = [make_document(admin, finalise=True) for _ in range(4)]
    statuses = [SyncStatus.PENDING, SyncStatus.FAILED, SyncStatus.POSTED, SyncStatus.POSTING]
    for document, status in zip(documents, statuses, strict=True):
        SyncRecord.objects.filter(document=document).update(
            status=status, message="Account code '200' has been archived."
        )
    Task.objects.filter(type="post_to_xero").update(status=TaskStatus.DONE)

    migration.forwards(apps, None)

    states = [Task.objects.get(document=d, type="post_to_xero").status for d in documents]
    assert states == ["in_progress", "failed", "done", "in_progress"]
    failed = Task.objects.get(document=documents[1], type="post_to_xero")
    assert "archived" in failed.message

    migration.backwards(apps, None)
    assert set(Task.objects.values_list("status", flat=True)) == {"done", "failed"}
