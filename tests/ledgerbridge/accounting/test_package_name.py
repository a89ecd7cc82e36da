"""The port names the package as its adapter registered it, never Xero by itself."""

from __future__ import annotations

import pytest

from ledgerbridge.accounting import connector
from ledgerbridge.accounting.connector import package_name, package_name_register
from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.accounting.workflow import POST_TASK, post_tasks_follow
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Task, TaskStatus
from ledgerbridge.web.templatetags.web import task_action, task_label
from tests.ledgerbridge.factories import make_actor, make_company, make_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def names():
    """The registered names, put back after the test."""
    saved = dict(connector._names)
    yield
    connector._names.clear()
    connector._names.update(saved)


@pytest.fixture
def admin():
    company = make_company("Northway Haulage Ltd")
    AccountingSettings.objects.create(company=company, package="xero_api")
    return make_actor(company, Role.SUPER_ADMIN)


def _task(document) -> Task:
    return Task.objects.get(document=document, type=POST_TASK)


def _settle(document, status: str, **fields) -> Task:
    record = SyncRecord.objects.get(document=document)
    record.status = status
    for name, value in fields.items():
        setattr(record, name, value)
    record.save()
    post_tasks_follow([record])
    return _task(document)


def test_the_xero_adapter_names_its_packages():
    assert package_name("xero_api") == "Xero"
    assert task_label(Task(type=POST_TASK)) == "Post to Xero"
    assert package_name("xero_file") == "Xero"
    assert package_name("none") == "the accounting package"


def test_the_post_task_speaks_of_the_package_by_its_registered_name(names, admin):
    package_name_register("xero_api", "Ledgerly")
    document = make_document(admin, finalise=True)

    assert (_task(document).status, _task(document).message) == (
        TaskStatus.IN_PROGRESS,
        "Queued for Ledgerly.",
    )
    refused = _settle(document, SyncStatus.FAILED, message="Account 200 is archived.")
    assert refused.message == "Ledgerly refused it: Account 200 is archived."
    posted = _settle(document, SyncStatus.POSTED, message="", external_number="INV-0001")
    assert posted.message == "Posted to Ledgerly as INV-0001."
    assert (task_label(posted), task_action(refused)) == ("Post to Ledgerly", "Retry")
    assert task_action(Task(type=POST_TASK, status=TaskStatus.OPEN)) == "Post to Ledgerly"


def test_a_package_no_adapter_named_is_the_accounting_package(names, admin):
    connector._names.pop("xero_api")
    document = make_document(admin, finalise=True)

    assert _task(document).message == "Queued for the accounting package."
    refused = _settle(document, SyncStatus.FAILED, message="Account 200 is archived.")
    assert refused.message == "The accounting package refused it: Account 200 is archived."
