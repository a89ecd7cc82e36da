"""Retrying a document is one action: the failed task's button, the document's Retry,
and both API routes do the same thing, through sync_record_retry."""

from __future__ import annotations

import pytest

from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.accounting.workflow import POST_TASK, post_tasks_follow
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import api_token_create
from ledgerbridge.invoicing.models import Task, TaskStatus
from tests.ledgerbridge.factories import (
    PASSWORD,
    make_actor,
    make_company,
    make_document,
    make_user,
)

pytestmark = pytest.mark.django_db

REFUSED = "The account code 200 is archived."


@pytest.fixture
def admin():
    company = make_company("Northway Haulage Ltd")
    AccountingSettings.objects.create(company=company, package="xero_api")
    return make_actor(company, Role.SUPER_ADMIN)


@pytest.fixture
def refused(admin):
    """A document the package refused: its record failed, its task failed with it."""
    document = make_document(admin, finalise=True)
    record = SyncRecord.objects.get(document=document)
    record.status, record.message = SyncStatus.FAILED, REFUSED
    record.save()
    post_tasks_follow([record])
    task = Task.objects.get(document=document, type=POST_TASK)
    assert task.status == TaskStatus.FAILED
    return document


def _web(client, admin):
    user = make_user(admin.company, Role.FINANCE)
    client.login(username=user.username, password=PASSWORD)
    return client


def _api(client, admin):
    _, raw = api_token_create(actor=admin, name="TMS", role=Role.FINANCE)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def _retry_by_task_in_the_page(client, document):
    task = Task.objects.get(document=document, type=POST_TASK)
    return client.post(f"/invoices/{document.pk}/tasks/{task.pk}/complete", follow=True)


def _retry_by_document_in_the_page(client, document):
    return client.post(f"/invoices/{document.pk}/xero/retry", follow=True)


def _retry_by_task_in_the_api(client, document):
    task = Task.objects.get(document=document, type=POST_TASK)
    return client.post(f"/api/tasks/{task.pk}/complete")


def _retry_by_document_in_the_api(client, document):
    return client.post(
        f"/api/documents/{document.pk}/xero/retry", data={}, content_type="application/json"
    )


@pytest.mark.parametrize(
    ("login", "retry"),
    [
        (_web, _retry_by_task_in_the_page),
        (_web, _retry_by_document_in_the_page),
        (_api, _retry_by_task_in_the_api),
        (_api, _retry_by_document_in_the_api),
    ],
    ids=["page-task", "page-document", "api-task", "api-document"],
)
def test_every_retry_sends_the_document_again_ahead_of_the_backlog(
    client, admin, refused, login, retry
):
    completed = Task.objects.get(document=refused, type=POST_TASK)

    answer = retry(login(client, admin), refused)

    assert answer.status_code == 200, answer.content
    record = SyncRecord.objects.get(document=refused)
    assert record.status == SyncStatus.PENDING
    assert record.message == "" and record.problems == []
    assert record.wanted_at is not None  # a person waits: it goes first
    task = Task.objects.get(document=refused, type=POST_TASK)
    # In progress until the document is in the package, never done by the click;
    # who completed it first stays.
    assert (task.status, task.message) == (TaskStatus.IN_PROGRESS, "Queued for Xero.")
    assert (task.completed_by_id, task.completed_at) == (
        completed.completed_by_id,
        completed.completed_at,
    )


def test_a_retry_of_a_document_already_on_its_way_is_refused_the_same_by_task_and_document(
    client, admin, refused
):
    api = _api(client, admin)
    assert _retry_by_task_in_the_api(api, refused).status_code == 200
    # Its task is in progress now: neither route sends it a second time.
    by_task = _retry_by_task_in_the_api(api, refused)
    by_document = _retry_by_document_in_the_api(api, refused)
    assert (by_task.status_code, by_document.status_code) == (400, 400)
    assert "already" in by_task.json()["detail"] and "already" in by_document.json()["detail"]
    assert SyncRecord.objects.get(document=refused).status == SyncStatus.PENDING


def test_a_viewer_cannot_retry_by_either_route(client, admin, refused):
    viewer = make_user(admin.company, Role.VIEWER)
    client.login(username=viewer.username, password=PASSWORD)
    task = Task.objects.get(document=refused, type=POST_TASK)
    assert client.post(f"/invoices/{refused.pk}/tasks/{task.pk}/complete").status_code == 403
    assert client.post(f"/invoices/{refused.pk}/xero/retry").status_code == 403
    assert SyncRecord.objects.get(document=refused).status == SyncStatus.FAILED
