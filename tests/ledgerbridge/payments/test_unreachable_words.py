"""Xero out of reach is said in words a person reads ("the connection failed", "it did
not answer in time"), never with the HTTP library's exception name ("MaxRetryError",
"ConnectError"), which the demo showed on a failed reconciliation."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import urllib3
from django.utils import timezone

from ledgerbridge.xero.errors import XeroUnavailable, unreachable_words
from ledgerbridge.xero.models import XeroConnection, XeroPaymentPoll
from ledgerbridge.xero.polling import xero_payments_poll
from tests.ledgerbridge.factories import line, make_final_document

from .conftest import posted
from .test_webhook_login_unreachable import UNREACHABLE

REFUSED = urllib3.exceptions.NewConnectionError(None, "Connection refused")
SLOW = urllib3.exceptions.ReadTimeoutError(None, "/api.xro/2.0/Invoices", "Read timed out.")


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            urllib3.exceptions.MaxRetryError(None, "/Invoices", reason=REFUSED),
            "the connection failed",
        ),
        (
            urllib3.exceptions.MaxRetryError(None, "/Invoices", reason=SLOW),
            "it did not answer in time",
        ),
        (SLOW, "it did not answer in time"),
        (ConnectionResetError(), "the connection failed"),
        (TimeoutError(), "it did not answer in time"),
        (httpx.ConnectError("refused"), "the connection failed"),
        (httpx.ReadTimeout("slow"), "it did not answer in time"),
    ],
)
def test_why_xero_gave_no_answer_is_said_in_words(error, words):
    assert unreachable_words(error) == words


@pytest.mark.django_db(transaction=True)
def test_the_login_service_out_of_reach_is_said_without_a_library_name(settings, linked):
    posted(make_final_document(linked, lines=[line("freight")]))
    XeroConnection.objects.filter(company=linked.company).update(
        access_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    settings.XERO_IDENTITY_URL = UNREACHABLE
    with pytest.raises(XeroUnavailable):
        xero_payments_poll(company=linked.company, now=timezone.now())
    error = XeroPaymentPoll.objects.get(company=linked.company).last_error
    assert "could not be reached: the connection failed." in error
    assert "Error)" not in error
