"""Old processed webhook events are forgotten; anything not yet processed is kept."""

import datetime as dt

import pytest
from django.utils import timezone

from ledgerbridge.xero.models import XeroWebhookEvent
from ledgerbridge.xero.webhooks import xero_webhook_events_prune

pytestmark = pytest.mark.django_db


def stored(resource_id: str, *, received_days_ago: int, processed_days_ago: int | None) -> None:
    now = timezone.now()
    XeroWebhookEvent.objects.create(
        tenant_id="t",
        resource_id=resource_id,
        category="INVOICE",
        event_type="UPDATE",
        received_at=now - dt.timedelta(days=received_days_ago),
        processed_at=(
            None if processed_days_ago is None else now - dt.timedelta(days=processed_days_ago)
        ),
    )


def test_processed_events_older_than_a_month_are_pruned_and_the_rest_kept():
    stored("old-processed", received_days_ago=40, processed_days_ago=40)
    stored("recent-processed", received_days_ago=29, processed_days_ago=29)
    stored("old-unprocessed", received_days_ago=40, processed_days_ago=None)

    assert xero_webhook_events_prune(now=timezone.now()) == 1

    left = set(XeroWebhookEvent.objects.values_list("resource_id", flat=True))
    assert left == {"recent-processed", "old-unprocessed"}
