"""What a payment change says in the document's history: amounts as money with currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ledgerbridge.accounting.models import PaymentEvent, SyncRecord, SyncStatus
from ledgerbridge.accounting.payments import RemoteDocumentState, payment_state_apply
from tests.ledgerbridge.factories import make_actor, make_company, make_document

pytestmark = pytest.mark.django_db


def test_a_payment_change_reads_amounts_as_money_with_currency():
    actor = make_actor(make_company())
    document = make_document(actor, finalise=True, currency="EUR")
    record = SyncRecord.objects.create(
        company=actor.company, document=document, status=SyncStatus.POSTED, external_id="x-1"
    )
    remote = RemoteDocumentState(
        external_id="x-1",
        status="partly_paid",
        total=Decimal("1240.80"),
        amount_paid=Decimal("1000.00"),
        amount_credited=Decimal("0.00"),
        amount_due=Decimal("240.80"),
    )
    now = timezone.make_aware(dt.datetime(2026, 11, 20, 9, 0))
    assert payment_state_apply(record=record, remote=remote, source="poll", now=now)
    event = PaymentEvent.objects.get(state__record=record)
    assert event.message == "Partly paid, paid 1,000.00 EUR, credited 0.00 EUR, due 240.80 EUR"
