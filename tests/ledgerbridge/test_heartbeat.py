"""Each worker process keeps a heartbeat row while it runs, and takes it away when it stops."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from ledgerbridge.accounting.heartbeats import worker_heartbeat_beat
from ledgerbridge.accounting.models import WorkerHeartbeat
from ledgerbridge.jobs import worker_name


@pytest.mark.django_db(transaction=True)
def test_a_worker_beats_from_startup_until_shutdown():
    # What Huey's consumer does in each worker thread: the startup hooks, later the shutdown hooks.
    for hook in HUEY._startup.values():
        hook()
    try:
        deadline = time.monotonic() + 10
        while not WorkerHeartbeat.objects.filter(name=worker_name()).exists():
            assert time.monotonic() < deadline, "no heartbeat within 10 s"
            time.sleep(0.05)
        beat = WorkerHeartbeat.objects.get(name=worker_name())
        assert timezone.now() - beat.beat_at < dt.timedelta(seconds=10)
    finally:
        for hook in HUEY._shutdown.values():
            hook()

    assert not WorkerHeartbeat.objects.filter(name=worker_name()).exists()


@pytest.mark.django_db
def test_a_beat_moves_the_row_and_forgets_processes_gone_an_hour():
    now = timezone.now()
    worker_heartbeat_beat(name="gone:1", now=now - dt.timedelta(hours=2))
    worker_heartbeat_beat(name="host:7", now=now - dt.timedelta(minutes=1))

    worker_heartbeat_beat(name="host:7", now=now)

    assert list(WorkerHeartbeat.objects.values_list("name", "beat_at")) == [("host:7", now)]
    assert WorkerHeartbeat.objects.get().started_at == now - dt.timedelta(minutes=1)
