"""Xero calls and token refreshes are counted by the process that makes them,
and /metrics reads every process's counts (prometheus-client's multiprocess files)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ledgerbridge.operations.metrics import metrics_exposition
from ledgerbridge.xero import connection
from ledgerbridge.xero.client import XeroClient
from ledgerbridge.xero.errors import XeroAuthRejected

from .conftest import authorise

pytestmark = pytest.mark.django_db


def counts(name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(metrics_exposition().decode())
        for sample in family.samples
        if sample.name == name
    }


def test_xero_calls_are_counted_by_operation_and_status(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    ok = (("operation", "get_organisations"), ("status", "200"))
    before = counts("ledgerbridge_xero_calls_total")
    client = XeroClient(admin.company)
    client.call(client.api.get_organisations)
    client.call(client.api.get_organisations)
    after = counts("ledgerbridge_xero_calls_total")
    assert after[ok] >= before.get(ok, 0) + 2

    sandbox.control.revoke(sandbox.tenant_id)
    with pytest.raises(XeroAuthRejected) as refused:
        client = XeroClient(admin.company)
        client.call(client.api.get_organisations)
    status = (("operation", "get_organisations"), ("status", str(refused.value.status)))
    assert counts("ledgerbridge_xero_calls_total")[status] >= after.get(status, 0) + 1


def test_token_refreshes_are_counted_by_outcome(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    ok = (("outcome", "ok"),)
    before = counts("ledgerbridge_xero_token_refreshes_total").get(ok, 0)
    connection.xero_credentials(company=admin.company, force_refresh=True)
    assert counts("ledgerbridge_xero_token_refreshes_total")[ok] >= before + 1
