"""The Prometheus alert rules shipped in deploy/prometheus: valid, each alert
firing when it should (promtool's rule unit tests), and naming only metrics
that /metrics exposes. ./test installs promtool (Debian's prometheus package)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ledgerbridge.operations.metrics import metrics_exposition

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = RULES_DIR / "ledgerbridge-rules.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (apt-get install prometheus)"
)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=60
    )


@needs_promtool
def test_promtool_check_rules_passes():
    result = promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout


@needs_promtool
def test_each_alert_fires_when_it_should_and_not_before():
    result = promtool("test", "rules", "ledgerbridge-rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_the_rules_name_only_metrics_that_metrics_exposes():
    named = set(re.findall(r"\b(ledgerbridge_\w+)", RULES.read_text()))
    # A counter with no sample yet (no 5xx, no 429 in this process) has no
    # series, so compare with the families' names as exposed by any scrape
    # plus the process counters' declared names.
    exposed = set(re.findall(r"^# TYPE (\w+)", metrics_exposition().decode(), re.MULTILINE))
    from ledgerbridge import metrics

    declared = {
        f"{m._name}_total" if m._type == "counter" else m._name
        for m in vars(metrics).values()
        if hasattr(m, "_type") and hasattr(m, "_name")
    }
    exposed |= {f"{name}_total" for name in exposed} | declared
    assert named and named <= exposed, named - exposed
