"""``python -m xero_sandbox``: the command the product's ``./run`` starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from xero_sandbox.seed import DEMO_TENANT_ID
from xero_sandbox.testing import free_port_socket

from .conftest import sales_invoice

SRC = Path(__file__).resolve().parents[2] / "src"


@contextmanager
def sandbox_process(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    sock = free_port_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
        [sys.executable, "-m", "xero_sandbox", "--port", str(port), "--no-webhooks", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "sandbox did not start"
            time.sleep(0.05)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_command_prints_the_demo_credentials() -> None:
    with sandbox_process() as (_, process):
        pass
    output = process.stdout.read() if process.stdout else ""

    assert "LEDGERBRIDGE-DEMO-CLIENT" in output
    assert "sandbox-demo-secret" in output
    assert "sandbox-demo-webhook-key" in output
    assert "demo@xero.sandbox / sandbox" in output
    assert DEMO_TENANT_ID in output


def test_the_command_takes_the_demo_app_settings_from_flags() -> None:
    with sandbox_process("--client-id", "MY-APP", "--webhook-url", "http://127.0.0.1:9/hook") as (
        base,
        _,
    ):
        info = httpx.get(f"{base}/sandbox").json()

    assert info["apps"][0]["client_id"] == "MY-APP"
    assert info["apps"][0]["webhook_url"] == "http://127.0.0.1:9/hook"


def test_a_database_file_keeps_documents_and_tokens_across_restarts(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.sqlite3")
    with sandbox_process("--db", db) as (base, _):
        token = httpx.post(f"{base}/sandbox/tokens", json={}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": DEMO_TENANT_ID}
        httpx.put(
            f"{base}/api.xro/2.0/Invoices", json={"Invoices": [sales_invoice()]}, headers=headers
        )

    with sandbox_process("--db", db) as (base, _):
        invoices = httpx.get(f"{base}/api.xro/2.0/Invoices", headers=headers).json()["Invoices"]
        orgs = httpx.get(f"{base}/sandbox/orgs").json()

    assert len(invoices) == 1
    assert len(orgs) == 1
