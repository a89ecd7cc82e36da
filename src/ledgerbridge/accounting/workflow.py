"""The "Post to Xero" task type, plugged into the invoicing workflow."""

from __future__ import annotations

import datetime as dt

from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import Document, Task, TaskMode
from ledgerbridge.invoicing.workflow import TaskType, task_type_register

from .models import AccountingPackage, AccountingSettings
from .outbox import POST_TASK, post_task_state, sync_record_request


def _settings(document: Document) -> AccountingSettings | None:
    return AccountingSettings.objects.filter(company_id=document.company_id).first()


def _applies(document: Document) -> bool:
    settings = _settings(document)
    return settings is not None and settings.package == AccountingPackage.XERO_API


def _mode(document: Document) -> str:
    settings = _settings(document)
    auto = settings is not None and getattr(settings, f"auto_post_{document.type}", False)
    return TaskMode.AUTO if auto else TaskMode.MANUAL


def _complete(task: Task, actor: Actor | None, now: dt.datetime) -> str:
    # Completing only queues the document: the task is done once it is in Xero
    # (the outbox settles it through post_tasks_follow).
    record = sync_record_request(document=task.document, now=now)
    status, task.message = post_task_state(record)
    return status


def register() -> None:
    task_type_register(
        TaskType(
            key=POST_TASK,
            label="Post to Xero",
            applies=_applies,
            mode_for=_mode,
            on_complete=_complete,
            action_label="Post to Xero",
        )
    )
