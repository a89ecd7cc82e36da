"""Fixtures for payment status: a sandbox, a linked company, and the webhook receiver."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from ledgerbridge.accounting.models import PaymentState, SyncRecord, SyncStatus
from tests.ledgerbridge.xero.conftest import admin, authorise  # noqa: F401
from tests.sandbox_server import point_settings_at


@pytest.fixture
def signed_sandbox(settings, sandbox_servers):
    """A sandbox that delivers webhooks only when flushed, signed with our key.

    The test server shares the test's SQLite connection, so deliveries must
    not arrive while the test itself uses the database: the tests flush.
    """
    running = sandbox_servers.get(webhook_batch_seconds=3600)
    point_settings_at(settings, running)
    settings.XERO_WEBHOOK_KEY = running.webhook_key
    return running


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


def wait_for(check: Callable[[], Any], *, timeout: float = 20.0, every: float = 0.05) -> Any:
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


def deliver_until(running, document, status: str, *, timeout: float = 20.0) -> PaymentState:
    """Flush the sandbox's webhooks until the document reaches ``status``.

    Events that arrived while their document was still being posted wait for a
    scheduled re-run, which the test queue does not keep: run it here.
    """
    from ledgerbridge.xero.tasks import process_xero_webhooks

    def check() -> PaymentState | None:
        running.control.flush_webhooks()
        process_xero_webhooks()
        state = state_of(document)
        return state if state is not None and state.status == status else None

    try:
        result: PaymentState = wait_for(check, timeout=timeout, every=0.1)
    except AssertionError:
        from ledgerbridge.xero.models import XeroWebhookEvent

        record = SyncRecord.objects.get(document=document)
        raise AssertionError(
            f"{status} not reached: state={state_of(document)!r} record={record.status} "
            f"alloc={record.allocation_status} {record.allocation_message!r} events="
            f"{list(XeroWebhookEvent.objects.values_list('category', 'resource_id', 'outcome'))} "
            f"ext={record.external_id}"
        ) from None
    return result
