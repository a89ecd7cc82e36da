"""The control API: faults, call log, clock, reset, revoking a connection."""

from __future__ import annotations

import time

import httpx
import pytest
from starlette.testclient import TestClient

from xero_sandbox.seed import DEMO_TENANT_ID
from xero_sandbox.testing import RunningSandbox

from .conftest import XeroApi, create_invoice, sales_invoice


def test_an_injected_5xx_answers_once_then_clears(api: XeroApi, client: TestClient) -> None:
    client.post(
        "/sandbox/faults", json={"kind": "error", "status": 503, "path": "/Invoices", "times": 1}
    )

    failed = api.get("/Invoices")
    recovered = api.get("/Invoices")

    assert failed.status_code == 503
    assert recovered.status_code == 200


def test_an_injected_fault_does_no_work(api: XeroApi, client: TestClient) -> None:
    client.post(
        "/sandbox/faults", json={"kind": "error", "status": 500, "method": "PUT", "times": 1}
    )

    api.put("/Invoices", {"Invoices": [sales_invoice()]})

    assert api.get("/Invoices").json()["Invoices"] == []


def test_an_injected_429_carries_xeros_headers(api: XeroApi, client: TestClient) -> None:
    client.post(
        "/sandbox/faults",
        json={"kind": "rate_limit", "problem": "day", "retry_after": 3600, "times": 1},
    )

    response = api.get("/Organisation")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3600"
    assert response.headers["X-Rate-Limit-Problem"] == "day"


def test_faults_can_target_one_tenant(api: XeroApi, client: TestClient, api_for) -> None:  # type: ignore[no-untyped-def]
    other = client.post("/sandbox/orgs", json={"name": "Other"}).json()
    client.post("/sandbox/faults", json={"kind": "error", "tenant_id": other["tenant_id"]})

    assert api.get("/Organisation").status_code == 200
    assert api_for(tenant_ids=[other["tenant_id"]]).get("/Organisation").status_code == 500


def test_faults_can_be_listed_and_cleared(client: TestClient, api: XeroApi) -> None:
    client.post("/sandbox/faults", json={"kind": "error"})

    listed = client.get("/sandbox/faults").json()
    client.delete("/sandbox/faults")

    assert [f["kind"] for f in listed] == ["error"]
    assert api.get("/Organisation").status_code == 200


def test_unknown_fault_kinds_are_refused(client: TestClient) -> None:
    assert client.post("/sandbox/faults", json={"kind": "explode"}).status_code == 400


def test_call_log_records_method_path_tenant_status_and_key(
    api: XeroApi, client: TestClient
) -> None:
    api.put("/Invoices", {"Invoices": [sales_invoice()]}, headers={"Idempotency-Key": "k-1"})
    api.get("/Invoices/7c8f9a86-0000-4000-8000-000000000000")

    calls = client.get("/sandbox/calls").json()

    assert [
        (c["method"], c["path"], c["tenant_id"], c["status"], c["idempotency_key"]) for c in calls
    ] == [
        ("PUT", "/api.xro/2.0/Invoices", DEMO_TENANT_ID, 200, "k-1"),
        (
            "GET",
            "/api.xro/2.0/Invoices/7c8f9a86-0000-4000-8000-000000000000",
            DEMO_TENANT_ID,
            404,
            None,
        ),
    ]
    assert calls[0]["client_id"] == "LEDGERBRIDGE-DEMO-CLIENT"


def test_call_log_can_be_read_since_a_sequence_number(api: XeroApi, client: TestClient) -> None:
    api.get("/Organisation")
    last = client.get("/sandbox/calls").json()[-1]["seq"]
    api.get("/Accounts")

    assert [c["path"] for c in client.get("/sandbox/calls", params={"since": last}).json()] == [
        "/api.xro/2.0/Accounts"
    ]


def test_revoking_the_connection_gives_403(api: XeroApi, client: TestClient) -> None:
    client.post(f"/sandbox/orgs/{DEMO_TENANT_ID}/revoke", json={})

    assert api.get("/Organisation").status_code == 403


def test_the_clock_can_be_set_and_advanced(client: TestClient) -> None:
    client.post("/sandbox/clock", json={"now": "2027-01-01T00:00:00Z", "frozen": True})
    moved = client.post("/sandbox/clock", json={"advance_seconds": 3600}).json()

    assert moved["iso"].startswith("2027-01-01T01:00:00")


def test_reset_forgets_documents_and_restores_the_demo(api: XeroApi, client: TestClient) -> None:
    create_invoice(api)
    client.post("/sandbox/clock", json={"now": "2030-01-01T00:00:00Z", "frozen": True})

    client.post("/sandbox/reset")
    fresh_token = client.post("/sandbox/tokens", json={}).json()["access_token"]
    api.token = fresh_token

    assert api.get("/Invoices").json()["Invoices"] == []
    assert api.get("/Organisation").json()["Organisations"][0]["Name"] == "Demo Company (UK)"
    assert client.get("/sandbox/clock").json()["iso"] < "2030"


def test_voiding_as_a_xero_user(api: XeroApi, client: TestClient) -> None:
    invoice = create_invoice(api)

    client.post(f"/sandbox/orgs/{DEMO_TENANT_ID}/invoices/{invoice['InvoiceID']}/void")

    assert api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]["Status"] == "VOIDED"


def test_info_lists_credentials_for_the_demo(client: TestClient) -> None:
    info = client.get("/sandbox").json()

    assert info["apps"][0]["client_id"] == "LEDGERBRIDGE-DEMO-CLIENT"
    assert info["users"][0]["email"] == "demo@xero.sandbox"
    assert info["orgs"][0]["tenant_id"] == DEMO_TENANT_ID


