"""``ledgerbridge up`` (what ./run starts): demo, sandbox, web and worker, stopped by Ctrl-C."""

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from ledgerbridge.processes import free_port, postgres_database_ensure


def start_up(tmp_path, *options: str, **env_vars: str) -> tuple[subprocess.Popen[str], int, int]:
    """``ledgerbridge up`` on free ports in a session of its own, with none of this
    test run's settings; returns the process and its web and sandbox ports."""
    web, sandbox = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEDGERBRIDGE_", "DATABASE_URL", "HUEY_URL", "DJANGO_"))
    }
    env.update(LEDGERBRIDGE_VAR_DIR=str(tmp_path), **env_vars)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledgerbridge.cli",
            "up",
            *options,
            "--port",
            str(web),
            "--sandbox-port",
            str(sandbox),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return process, web, sandbox


def still_running(session: int) -> list[str]:
    """Processes left in ``up``'s session. A zombie has exited and is not counted: a
    container whose PID 1 does not reap orphans keeps those (e.g. the ``gcc`` that
    ctypes runs to find a library, killed with its worker)."""
    found = subprocess.run(["pgrep", "-a", "-s", str(session)], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if not line.endswith("<defunct>")]


def wait_for(url: str, deadline: float) -> httpx.Response:
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_up_serves_the_demo_and_stops_everything_on_ctrl_c(tmp_path):
    process, web, sandbox = start_up(tmp_path)
    try:
        base = f"http://127.0.0.1:{web}"
        login = wait_for(f"{base}/login/", time.monotonic() + 120)
        assert login.status_code == 200
        assert httpx.get(f"{base}/static/web/app.css").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{sandbox}/health").status_code == 200
        with httpx.Client(base_url=base, follow_redirects=True) as browser:
            form = browser.get("/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
            page = browser.post(
                "/login/",
                data={
                    "username": "admin",
                    "password": "admin-demo-pass",
                    "csrfmiddlewaretoken": token,
                },
            )
            assert page.status_code == 200
            assert "Northway Haulage Ltd" in page.text
            assert "INV-2026-" in page.text
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "admin / admin-demo-pass" in output
    assert "Stopped." in output
    # nothing of the session is left running
    assert still_running(process.pid) == []


@pytest.mark.postgres_only
def test_up_production_like_runs_on_postgresql_and_redis_with_several_workers(tmp_path):
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        pytest.skip("production-like needs PostgreSQL; runs in the PostgreSQL phase")

    own_database = database_url.rsplit("/", 1)[0] + "/ledgerbridge_up_production_like"
    postgres_database_ensure(own_database, fresh=True)
    process, web, _sandbox = start_up(
        tmp_path,
        "--production-like",
        "--workers",
        "3",
        DATABASE_URL=own_database,
        HUEY_URL="redis://127.0.0.1:6379/10",
    )
    try:
        health = wait_for(f"http://127.0.0.1:{web}/health", time.monotonic() + 180)
        assert health.status_code == 200
        assert health.json()["database"] == "ok"
        # Children of up only: a worker's own short-lived fork (ctypes running gcc
        # to find a library) carries the same command line until it execs.
        workers = subprocess.run(
            ["pgrep", "-P", str(process.pid), "-f", "run_huey"], capture_output=True, text=True
        )
        assert len(workers.stdout.split()) == 3
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "3 worker processes" in output
    assert "ledgerbridge_up_production_like" in output
    # JSON logs, as in production
    assert any(line.startswith('{"') for line in output.splitlines())
    assert still_running(process.pid) == []
