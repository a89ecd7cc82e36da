"""Replay defence of the webhook endpoint: repeats accepted once, old events ignored."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.xero.models import XeroWebhookDelivery, XeroWebhookEvent
from ledgerbridge.xero.webhooks import REPLAYED, xero_webhook_events_process, xero_webhook_receive
from tests.ledgerbridge.factories import make_document

from .conftest import state_of
from .test_webhook_intake import _xero_invoices, delivery, event, post, sign

pytestmark = pytest.mark.django_db

KEY = "replay-test-webhook-key"


@pytest.fixture
def webhook_key(settings):
    settings.XERO_WEBHOOK_KEY = KEY
    return KEY


def test_the_same_signed_body_again_is_answered_200_and_stored_once(client, webhook_key):
    tenant = str(uuid.uuid4())
    body = delivery([event(tenant, str(uuid.uuid4())), event(tenant, str(uuid.uuid4()))])
    for _ in range(3):
        answer = post(client, body, sign(KEY, body))
        assert answer.status_code == 200 and answer.content == b""
    assert XeroWebhookEvent.objects.count() == 2
    seen = XeroWebhookDelivery.objects.get()
    assert (seen.event_count, seen.repeats) == (2, 2)


def test_a_different_delivery_of_the_same_resource_is_stored(client, webhook_key):
    tenant, resource = str(uuid.uuid4()), str(uuid.uuid4())
    now = timezone.now()
    for minutes in (5, 1):
        body = delivery([event(tenant, resource, at=now - dt.timedelta(minutes=minutes))])
        assert post(client, body, sign(KEY, body)).status_code == 200
    assert XeroWebhookEvent.objects.count() == 2


def test_events_older_than_the_window_are_recorded_and_ignored(client, webhook_key, settings):
    settings.XERO_WEBHOOK_MAX_AGE = dt.timedelta(hours=26)
    tenant = str(uuid.uuid4())
    now = timezone.now()
    old = event(tenant, str(uuid.uuid4()), at=now - dt.timedelta(hours=27))
    recent = event(tenant, str(uuid.uuid4()), at=now - dt.timedelta(hours=25))
    body = delivery([old, recent])
    assert post(client, body, sign(KEY, body)).status_code == 200
    stored = {e.resource_id: e for e in XeroWebhookEvent.objects.all()}
    ignored = stored[old["resourceId"]]
    assert ignored.processed_at is not None and ignored.outcome == REPLAYED
    assert stored[recent["resourceId"]].processed_at is None


def test_a_replayed_old_delivery_changes_nothing_though_signed(
    client, signed_sandbox, linked, django_capture_on_commit_callbacks
):
    """A captured delivery sent again days later: 200, no Xero call, no change."""
    [external_id] = _xero_invoices(signed_sandbox, 1)
    document = make_document(linked, lines=1)
    SyncRecord.objects.create(
        company=linked.company, document=document, status=SyncStatus.POSTED, external_id=external_id
    )
    signed_sandbox.control.record_payment(signed_sandbox.tenant_id, invoice_id=external_id)
    at = timezone.now() - dt.timedelta(days=3)
    body = delivery([event(signed_sandbox.tenant_id, external_id, at=at)])
    signed_sandbox.control.clear_calls()
    with django_capture_on_commit_callbacks(execute=True):
        answer = post(client, body, sign(signed_sandbox.webhook_key, body))
    assert answer.status_code == 200
    assert xero_webhook_events_process(now=timezone.now()).events == 0
    assert signed_sandbox.control.calls(tenant_id=signed_sandbox.tenant_id) == []
    assert state_of(document) is None


def test_seen_deliveries_are_forgotten_after_the_window(settings):
    settings.XERO_WEBHOOK_MAX_AGE = dt.timedelta(hours=26)
    now = timezone.now()
    tenant = str(uuid.uuid4())
    first = delivery([event(tenant, str(uuid.uuid4()), at=now)])
    xero_webhook_receive(body=first, now=now)
    later = now + dt.timedelta(hours=27)
    xero_webhook_receive(body=delivery([event(tenant, str(uuid.uuid4()), at=later)]), now=later)
    assert XeroWebhookDelivery.objects.count() == 1
    # The forgotten body, replayed, is stored again but only as ignored.
    assert xero_webhook_receive(body=first, now=later) == 1
    # (the first delivery's and the second's events wait for the worker)
    assert XeroWebhookEvent.objects.filter(processed_at__isnull=True).count() == 2
    assert XeroWebhookEvent.objects.filter(outcome=REPLAYED).count() == 1
