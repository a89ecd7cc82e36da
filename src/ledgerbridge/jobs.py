"""Background jobs' wiring: log context for every task, and each worker's heartbeat.

Every line a Huey task writes carries its name and id.
Bound before the task runs and put back after it (Huey's pre- and post-execute
hooks), so a task run inline — tests, or ``immediate`` mode inside a request —
leaves the caller's context as it found it. Huey's own "executed in" and
"Unhandled exception" lines fall inside the binding; its "Executing" line
comes before it.

Each consumer process runs a thread that renews its heartbeat row every half
minute (``ledgerbridge doctor`` reads them); a periodic task would prove only
that some worker ran it, not that each is alive.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Mapping
from contextvars import Token
from typing import Any

import structlog
from huey import Huey

log = structlog.get_logger(__name__)

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


# -- heartbeat -------------------------------------------------------------------------
_HEARTBEAT_HOOK = "ledgerbridge-heartbeat"
_heartbeat: dict[str, threading.Event] = {}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _beat_forever(name: str, stop: threading.Event) -> None:
    from django.db import close_old_connections, connection
    from django.utils import timezone

    from ledgerbridge.accounting.heartbeats import HEARTBEAT_INTERVAL, worker_heartbeat_beat

    while True:
        try:
            close_old_connections()
            worker_heartbeat_beat(name=name, now=timezone.now())
        except Exception:  # a database hiccup must not end the heartbeat for good
            log.exception("worker.heartbeat_failed", worker=name)
        finally:
            connection.close()
        if stop.wait(HEARTBEAT_INTERVAL.total_seconds()):
            return


def _heartbeat_start() -> None:
    """Once per process (the hook runs in every worker thread)."""
    name = worker_name()
    with _heartbeat_lock:
        if name in _heartbeat:
            return
        stop = _heartbeat[name] = threading.Event()
    threading.Thread(
        target=_beat_forever, args=(name, stop), name="ledgerbridge-heartbeat", daemon=True
    ).start()


def _heartbeat_stop() -> None:
    from django.db import connection

    from ledgerbridge.accounting.heartbeats import worker_heartbeat_end

    name = worker_name()
    with _heartbeat_lock:
        stop = _heartbeat.pop(name, None)
    if stop is None:
        return
    stop.set()
    try:
        worker_heartbeat_end(name=name)
    finally:
        connection.close()


_heartbeat_lock = threading.Lock()


def worker_heartbeat_register(huey: Huey) -> None:
    """Each consumer process writes a heartbeat row while it runs (see accounting/heartbeats.py)."""
    huey.on_startup(_HEARTBEAT_HOOK)(_heartbeat_start)
    huey.on_shutdown(_HEARTBEAT_HOOK)(_heartbeat_stop)
