"""Webhooks: intent to receive, signed batches, retries with backoff, disabling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.sandbox_server import SandboxServers
from xero_sandbox.seed import DEMO_WEBHOOK_KEY, DemoSettings
from xero_sandbox.testing import RunningSandbox, free_port_socket, running_sandbox

from .conftest import SPEC_PATH, sales_invoice

WEBHOOK_SCHEMA_PATH = SPEC_PATH.parent / "xero-webhooks.yaml"


class Receiver:
    """A webhook endpoint like the product's: checks the signature, records batches."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.mode = "verify"  # or "fail" (always 500) or "accept_all" (200 even unsigned)
        self.batches: list[dict[str, Any]] = []
        self.raw: list[tuple[bytes, str]] = []
        app = Starlette(routes=[Route("/webhooks/xero", self.receive, methods=["POST"])])
        self.sock = free_port_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/webhooks/xero"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        signature = request.headers.get("x-xero-signature", "")
        self.raw.append((body, signature))
        if self.mode == "fail":
            return Response(status_code=500)
        expected = base64.b64encode(
            hmac.new(self.key.encode(), body, hashlib.sha256).digest()
        ).decode()
        if self.mode == "verify" and not hmac.compare_digest(expected, signature):
            return Response(status_code=401)
        payload = json.loads(body)
        if payload["events"]:
            self.batches.append(payload)
        return Response(status_code=200)

    def events(self) -> list[dict[str, Any]]:
        return [event for batch in self.batches for event in batch["events"]]

    def wait_for_events(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.events()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.events()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(DEMO_WEBHOOK_KEY)
    receiver.thread.start()
    while not receiver.server.started:
        time.sleep(0.01)
    yield receiver
    receiver.server.should_exit = True
    receiver.thread.join(timeout=5)


@pytest.fixture
def hooked(receiver: Receiver, sandbox_servers: SandboxServers) -> RunningSandbox:
    """The demo app delivering to the receiver (unverified: intent to receive first)."""
    running = sandbox_servers.get()
    running.control.update_app(running.client_id, webhook_url=receiver.url)
    return running


def api_headers(server: RunningSandbox) -> dict[str, str]:
    token = server.control.mint_token()["access_token"]
    return {"Authorization": f"Bearer {token}", "xero-tenant-id": server.tenant_id}


def put_invoice(
    server: RunningSandbox, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = httpx.put(
        f"{server.base_url}/api.xro/2.0/Invoices",
        json={"Invoices": [sales_invoice(**overrides)]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["Invoices"][0]  # type: ignore[no-any-return]


def test_intent_to_receive_passes_for_a_receiver_that_checks_signatures(
    hooked: RunningSandbox, receiver: Receiver
) -> None:
    result = hooked.control.intent_to_receive(hooked.client_id)

    assert result["passed"] is True
    assert [(c["signed_correctly"], c["status"]) for c in result["checks"]] == [
        (True, 200),
        (False, 401),
        (True, 200),
        (False, 401),
    ]
    body, _ = receiver.raw[0]
    assert set(json.loads(body)) == {"events", "firstEventSequence", "lastEventSequence", "entropy"}


def test_intent_to_receive_fails_for_a_receiver_that_accepts_anything(
    hooked: RunningSandbox, receiver: Receiver
) -> None:
    receiver.mode = "accept_all"

    result = hooked.control.intent_to_receive(hooked.client_id)

    assert result["passed"] is False


def test_events_are_not_delivered_until_intent_to_receive_passes(
    hooked: RunningSandbox, receiver: Receiver
) -> None:
    receiver.mode = "accept_all"
    put_invoice(hooked, api_headers(hooked))

    hooked.control.flush_webhooks()

    assert receiver.events() == []
    assert all(not e["delivered"] for e in hooked.control.webhook_events())


def test_creating_an_invoice_delivers_signed_invoice_and_contact_events(
    hooked: RunningSandbox, receiver: Receiver
) -> None:
    invoice = put_invoice(hooked, api_headers(hooked))

    events = receiver.wait_for_events(2)

    assert {(e["eventCategory"], e["eventType"]) for e in events} == {
        ("CONTACT", "CREATE"),
        ("INVOICE", "CREATE"),
    }
    invoice_event = next(e for e in events if e["eventCategory"] == "INVOICE")
    assert invoice_event["resourceId"] == invoice["InvoiceID"]
    assert (
        invoice_event["resourceUrl"]
        == f"{hooked.base_url}/api.xro/2.0/Invoices/{invoice['InvoiceID']}"
    )
    assert invoice_event["tenantId"] == hooked.tenant_id
    assert invoice_event["tenantType"] == "ORGANISATION"


def test_batches_match_xeros_webhook_schema(hooked: RunningSandbox, receiver: Receiver) -> None:
    put_invoice(hooked, api_headers(hooked))
    receiver.wait_for_events(2)
    with WEBHOOK_SCHEMA_PATH.open() as handle:
        schema = yaml.safe_load(handle)["components"]["schemas"]["WebhookEvent"]

    for batch in receiver.batches:
        jsonschema.validate(batch, schema)
        assert batch["firstEventSequence"] <= batch["lastEventSequence"]


def test_events_arriving_together_are_batched(hooked: RunningSandbox, receiver: Receiver) -> None:
    hooked.control.intent_to_receive(hooked.client_id)
    headers = api_headers(hooked)
    httpx.put(
        f"{hooked.base_url}/api.xro/2.0/Invoices",
        json={"Invoices": [sales_invoice() for _ in range(5)]},
        headers=headers,
    )

    hooked.control.flush_webhooks()

    assert len(receiver.batches) == 1
    assert len(receiver.batches[0]["events"]) == 6  # one contact, five invoices


def test_a_payment_by_a_xero_user_fires_an_invoice_update(
    hooked: RunningSandbox, receiver: Receiver
) -> None:
    invoice = put_invoice(hooked, api_headers(hooked))
    receiver.wait_for_events(2)

    hooked.control.record_payment(hooked.tenant_id, invoice_id=invoice["InvoiceID"])
    events = receiver.wait_for_events(3)

    assert (events[-1]["eventCategory"], events[-1]["eventType"], events[-1]["resourceId"]) == (
        "INVOICE",
        "UPDATE",
        invoice["InvoiceID"],
    )


def test_failed_deliveries_are_retried_after_a_backoff(
    hooked: RunningSandbox, receiver: Receiver
) -> None:
    hooked.control.intent_to_receive(hooked.client_id)
    hooked.sandbox.clock.set(frozen=True)
    receiver.mode = "fail"
    put_invoice(hooked, api_headers(hooked))
    hooked.control.flush_webhooks()
    attempts_after_failure = len(receiver.raw)

    time.sleep(0.5)  # the worker runs, but the backoff has not passed on the frozen clock
    attempts_while_waiting = len(receiver.raw)
    receiver.mode = "verify"
    # The server's own loop may have failed once more before the flush: each failure
    # doubles the wait (10 s, 20 s, ...).
    hooked.sandbox.clock.advance(10 * 2 ** (attempts_after_failure - 1) + 1)
    events = receiver.wait_for_events(2)

    assert attempts_while_waiting == attempts_after_failure
    assert len(events) == 2


def test_a_subscription_failing_for_24_hours_is_disabled(
    hooked: RunningSandbox, receiver: Receiver
) -> None:
    hooked.control.intent_to_receive(hooked.client_id)
    hooked.sandbox.clock.set(frozen=True)
    receiver.mode = "fail"
    put_invoice(hooked, api_headers(hooked))
    hooked.control.flush_webhooks()

    hooked.sandbox.clock.advance(24 * 3600)
    hooked.control.flush_webhooks()

    app = next(a for a in hooked.control.info()["apps"] if a["client_id"] == hooked.client_id)
    assert app["webhook_status"] == "DISABLED"


def test_credit_notes_raise_creditnote_events_with_type_and_status(
    hooked: RunningSandbox, receiver: Receiver
) -> None:
    headers = api_headers(hooked)
    invoice = put_invoice(hooked, headers)
    httpx.put(
        f"{hooked.base_url}/api.xro/2.0/CreditNotes",
        json={
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"ContactID": invoice["Contact"]["ContactID"]},
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {"Description": "x", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}
                    ],
                }
            ]
        },
        headers=headers,
    )

    events = receiver.wait_for_events(3)

    credit = next(e for e in events if e["eventCategory"] == "CREDITNOTE")
    assert credit["data"] == {"Type": "ACCRECCREDIT", "Status": "AUTHORISED"}


def test_a_new_webhook_key_must_pass_intent_to_receive_again(hooked: RunningSandbox) -> None:
    hooked.control.intent_to_receive(hooked.client_id)

    app = hooked.control.update_app(hooked.client_id, webhook_key="rotated-key")

    assert app["webhook_status"] == "UNVERIFIED"


def test_the_example_in_xeros_docs_is_reproduced_by_sign() -> None:
    from xero_sandbox.webhooks import sign

    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"}'

    expected = base64.b64encode(hmac.new(b"key", body, hashlib.sha256).digest()).decode()
    assert sign("key", body) == expected


def test_receiver_path_is_configurable_per_app(receiver: Receiver) -> None:
    with running_sandbox(demo=DemoSettings(webhook_url=None)) as running:
        running.control.create_app(
            "SECOND", client_secret="s", webhook_url=receiver.url, webhook_key=DEMO_WEBHOOK_KEY
        )
        token = running.control.mint_token(client_id="SECOND")["access_token"]
        headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": running.tenant_id}
        put_invoice(running, headers)

        assert len(receiver.wait_for_events(2)) == 2
    assert Path(SPEC_PATH).exists()
