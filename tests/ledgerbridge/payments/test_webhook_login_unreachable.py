"""Xero's login service unreachable while one company's token is renewed: the webhook
run goes on for the other companies, and the one affected says why it waits."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.utils import timezone

from ledgerbridge.accounting.models import AccountingSettings
from ledgerbridge.companies.models import Role
from ledgerbridge.xero.connection import xero_tenant_choose
from ledgerbridge.xero.errors import XeroUnavailable
from ledgerbridge.xero.models import (
    LinkStatus,
    XeroConnection,
    XeroPaymentPoll,
    XeroWebhookEvent,
)
from ledgerbridge.xero.polling import xero_payments_poll
from ledgerbridge.xero.tasks import process_xero_webhooks
from tests.ledgerbridge.factories import line, make_actor, make_company, make_final_document
from tests.ledgerbridge.xero.conftest import NORTHWAY_TRACKING

from .conftest import authorise, posted, state_of

pytestmark = pytest.mark.django_db(transaction=True)

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens


def _deliver(client, running, events: list[dict]) -> None:
    body = json.dumps(
        {
            "events": events,
            "firstEventSequence": 1,
            "lastEventSequence": len(events),
            "entropy": "ABCDEFGHIJKLMNOPQRST",
        },
        separators=(",", ":"),
    ).encode()
    signature = base64.b64encode(
        hmac.new(running.webhook_key.encode(), body, hashlib.sha256).digest()
    ).decode()
    answer = client.generic(
        "POST",
        "/webhooks/xero",
        body,
        content_type="application/json",
        headers={"x-xero-signature": signature},
    )
    assert answer.status_code == 200


def _event(tenant_id: str, invoice_id: str) -> dict:
    at = timezone.now() - dt.timedelta(minutes=1)
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
        "resourceId": invoice_id,
        "eventDateUtc": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": tenant_id,
        "tenantType": "ORGANISATION",
    }


def test_an_unreachable_login_service_holds_back_only_the_company_whose_token_is_due(
    client, settings, signed_sandbox, linked
):
    org = signed_sandbox.control.create_org(
        "Pennine Cold Chain (Xero)", tracking_categories=NORTHWAY_TRACKING
    )
    other_tenant = org["tenant_id"] if "tenant_id" in org else org["OrganisationID"]
    other = make_actor(make_company("Pennine Cold Chain Ltd"), Role.SUPER_ADMIN)
    AccountingSettings.objects.create(company=other.company, package="xero_api")
    authorise(signed_sandbox, other, [other_tenant])
    # The sandbox's user has both organisations connected to the app: pick this one.
    xero_tenant_choose(actor=other, tenant_id=other_tenant)
    # Stand-in PDFs: this is about the login service; nothing renders as finalising commits.
    stuck = make_final_document(linked, lines=[line("freight")])
    goes_on = make_final_document(other, lines=[line("freight")])
    stuck_id, goes_on_id = posted(stuck).external_id, posted(goes_on).external_id
    signed_sandbox.control.record_payment(signed_sandbox.tenant_id, invoice_id=stuck_id)
    signed_sandbox.control.record_payment(other_tenant, invoice_id=goes_on_id)
    # The first company's access token is due for renewal, and the login service is down.
    XeroConnection.objects.filter(company=linked.company).update(
        access_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    settings.XERO_IDENTITY_URL = UNREACHABLE

    # Its event comes first: the run must not stop there.
    _deliver(
        client,
        signed_sandbox,
        [_event(signed_sandbox.tenant_id, stuck_id), _event(other_tenant, goes_on_id)],
    )
    process_xero_webhooks()

    assert state_of(goes_on) is not None and state_of(goes_on).status == "paid"
    assert state_of(stuck) is None or state_of(stuck).status != "paid"
    waiting = XeroWebhookEvent.objects.get(resource_id=stuck_id)
    assert waiting.processed_at is None  # left for the next run or the poll
    link = XeroConnection.objects.get(company=linked.company)
    # Still linked (nobody has to authorise again), with the reason it waits.
    assert link.status == LinkStatus.CONNECTED
    assert "identity service could not be reached" in link.last_error
    assert link.last_error_at is not None

    # The login service back: the next run reads it.
    settings.XERO_IDENTITY_URL = signed_sandbox.base_url
    process_xero_webhooks()
    assert state_of(stuck).status == "paid"


def test_a_poll_while_the_login_service_is_down_says_why_on_the_company(settings, linked):
    document = make_final_document(linked, lines=[line("freight")])
    posted(document)
    XeroConnection.objects.filter(company=linked.company).update(
        access_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    settings.XERO_IDENTITY_URL = UNREACHABLE

    with pytest.raises(XeroUnavailable, match="could not be reached to renew access"):
        xero_payments_poll(company=linked.company, now=timezone.now())

    poll = XeroPaymentPoll.objects.get(company=linked.company)
    assert "could not be reached to renew access" in poll.last_error
    assert poll.last_polled_at is None
