"""The webhook endpoint: signatures, Xero's handshake, storms, strangers and duplicates."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest
from django.utils import timezone

from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.xero.models import XeroWebhookEvent
from ledgerbridge.xero.webhooks import xero_webhook_events_process
from tests.ledgerbridge.factories import make_document

from .conftest import state_of


def sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def event(
    tenant_id: str, resource_id: str, category: str = "INVOICE", *, at: dt.datetime | None = None
) -> dict:
    at = at or timezone.now() - dt.timedelta(minutes=1)
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource_id}",
        "resourceId": resource_id,
        # Xero's format: UTC, milliseconds, no offset.
        "eventDateUtc": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "eventType": "UPDATE",
        "eventCategory": category,
        "tenantId": tenant_id,
        "tenantType": "ORGANISATION",
    }


def delivery(events: list[dict]) -> bytes:
    payload = {
        "events": events,
        "firstEventSequence": 1,
        "lastEventSequence": max(1, len(events)),
        "entropy": "ABCDEFGHIJKLMNOPQRST",
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def post(client, body: bytes, signature: str):
    return client.generic(
        "POST",
        "/webhooks/xero",
        body,
        content_type="application/json",
        headers={"x-xero-signature": signature},
    )


@pytest.mark.django_db
def test_a_wrongly_signed_delivery_gets_401_and_nothing_is_stored(client, signed_sandbox):
    body = delivery([event(signed_sandbox.tenant_id, str(uuid.uuid4()))])
    answer = post(client, body, sign("not-the-key", body))
    assert answer.status_code == 401 and answer.content == b""
    assert post(client, body, "").status_code == 401
    assert not XeroWebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_correctly_signed_delivery_is_stored_and_answered_200_empty(client, signed_sandbox):
    body = delivery([event(signed_sandbox.tenant_id, str(uuid.uuid4()))])
    answer = post(client, body, sign(signed_sandbox.webhook_key, body))
    assert answer.status_code == 200 and answer.content == b""
    assert XeroWebhookEvent.objects.filter(processed_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_xeros_intent_to_receive_handshake_passes(signed_sandbox, receiver):
    result = signed_sandbox.control.intent_to_receive(signed_sandbox.client_id)
    assert result["passed"], result
    assert not XeroWebhookEvent.objects.exists()


def _xero_invoices(sandbox, count: int) -> list[str]:
    """Invoices made in Xero directly (50 a request), standing for ones we posted."""
    token = sandbox.control.mint_token(tenant_ids=[sandbox.tenant_id])["access_token"]
    ids: list[str] = []
    for start in range(0, count, 50):
        items = [
            {
                "Type": "ACCREC",
                "Contact": {"Name": "Storm Customer Ltd"},
                "Date": "2026-11-02",
                "DueDate": "2026-12-02",
                "Status": "AUTHORISED",
                "LineItems": [
                    {
                        "Description": "Freight",
                        "Quantity": 1,
                        "UnitAmount": 100,
                        "AccountCode": "200",
                    }
                ],
            }
            for _ in range(start, min(count, start + 50))
        ]
        answer = httpx.put(
            f"{sandbox.base_url}/api.xro/2.0/Invoices",
            json={"Invoices": items},
            headers={
                "Authorization": f"Bearer {token}",
                "xero-tenant-id": sandbox.tenant_id,
                "Accept": "application/json",
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        ids += [i["InvoiceID"] for i in answer.json()["Invoices"]]
    return ids


@pytest.mark.django_db
def test_a_storm_of_1000_events_is_accepted_fast_and_read_with_few_xero_calls(
    client, signed_sandbox, linked, django_capture_on_commit_callbacks
):
    ids = _xero_invoices(signed_sandbox, 150)
    documents = []
    for external_id in ids:
        document = make_document(linked, lines=1)
        SyncRecord.objects.create(
            company=linked.company,
            document=document,
            status=SyncStatus.POSTED,
            external_id=external_id,
        )
        documents.append(document)
    for external_id in ids[:10]:
        signed_sandbox.control.record_payment(signed_sandbox.tenant_id, invoice_id=external_id)
    # 6 events for each of ours (duplicates, any order), 50 for invoices we never
    # posted, 50 for an organisation we do not know: 1,000 in 10 deliveries of 100.
    events = [event(signed_sandbox.tenant_id, i) for i in ids * 6]
    events += [event(signed_sandbox.tenant_id, str(uuid.uuid4())) for _ in range(50)]
    events += [event(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(50)]
    assert len(events) == 1000
    events.reverse()
    slowest = 0.0
    with django_capture_on_commit_callbacks(execute=False):
        for start in range(0, 1000, 100):
            body = delivery(events[start : start + 100])
            began = time.monotonic()
            answer = post(client, body, sign(signed_sandbox.webhook_key, body))
            slowest = max(slowest, time.monotonic() - began)
            assert answer.status_code == 200
    assert slowest < 5.0
    assert XeroWebhookEvent.objects.count() == 1000
    signed_sandbox.control.clear_calls()
    xero_webhook_events_process(now=timezone.now())
    calls = signed_sandbox.control.calls(tenant_id=signed_sandbox.tenant_id)
    assert 0 < len(calls) <= 15
    assert not XeroWebhookEvent.objects.filter(processed_at__isnull=True).exists()
    assert {state_of(d).status for d in documents[:10]} == {"paid"}
    assert {state_of(d).status for d in documents[10:]} == {"unpaid"}
    outcomes = set(XeroWebhookEvent.objects.values_list("outcome", flat=True))
    assert {"checked", "not a document we posted", "unknown organisation"} == outcomes


@pytest.mark.django_db
def test_events_again_or_out_of_order_change_nothing_more(
    client, signed_sandbox, linked, django_capture_on_commit_callbacks
):
    [external_id] = _xero_invoices(signed_sandbox, 1)
    document = make_document(linked, lines=1)
    SyncRecord.objects.create(
        company=linked.company,
        document=document,
        status=SyncStatus.POSTED,
        external_id=external_id,
    )
    signed_sandbox.control.record_payment(signed_sandbox.tenant_id, invoice_id=external_id)
    body = delivery([event(signed_sandbox.tenant_id, external_id)])
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            post(client, body, sign(signed_sandbox.webhook_key, body))
    state = state_of(document)
    assert state.status == "paid"
    assert state.events.count() == 1
