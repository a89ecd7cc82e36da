"""``ledgerbridge bench scale`` on a small scale: the production setup posts every document."""

import os
import re
import subprocess
import sys

import pytest


@pytest.mark.postgres_only
def test_bench_scale_posts_every_document_within_xeros_limits():
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        pytest.skip("the production setup needs PostgreSQL; runs in the PostgreSQL phase")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEDGERBRIDGE_", "DATABASE_URL", "HUEY_URL", "DJANGO_"))
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledgerbridge.cli",
            "bench",
            "scale",
            "--companies",
            "4",
            "--documents",
            "120",
            "--workers",
            "2",
            "--growth",
            "2",
            "--database-url",
            database_url.rsplit("/", 1)[0] + "/ledgerbridge_bench_scale_smoke",
            "--redis-url",
            "redis://127.0.0.1:6379/11",
            "--timeout",
            "300",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "documents posted          : 480/480 (0 not posted)" in out
    assert "documents posted          : 240/240 (0 not posted)" in out  # the growth point
    assert "limits exceeded           : no" in out
    assert "429s received             : 0" in out
    # 120 documents in batches of 50: 3 posting calls, plus finding and creating contacts.
    calls_per_document = [
        float(v) for v in re.findall(r"Xero calls per document\s+: ([\d.]+)", out)
    ]
    assert calls_per_document and max(calls_per_document) <= 0.05
    assert "run time growth" in out
