"""Secrets never reach the logs: a whole authorise-and-post run, every log line read."""

from __future__ import annotations

import logging

import pytest

from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.xero.models import XeroConnection
from tests.ledgerbridge.factories import make_document

from .conftest import authorise


@pytest.mark.django_db
def test_no_token_or_client_secret_appears_in_any_log_line(
    sandbox, admin, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    link = authorise(sandbox, admin, [sandbox.tenant_id])
    secrets = {link.access_token, link.refresh_token, sandbox.client_secret}
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(admin, finalise=True)
    assert SyncRecord.objects.get(document=document).status == SyncStatus.POSTED
    link = XeroConnection.objects.get(pk=link.pk)
    secrets |= {link.access_token, link.refresh_token}
    text = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert caplog.records  # the run did log
    for secret in secrets:
        assert secret and secret not in text
