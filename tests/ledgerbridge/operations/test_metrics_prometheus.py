"""A real Prometheus (Debian's package) on loopback scrapes a running
LedgerBridge with the bearer token and evaluates the shipped rules until one
fires: the scrape config of the README and the rules file work together."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from ..test_alert_rules import RULES
from .conftest import make_operated_company

PROMETHEUS = shutil.which("prometheus")
TOKEN = "prometheus-scrape-token-42"

pytestmark = [
    pytest.mark.skipif(
        PROMETHEUS is None, reason="prometheus not installed (apt-get install prometheus)"
    ),
    pytest.mark.django_db(transaction=True),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last})")


def test_prometheus_scrapes_ledgerbridge_and_fires_the_paused_company_alert(
    settings, live_server, tmp_path: Path
):
    settings.METRICS_TOKEN = TOKEN
    make_operated_company(paused_until=timezone.now() + dt.timedelta(hours=3))
    (tmp_path / "token").write_text(TOKEN)
    target = live_server.url.removeprefix("http://")
    (tmp_path / "prometheus.yml").write_text(
        f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["{RULES}"]
scrape_configs:
  - job_name: ledgerbridge
    metrics_path: /metrics
    authorization: {{credentials_file: "{tmp_path / "token"}"}}
    static_configs: [{{targets: ["{target}"]}}]
"""
    )
    port = free_port()
    process = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("w"),
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    try:

        def target_up():
            try:
                targets = httpx.get(f"{api}/targets", timeout=5).json()["data"]["activeTargets"]
            except httpx.HTTPError:
                return None
            return [t for t in targets if t["health"] == "up"]

        wait_for("the scrape succeeds", target_up)

        def firing():
            alerts = httpx.get(f"{api}/alerts", timeout=5).json()["data"]["alerts"]
            return [
                a
                for a in alerts
                if a["labels"]["alertname"] == "LedgerBridgeCompanyPausedByDailyLimit"
                and a["state"] == "firing"
            ]

        (alert,) = wait_for("the paused-company alert fires", firing)
        assert alert["annotations"]["summary"].startswith("1 company(ies) paused")
        # The value Prometheus stored is the one the database gave at the scrape.
        query = httpx.get(
            f"{api}/query", params={"query": "ledgerbridge_companies_paused"}, timeout=5
        ).json()["data"]["result"]
        assert [r["value"][1] for r in query] == ["1"]
    finally:
        process.terminate()
        process.wait(timeout=30)
