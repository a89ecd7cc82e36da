"""Each worker process keeps a heartbeat row while it runs, and takes it away when it stops."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import sqlite3
import subprocess
import sys
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


def test_doctor_sees_a_real_worker_alive_and_not_after_it_stopped(tmp_path):
    """A Huey consumer process and ``ledgerbridge doctor`` as an operator runs them."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledgerbridge.settings",
        "LEDGERBRIDGE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "HUEY_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        # Nothing listens there: the Xero lines fail fast, without the internet.
        "LEDGERBRIDGE_XERO_LOGIN_URL": "http://127.0.0.1:9",
        "LEDGERBRIDGE_XERO_IDENTITY_URL": "http://127.0.0.1:9",
        "LEDGERBRIDGE_XERO_API_URL": "http://127.0.0.1:9",
        "LEDGERBRIDGE_LOG_LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "ledgerbridge.cli"]
    subprocess.run([*cli, "migrate", "--no-input", "-v", "0"], env=env, check=True)
    worker = subprocess.Popen([*cli, "run_huey", "--workers", "1", "--no-periodic"], env=env)
    try:
        deadline = time.monotonic() + 60
        while not _heartbeat_rows(tmp_path / "db.sqlite3"):
            assert worker.poll() is None, "the worker ended"
            assert time.monotonic() < deadline, "no heartbeat within 60 s"
            time.sleep(0.2)
        alive = subprocess.run([*cli, "doctor"], env=env, capture_output=True, text=True)
    finally:
        worker.send_signal(signal.SIGINT)  # Huey's graceful stop
        worker.wait(timeout=30)

    assert alive.returncode == 1  # plain http, development keys, no Xero
    assert re.search(r"^\[ok\] +Workers +1 alive", alive.stdout, re.M), alive.stdout
    assert _heartbeat_rows(tmp_path / "db.sqlite3") == []
    stopped = subprocess.run([*cli, "doctor"], env=env, capture_output=True, text=True)
    assert re.search(r"^\[FAIL\] Workers +no worker has written a heartbeat", stopped.stdout, re.M)
    assert "fix: Start the workers" in stopped.stdout


def _heartbeat_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT name FROM accounting_workerheartbeat").fetchall()
