"""The "Post to <package>" task type, plugged into the invoicing workflow, and its state.

Its label and messages name the package as its adapter registered it
(``package_name``); only the task's key keeps its first name, "post_to_xero",
which stored tasks carry.

The task follows its document's outbox record: in progress until the document
is in the accounting package, done only then, failed with the reason. Its
state changes only here (``post_tasks_follow``, through the invoicing
workflow's ``tasks_settle``), and retrying it is the document's one retry,
``sync_record_retry``, whether it comes from the task or from the document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import cast

from django.utils.functional import lazy

from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import Document, Task, TaskMode, TaskStatus
from ledgerbridge.invoicing.workflow import TaskType, task_type_register, tasks_settle

from .connector import company_package_name, package_name
from .models import AccountingPackage, AccountingSettings, SyncRecord, SyncStatus

POST_TASK = "post_to_xero"


def post_task_state(record: SyncRecord, *, package: str) -> tuple[str, str]:
    """The "Post to Xero" task's state and message for where its document is:
    done only once it is in the package, failed with the reason, else in progress.
    ``package``: the package's name in words (``company_package_name``)."""
    if record.status == SyncStatus.POSTED:
        note = f" {record.message}" if record.message else ""
        return TaskStatus.DONE, f"Posted to {package} as {record.external_number}.{note}"
    if record.status == SyncStatus.FAILED:
        return TaskStatus.FAILED, f"{_capital(package)} refused it: {record.message}"
    if record.status == SyncStatus.NEEDS_ATTENTION:
        return TaskStatus.FAILED, f"{record.message} Retry when {package} is reachable."
    return TaskStatus.IN_PROGRESS, record.message or f"Queued for {package}."


def _capital(words: str) -> str:
    return words[:1].upper() + words[1:]


def post_tasks_follow(records: Iterable[SyncRecord], *, message: str | None = None) -> None:
    """The one path that moves "Post to Xero" tasks once completed: each follows
    the outcome of its document's outbox record (``message`` in place of the
    usual words, where the outcome has its own)."""
    groups: dict[tuple[str, str], list[int]] = {}
    names: dict[int, str] = {}
    for record in records:
        if record.company_id not in names:
            names[record.company_id] = company_package_name(record.company_id)
        status, usual = post_task_state(record, package=names[record.company_id])
        groups.setdefault((status, message or usual), []).append(record.document_id)
    for (status, words), document_ids in groups.items():
        tasks_settle(
            document_ids=document_ids, task_type_key=POST_TASK, status=status, message=words
        )


def _settings(document: Document) -> AccountingSettings | None:
    return AccountingSettings.objects.filter(company_id=document.company_id).first()


def credit_note_kept_out(document: Document) -> bool:
    """A credit note for an invoice voided or deleted in the package is not posted:
    the package left the invoice out of its books already, and the credit would
    count twice there (credited in the TMS from reconciliation's choices)."""
    if not document.original_id:
        return False
    from .reconcile import document_gone

    original = SyncRecord.objects.filter(document_id=document.original_id).first()
    return bool(document_gone(original))


def _applies(document: Document) -> bool:
    settings = _settings(document)
    return (
        settings is not None
        and settings.package == AccountingPackage.XERO_API
        and not credit_note_kept_out(document)
    )


def posts_by_itself(settings: AccountingSettings | None, document_type: str) -> bool:
    """Whether a document of this type goes by itself once final ("Post to Xero"
    completes itself) or waits for a Finance user to post it (purchases by default)."""
    return settings is not None and bool(getattr(settings, f"auto_post_{document_type}", False))


def _mode(document: Document) -> str:
    auto = posts_by_itself(_settings(document), document.type)
    return TaskMode.AUTO if auto else TaskMode.MANUAL


# The outbox imports this module (post_tasks_follow), so its services are
# imported where they are called.


def _complete(task: Task, actor: Actor | None, now: dt.datetime) -> str:
    # Completing only queues the document: the task is done once it is in Xero
    # (the outbox settles it through post_tasks_follow).
    from .outbox import sync_record_request

    record = sync_record_request(document=task.document, now=now)
    status, task.message = post_task_state(
        record, package=company_package_name(task.document.company_id)
    )
    return status


def _retry(task: Task, actor: Actor, now: dt.datetime) -> None:
    from .outbox import sync_record_retry

    sync_record_retry(actor=actor, document_id=task.document_id, now=now)


def _post_label() -> str:
    # Read when shown: adapters name their packages after this app is ready.
    return f"Post to {package_name(AccountingPackage.XERO_API)}"


def register() -> None:
    label = cast(str, lazy(_post_label, str)())
    task_type_register(
        TaskType(
            key=POST_TASK,
            label=label,
            applies=_applies,
            mode_for=_mode,
            on_complete=_complete,
            action_label=label,
            on_retry=_retry,
        )
    )
