"""Project-wide test setup."""

from __future__ import annotations

import os

import pytest

# The Xero sandbox server fixture (``sandbox_servers``), shared by every suite.
pytest_plugins = ["tests.sandbox_server"]

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# refuses to run there unless told it is safe (it is: one thread per test).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _huey_immediate(settings):
    """Queued jobs run inline in tests unless a test starts a real consumer."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's chromium: Playwright cannot download its own browsers here."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def pytest_terminal_summary(terminalreporter):
    """Print what tests recorded with ``record_property("summary", text)``.

    Shown with or without ``-s`` and under xdist (user properties travel with
    the reports to the controller), so a test can say what it covered.
    """
    lines = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name == "summary":
                    lines.append(f"{report.nodeid}: {value}")
    if lines:
        terminalreporter.section("what the tests covered")
        for line in sorted(lines):
            terminalreporter.write_line(line)
