"""``ledgerbridge doctor`` as an operator runs it, where the database cannot be reached."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def test_an_unreachable_database_fails_its_line_and_the_lines_that_need_it(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledgerbridge.settings",
        "LEDGERBRIDGE_VAR_DIR": str(tmp_path),
        # Nothing listens on port 1.
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/ledgerbridge",
        "HUEY_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "LEDGERBRIDGE_XERO_LOGIN_URL": "http://127.0.0.1:9",
        "LEDGERBRIDGE_XERO_IDENTITY_URL": "http://127.0.0.1:9",
        "LEDGERBRIDGE_XERO_API_URL": "http://127.0.0.1:9",
        "LEDGERBRIDGE_XERO_WEBHOOK_KEY": "a-key",
    }
    run = subprocess.run(
        [sys.executable, "-m", "ledgerbridge.cli", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 1
    out = run.stdout
    assert re.search(r"^\[FAIL\] Database +cannot be reached: OperationalError", out, re.M), out
    assert "fix: Check DATABASE_URL" in out
    for name in ("Workers", "Webhook key", "Xero links"):
        assert re.search(rf"^\[FAIL\] {name} +not checked: the database answered", out, re.M), out
    assert "[ok]   Webhook key" not in out  # a check's lines come whole or not at all
    assert re.search(r"^\[ok\] +Queue +SqliteStorage, reachable", out, re.M), out
