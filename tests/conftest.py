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


# Django's default password hasher (PBKDF2, a million rounds) costs about 0.3 s for
# every password set or checked, and most web tests create users and log in. No test
# is about the hash's strength; the product keeps the default (a test says so).
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


# What makes a test touch the database: pytest-django lets no other test reach it.
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
        "admin_user",
        "admin_client",
        "django_user_model",
    }
)


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that use the database or are marked postgres_only "
        "(./test's PostgreSQL phase: the other tests ran in the SQLite phase and would "
        "run the same way again)",
    )


def uses_database(item: pytest.Item) -> bool:
    return bool(
        item.get_closest_marker("django_db")
        or item.get_closest_marker("postgres_only")
        or DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(config, items):
    if not config.getoption("database_tests_only"):
        return
    kept = [item for item in items if uses_database(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if not uses_database(item)])
        items[:] = kept


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