def test_drop_fault_commits_then_closes_the_connection(server: RunningSandbox) -> None:
    token = server.control.mint_token()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": server.tenant_id}
    server.control.add_fault("drop", method="PUT", path="/Invoices", times=1)

    with pytest.raises(httpx.HTTPError):
        httpx.put(
            f"{server.base_url}/api.xro/2.0/Invoices",
            json={"Invoices": [sales_invoice()]},
            headers=headers,
        )

    invoices = httpx.get(f"{server.base_url}/api.xro/2.0/Invoices", headers=headers).json()[
        "Invoices"
    ]
    assert len(invoices) == 1
    assert server.control.calls()[0]["dropped"] == 1


def test_timeout_fault_holds_the_request_and_does_nothing(server: RunningSandbox) -> None:
    token = server.control.mint_token()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": server.tenant_id}
    server.control.add_fault("timeout", seconds=1.0, method="PUT", times=1)

    with pytest.raises(httpx.TimeoutException):
        httpx.put(
            f"{server.base_url}/api.xro/2.0/Invoices",
            json={"Invoices": [sales_invoice()]},
            headers=headers,
            timeout=0.3,
        )

    invoices = httpx.get(f"{server.base_url}/api.xro/2.0/Invoices", headers=headers).json()[
        "Invoices"
    ]
    assert invoices == []


def test_revoke_fault_disconnects_the_app_mid_flight(api: XeroApi, client: TestClient) -> None:
    client.post("/sandbox/faults", json={"kind": "revoke", "path": "/Invoices", "times": 1})

    assert api.get("/Organisation").status_code == 200
    assert api.get("/Invoices").status_code == 403
    assert api.get("/Organisation").status_code == 403


def test_a_retry_with_the_same_key_after_a_dropped_response_gets_the_stored_answer(
    server: RunningSandbox,
) -> None:
    token = server.control.mint_token()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "xero-tenant-id": server.tenant_id,
        "Idempotency-Key": "post-inv-7-attempt-1",
    }
    url = f"{server.base_url}/api.xro/2.0/Invoices"
    body = {"Invoices": [sales_invoice(InvoiceNumber="TMS-7")]}
    server.control.add_fault("drop", method="PUT", times=1)

    with pytest.raises(httpx.HTTPError):
        httpx.put(url, json=body, headers=headers)
    retried = httpx.put(url, json=body, headers=headers)

    assert retried.status_code == 200
    assert retried.headers["Idempotent-Replayed"] == "true"
    listed = httpx.get(url, headers=headers, params={"InvoiceNumbers": "TMS-7"}).json()["Invoices"]
    assert [i["InvoiceID"] for i in listed] == [retried.json()["Invoices"][0]["InvoiceID"]]


def test_reset_brings_a_running_server_back_as_new(server: RunningSandbox) -> None:
    """What the test suites rely on when they share one server between tests."""
    control = server.control
    other = control.create_org("Other Ltd")["tenant_id"]
    tokens = control.mint_token(tenant_ids=[server.tenant_id, other])
    control.update_app(server.client_id, webhook_url="http://127.0.0.1:9/hooks")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    created = httpx.put(
        f"{server.base_url}/api.xro/2.0/Invoices",
        json={"Invoices": [sales_invoice()]},
        headers={**headers, "xero-tenant-id": server.tenant_id},
    )
    assert created.status_code == 200, created.text
    assert control.webhook_events() and control.calls()
    control.add_fault("error", status=503)
    control.clock(now="2031-01-01T00:00:00Z", frozen=True)
    for _ in range(60):
        server.sandbox.limiter.acquire(server.client_id, server.tenant_id)

    control.reset()

    info = control.info()
    assert [org["tenant_id"] for org in info["orgs"]] == [server.tenant_id]
    assert info["orgs"][0]["connections"] == []
    assert info["apps"][0]["webhook_url"] == "http://127.0.0.1:8000/webhooks/xero"
    assert control.webhook_events() == [] and control.calls() == []
    assert control.clock()["iso"] < "2031"
    old = httpx.get(
        f"{server.base_url}/api.xro/2.0/Invoices",
        headers={**headers, "xero-tenant-id": server.tenant_id},
    )
    assert old.status_code in (401, 403)
    fresh = control.mint_token()["access_token"]
    answer = httpx.get(
        f"{server.base_url}/api.xro/2.0/Invoices",
        headers={"Authorization": f"Bearer {fresh}", "xero-tenant-id": server.tenant_id},
    )
    assert answer.status_code == 200  # no fault, a full minute's allowance
    assert answer.json()["Invoices"] == []
    assert answer.headers["X-MinLimit-Remaining"] == "59"
    assert [call["seq"] for call in control.calls()] == [1, 2]  # numbered from 1 again


def test_a_call_held_across_a_reset_leaves_nothing_behind(server: RunningSandbox) -> None:
    token = server.control.mint_token()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": server.tenant_id}
    server.control.add_fault("latency", seconds=0.5, method="PUT", times=1)
    with pytest.raises(httpx.TimeoutException):
        httpx.put(
            f"{server.base_url}/api.xro/2.0/Invoices",
            json={"Invoices": [sales_invoice()]},
            headers=headers,
            timeout=0.1,
        )

    server.control.reset()
    time.sleep(0.8)  # the held call wakes up in the new state

    fresh = server.control.mint_token()["access_token"]
    invoices = httpx.get(
        f"{server.base_url}/api.xro/2.0/Invoices",
        headers={"Authorization": f"Bearer {fresh}", "xero-tenant-id": server.tenant_id},
    )
    assert invoices.json()["Invoices"] == []
    assert [call["method"] for call in server.control.calls()] == ["GET"]
