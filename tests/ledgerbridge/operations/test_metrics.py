"""/metrics: the token, what the database says at scrape time, the processes'
counters, and a number of series that does not grow with the companies."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from ledgerbridge.accounting.models import WorkerHeartbeat
from ledgerbridge.invoicing.pdf import render_document_pdf_bytes
from ledgerbridge.operations.metrics import ALLOWANCE_TOP, metrics_exposition
from ledgerbridge.xero.models import LinkStatus, XeroWebhookEvent
from tests.ledgerbridge.factories import make_actor, make_company, make_document

from .conftest import make_operated_company

TOKEN = "scrape-token-0123456789"
pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


@pytest.fixture
def token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_without_a_configured_token_there_is_no_metrics_endpoint(settings, client):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
def test_a_scrape_without_the_right_bearer_token_is_refused(token, client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in response.content.decode()


def test_the_token_is_never_logged(token, client, caplog):
    caplog.set_level("DEBUG")
    client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}-wrong")
    assert "request.finished" in caplog.text
    assert TOKEN not in caplog.text


def test_the_backlog_links_pause_webhooks_polls_and_workers_are_read_from_the_database(
    token, client
):
    now = timezone.now()
    make_operated_company(pending=2, posting=1, posted=3, waiting_since=now - dt.timedelta(hours=1))
    make_operated_company(failed=2, failure_message="bad", polled_at=now - dt.timedelta(minutes=20))
    make_operated_company(
        link=LinkStatus.NEEDS_REAUTHORISATION,
        pending=1,
        waiting_since=now - dt.timedelta(hours=3),
        paused_until=now + dt.timedelta(hours=2),
    )
    make_operated_company(paused_until=now - dt.timedelta(minutes=1))  # pause over
    XeroWebhookEvent.objects.create(
        tenant_id="t",
        resource_id="r1",
        category="INVOICE",
        event_type="UPDATE",
        received_at=now - dt.timedelta(minutes=7),
    )
    XeroWebhookEvent.objects.create(
        tenant_id="t",
        resource_id="r2",
        category="INVOICE",
        event_type="UPDATE",
        received_at=now - dt.timedelta(minutes=9),
        processed_at=now - dt.timedelta(minutes=8),
    )
    WorkerHeartbeat.objects.create(
        name="host:1", started_at=now, beat_at=now - dt.timedelta(seconds=10)
    )
    WorkerHeartbeat.objects.create(
        name="host:2", started_at=now, beat_at=now - dt.timedelta(minutes=5)
    )

    got = scrape(client)

    def value(name: str, **labels: str) -> float:
        return got[(name, tuple(sorted(labels.items())))]

    assert value("ledgerbridge_outbox_records", status="pending") == 3
    assert value("ledgerbridge_outbox_records", status="posting") == 1
    assert value("ledgerbridge_outbox_records", status="failed") == 2
    assert value("ledgerbridge_outbox_records", status="needs_attention") == 0
    assert value("ledgerbridge_outbox_posted_total") == 3
    assert value("ledgerbridge_outbox_failed_total") == 2
    assert value("ledgerbridge_outbox_companies_with_pending") == 2
    assert 3600 <= value("ledgerbridge_outbox_oldest_pending_age_seconds", linked="true") < 3700
    assert value("ledgerbridge_outbox_oldest_pending_age_seconds", linked="false") >= 3 * 3600
    assert value("ledgerbridge_companies_paused") == 1
    assert value("ledgerbridge_xero_links", status="connected") == 3
    assert value("ledgerbridge_xero_links", status="needs_reauthorisation") == 1
    assert value("ledgerbridge_webhook_events_received_total") == 2
    assert value("ledgerbridge_webhook_events_processed_total") == 1
    assert 7 * 60 <= value("ledgerbridge_webhook_processing_lag_seconds") < 8 * 60
    assert 20 * 60 <= value("ledgerbridge_payment_poll_lag_seconds") < 21 * 60
    assert value("ledgerbridge_workers_alive") == 1
    assert 10 <= value("ledgerbridge_worker_heartbeat_age_seconds") < 60
    assert value("ledgerbridge_xero_allowance_day_remaining_min") == 5000
    assert value("ledgerbridge_xero_app_allowance_minute_remaining") == 10000


def test_with_nothing_at_all_the_ages_are_zero_and_no_heartbeat_is_minus_one(token, client):
    got = scrape(client)
    assert got[("ledgerbridge_outbox_oldest_pending_age_seconds", (("linked", "true"),))] == 0
    assert got[("ledgerbridge_webhook_processing_lag_seconds", ())] == 0
    assert got[("ledgerbridge_workers_alive", ())] == 0
    assert got[("ledgerbridge_worker_heartbeat_age_seconds", ())] == -1


def test_pdf_renders_and_responses_are_counted_by_the_process_and_scraped(token, client):
    before = scrape(client)
    document = make_document(make_actor(make_company()))
    render_document_pdf_bytes(document)
    after = scrape(client)
    count = ("ledgerbridge_pdf_render_seconds_count", ())
    assert after[count] >= before.get(count, 0) + 1
    ok = ("ledgerbridge_http_responses_total", (("status_class", "2xx"),))
    assert after[ok] >= before.get(ok, 0) + 1  # the first scrape's own answer


def test_the_number_of_series_does_not_grow_with_500_companies(token, client):
    def add(count: int) -> None:
        now = timezone.now()
        for i in range(count):
            make_operated_company(
                pending=i % 3,
                failed=i % 2,
                posted=1,
                failure_message="bad",
                polled_at=now,
                link=LinkStatus.NEEDS_REAUTHORISATION if i % 7 == 0 else LinkStatus.CONNECTED,
                paused_until=now + dt.timedelta(hours=1) if i % 11 == 0 else None,
            )

    add(5)
    few = database_series()
    add(495)
    many = database_series()
    print(f"series at 5 companies: {few}, at 500: {many}")
    # Only the allowance gauges name organisations, and at most ALLOWANCE_TOP of them.
    assert many - few <= 2 * (ALLOWANCE_TOP - 4)
    assert many < 100
    got = scrape(client)
    per_org = [k for k in got if k[0].startswith("ledgerbridge_xero_allowance_") and k[1]]
    assert len(per_org) == 2 * ALLOWANCE_TOP


def database_series() -> int:
    text = metrics_exposition().decode()
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def test_a_scrape_sums_the_counts_of_other_processes(token, client):
    """A worker process's count reaches /metrics answered by another process."""
    name = ("ledgerbridge_http_responses_total", (("status_class", "5xx"),))
    before = scrape(client).get(name, 0)
    code = (
        "import django; django.setup(); "
        "from ledgerbridge.metrics import http_response_counted; "
        "[http_response_counted(status=503) for _ in range(3)]"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ledgerbridge.settings"}
    env["PYTHONPATH"] = os.pathsep.join([*sys.path, env.get("PYTHONPATH", "")])
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert scrape(client)[name] >= before + 3
