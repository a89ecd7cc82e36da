"""The fault suite's short run: real workers, Redis and PostgreSQL under faults.

``ledgerbridge bench faults --short`` (as ``python -m ledgerbridge.bench.faults``)
in a subprocess, which sets up Django with its own database, queue and
sandbox: workers SIGKILLed mid-batch, Redis killed and
restarted, PostgreSQL connections terminated, Xero answering 5xx and 429,
dropping answers after committing, and every token expiring while processes
race to refresh it. It must end with every document in Xero exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.redis,
    # ./test runs tests/ledgerbridge twice (SQLite, then PostgreSQL); once is enough.
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgres"),
        reason="runs the production setup: only in the PostgreSQL phase",
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


@pytest.fixture
def own_database():
    """Beside pytest-django's test database, and unique: two ./test runs may overlap."""
    name = f"ledgerbridge_faults_test_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(DATABASE_URL)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_short_fault_run_leaves_every_document_in_xero_exactly_once(own_database):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledgerbridge.bench.faults",
            "--short",
            "--json",
            "--database-url",
            own_database,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("FAULTS-JSON ")]
    assert lines, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(lines[-1].removeprefix("FAULTS-JSON "))
    summary = run.stdout[-4000:]

    assert result["duplicates"] == 0, summary
    assert result["lost"] == 0, summary
    assert result["wrong_state"] == 0, summary
    assert result["stuck_posting"] == 0, summary
    assert result["links_not_connected"] == 0, summary
    # Every record final or retryable; after the drain, all of them in Xero.
    assert result["drained"], summary
    assert result["in_xero_once"] == result["documents"] > 0, summary
    # The faults really happened.
    assert result["kills"] > 0 and result["redis_restarts"] > 0, summary
    assert result["pg_terminated"] > 0 and result["token_expiries"] > 0, summary
    assert result["http_5xx"] > 0 and result["http_429"] > 0 and result["dropped"] > 0, summary
    assert run.returncode == 0, summary
