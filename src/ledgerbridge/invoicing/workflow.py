"""Workflow tasks on documents: a generic mechanism other parts plug task types into.

The invoicing domain does not know what a task does. A task type says whether
it applies to a final document, whether it completes itself, and what
completing it means; for instance the accounting part registers "Post to Xero".
Completing runs the type's handler in the caller's transaction, so whatever the
handler writes commits or rolls back together with the task.

A task's state changes only here: ``task_complete`` (which retries a failed
task) and ``tasks_settle`` (for whoever does the work a task started).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.errors import ApplicationError, NotFoundError

from .models import Document, Task, TaskMode, TaskStatus


@dataclass(frozen=True)
class TaskType:
    key: str
    label: str
    # Does the task belong in this final document's workflow?
    applies: Callable[[Document], bool]
    # "auto" or "manual" for this document.
    mode_for: Callable[[Document], str]
    # What completing it does, returning the task's state: DONE (or None) when
    # the work is finished, IN_PROGRESS when it goes on elsewhere (whoever does
    # it then settles the task with tasks_settle). Raise ApplicationError to refuse.
    on_complete: Callable[[Task, Actor | None, datetime], str | None]
    # Text on the button that completes it.
    action_label: str = "Complete"
    # What retrying a failed task means, when it is not completing it again: the
    # type's own retry, which settles the task through tasks_settle (the
    # "Post to Xero" task's is the document's one retry). Raise ApplicationError
    # to refuse.
    on_retry: Callable[[Task, Actor, datetime], None] | None = None


_registry: dict[str, TaskType] = {}


def task_type_register(task_type: TaskType) -> None:
    _registry[task_type.key] = task_type


def task_type_unregister(key: str) -> None:
    _registry.pop(key, None)


def task_type_get(key: str) -> TaskType | None:
    return _registry.get(key)


def task_types() -> list[TaskType]:
    return list(_registry.values())


def tasks_create_for_final_document(*, document: Document, now: datetime) -> list[Task]:
    """Add every applicable task to a document that has just become final."""
    created = []
    for task_type in task_types():
        if not task_type.applies(document):
            continue
        task, _ = Task.objects.get_or_create(
            document=document,
            type=task_type.key,
            defaults={"mode": task_type.mode_for(document)},
        )
        created.append(task)
    for task in created:
        if task.mode == TaskMode.AUTO and task.status == TaskStatus.OPEN:
            _complete(task, actor=None, now=now)
    return created


def _complete(task: Task, *, actor: Actor | None, now: datetime) -> Task:
    task_type = task_type_get(task.type)
    if task_type is None:
        raise ApplicationError(f"Task type {task.type!r} is not available.")
    task.status = task_type.on_complete(task, actor, now) or TaskStatus.DONE
    task.completed_at = now
    task.completed_by = actor.user if actor else None
    task.save(update_fields=["status", "completed_at", "completed_by", "message", "updated_at"])
    return task


def _retry(task: Task, *, actor: Actor, now: datetime) -> Task:
    task_type = task_type_get(task.type)
    if task_type is None or task_type.on_retry is None:
        return _complete(task, actor=actor, now=now)
    task_type.on_retry(task, actor, now)
    task.refresh_from_db()
    return task


def task_complete(*, actor: Actor, task_id: int, now: datetime | None = None) -> Task:
    """A user completes an open task of a document of their company, or retries a
    failed one (the type's retry when it has one, else completing it again)."""
    require(actor, Permission.WORK_DOCUMENTS)
    now = now or timezone.now()
    with transaction.atomic():
        task = (
            Task.objects.select_for_update()
            .filter(document__company=actor.company, pk=task_id, hidden=False)
            .first()
        )
        if task is None:
            raise NotFoundError("No such task.")
        if task.status == TaskStatus.DONE:
            raise ApplicationError("This task is already done.")
        if task.status == TaskStatus.IN_PROGRESS:
            raise ApplicationError(f"This task is already in progress: {task.message}".strip())
        if task.status == TaskStatus.FAILED:
            return _retry(task, actor=actor, now=now)
        return _complete(task, actor=actor, now=now)


def tasks_settle(
    *, document_ids: Iterable[int] | QuerySet[Any], task_type_key: str, status: str, message: str
) -> int:
    """Set the state of a type's tasks on these documents, once the work they started
    has an outcome (done, failed with the reason, or still in progress)."""
    if status not in TaskStatus.values:
        raise ApplicationError(f"Unknown task state {status!r}.")
    tasks = Task.objects.filter(document_id__in=document_ids, type=task_type_key)
    now = timezone.now()
    if status != TaskStatus.DONE:
        return tasks.update(status=status, message=message, updated_at=now)
    # A task is done when its work is: a document finalised weeks before the
    # company linked Xero is posted (and its task done) now, not when it was started.
    already = tasks.filter(status=TaskStatus.DONE).update(message=message, updated_at=now)
    return already + tasks.exclude(status=TaskStatus.DONE).update(
        status=status, message=message, updated_at=now, completed_at=now
    )


def tasks_refresh_visibility(*, company_id: int, task_type_key: str) -> int:
    """Hide or show a type's tasks when what it applies to changes; history is kept."""
    task_type = task_type_get(task_type_key)
    changed = 0
    for task in Task.objects.filter(
        document__company_id=company_id, type=task_type_key
    ).select_related("document"):
        hidden = task_type is None or not task_type.applies(task.document)
        if task.hidden != hidden:
            task.hidden = hidden
            task.save(update_fields=["hidden", "updated_at"])
            changed += 1
    return changed


def document_tasks(*, document: Document) -> list[Task]:
    return list(document.tasks.filter(hidden=False))
