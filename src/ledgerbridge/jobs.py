"""Log context for background jobs: every line a Huey task writes carries its name and id.

Bound before the task runs and put back after it (Huey's pre- and post-execute
hooks), so a task run inline — tests, or ``immediate`` mode inside a request —
leaves the caller's context as it found it. Huey's own "executed in" and
"Unhandled exception" lines fall inside the binding; its "Executing" line
comes before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import Token
from typing import Any

import structlog
from huey import Huey

_HOOK = "ledgerbridge-log-context"
_bound: dict[str, Mapping[str, Token[Any]]] = {}


def _task_started(task: Any) -> None:
    _bound[task.id] = structlog.contextvars.bind_contextvars(task_name=task.name, task_id=task.id)


def _task_finished(task: Any, value: Any, exception: BaseException | None) -> None:
    tokens = _bound.pop(task.id, None)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)


def job_log_context_register(huey: Huey) -> None:
    """Install the hooks on ``huey`` (once; registering again replaces them)."""
    huey.pre_execute(_HOOK)(_task_started)
    huey.post_execute(_HOOK)(_task_finished)
