"""Fixtures for payment status: a sandbox, a linked company, and the webhook receiver."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from ledgerbridge.accounting.models import PaymentState, SyncRecord, SyncStatus
from tests.ledgerbridge.xero.conftest import admin, authorise, sandbox  # noqa: F401


@pytest.fixture
def signed_sandbox(sandbox, settings):  # noqa: F811
    """The sandbox, with our webhook key set to its app's signing key."""
    settings.XERO_WEBHOOK_KEY = sandbox.webhook_key
    return sandbox


@pytest.fixture
def linked(signed_sandbox, admin):  # noqa: F811
    authorise(signed_sandbox, admin, [signed_sandbox.tenant_id])
    return admin


@pytest.fixture
def receiver(signed_sandbox, live_server) -> str:
    """Point the sandbox app's webhooks at the running test server."""
    url = f"{live_server.url}/webhooks/xero"
    signed_sandbox.control.update_app(signed_sandbox.client_id, webhook_url=url)
    return url


def wait_for(check: Callable[[], Any], *, timeout: float = 10.0, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(every)


def state_of(document) -> PaymentState | None:
    return PaymentState.objects.filter(record__document=document).first()


def posted(document) -> SyncRecord:
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED, record.message
    return record


def deliver_until(running, document, status: str, *, timeout: float = 10.0) -> PaymentState:
    """Flush the sandbox's webhooks until the document reaches ``status``."""

    def check() -> PaymentState | None:
        running.control.flush_webhooks()
        state = state_of(document)
        return state if state is not None and state.status == status else None

    result: PaymentState = wait_for(check, timeout=timeout, every=0.1)
    return result
