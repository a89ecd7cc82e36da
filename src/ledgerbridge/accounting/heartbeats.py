"""Worker heartbeats: each worker process's row, renewed while it runs.

A dead worker's row stops moving; rows that stopped long ago (a worker
replaced by another process id) are pruned so they do not stay stale for ever.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from .models import WorkerHeartbeat

HEARTBEAT_INTERVAL = dt.timedelta(seconds=30)
# A worker whose last beat is older than this is not alive.
HEARTBEAT_STALE = dt.timedelta(minutes=2)
# A row that has not moved for this long belonged to a process that is gone.
HEARTBEAT_FORGOTTEN = dt.timedelta(hours=1)


def worker_heartbeat_beat(*, name: str, now: dt.datetime) -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": now}, create_defaults={"started_at": now, "beat_at": now}
    )
    WorkerHeartbeat.objects.filter(beat_at__lt=now - HEARTBEAT_FORGOTTEN).delete()


def worker_heartbeat_end(*, name: str) -> None:
    """A worker stopping on purpose takes its row with it."""
    WorkerHeartbeat.objects.filter(name=name).delete()


def worker_heartbeats() -> QuerySet[WorkerHeartbeat]:
    return WorkerHeartbeat.objects.order_by("name")
