"""The Xero sandbox for tests: one real server per configuration and test process,
reset through its control API before each test that asks for it.

Starting a server (a uvicorn thread, a fresh in-memory database, the demo seed)
for every test was most of what the sandbox-backed tests cost. A server is
started the first time a test asks for its configuration and stays up for the
test process (each pytest-xdist worker is a process of its own, so workers never
share one); every test then gets it back as new: ``POST /sandbox/reset`` drops
organisations, apps, users, connections, tokens, documents, webhook events and
back-off, the call log, faults, rate windows and clock changes, and seeds the
demo again.

    def test_something(sandbox_servers):
        running = sandbox_servers.get(webhook_batch_seconds=3600)

Tests that need a configuration of their own for one test only (a demo app
pointing at a receiver they start) still use ``running_sandbox(...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from xero_sandbox.testing import RunningSandbox, start_sandbox


class SandboxServers:
    """Started sandbox servers, one per configuration, handed out reset."""

    def __init__(self) -> None:
        self._running: dict[str, RunningSandbox] = {}

    def get(self, **config: Any) -> RunningSandbox:
        """The server for ``config`` (``start_sandbox``'s keyword arguments), reset."""
        key = repr(sorted(config.items()))
        running = self._running.get(key)
        if running is not None and not running._thread.is_alive():
            running.stop()
            running = None
        if running is None:
            running = self._running[key] = start_sandbox(**config)
        else:
            running.control.reset()
        return running

    def stop(self) -> None:
        for running in self._running.values():
            running.stop()
        self._running.clear()


@pytest.fixture(scope="session")
def sandbox_servers() -> Iterator[SandboxServers]:
    servers = SandboxServers()
    yield servers
    servers.stop()


def point_settings_at(settings: Any, running: RunningSandbox) -> None:
    """Django settings aimed at the sandbox's login, identity and API, as its demo app."""
    settings.XERO_LOGIN_URL = running.base_url
    settings.XERO_IDENTITY_URL = running.base_url
    settings.XERO_API_URL = running.base_url
    settings.XERO_CLIENT_ID = running.client_id
    settings.XERO_CLIENT_SECRET = running.client_secret
