"""``ledgerbridge doctor`` against the real sandbox: all good, then each thing wrong in turn."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from huey import RedisHuey

from ledgerbridge import cli
from ledgerbridge.accounting.heartbeats import worker_heartbeat_beat
from ledgerbridge.doctor import doctor_report, doctor_run
from ledgerbridge.xero.models import LinkStatus, XeroConnection
from ledgerbridge.xero.webhooks import xero_webhook_handshake_record
from tests.ledgerbridge.factories import make_company

PUBLIC_URL = "https://ledgerbridge.example.com"


def failed(lines) -> list[str]:
    return [line.name for line in lines if not line.ok]


@pytest.fixture
def deployment(settings, sandbox):
    """What a correct production setup looks like, against the sandbox as Xero."""
    settings.PUBLIC_URL = PUBLIC_URL
    settings.HTTPS = True
    settings.SECRET_KEY = "an-operators-own-secret-key-" + "x" * 30
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.XERO_WEBHOOK_KEY = sandbox.webhook_key
    now = timezone.now()
    worker_heartbeat_beat(name="worker-host:101", now=now - dt.timedelta(seconds=20))
    worker_heartbeat_beat(name="worker-host:102", now=now)
    return now


@pytest.fixture
def healthy(deployment):
    xero_webhook_handshake_record(now=deployment - dt.timedelta(days=3))
    return deployment


@pytest.mark.django_db(transaction=True)
def test_a_healthy_deployment_passes_every_line_and_exits_0(
    deployment, sandbox, settings, live_server, capsys
):
    # Xero's intent-to-receive, for real: the sandbox posts signed and wrongly
    # signed empty batches to our webhook URL and wants 200 and 401.
    sandbox.control.update_app(sandbox.client_id, webhook_url=f"{live_server.url}/webhooks/xero")
    assert sandbox.control.intent_to_receive(sandbox.client_id)["passed"] is True

    assert cli.doctor([]) == 0

    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert "All checks passed." in out
    assert f"{PUBLIC_URL}/configuration/accounting/xero/callback" in out
    assert f"{PUBLIC_URL}/webhooks/xero" in out
    assert "2 alive" in out


@pytest.mark.django_db
def test_a_wrong_client_secret_fails_on_invalid_client_with_the_fix(healthy, settings):
    settings.XERO_CLIENT_SECRET = "not-the-apps-secret"

    lines = doctor_run(now=healthy)

    assert failed(lines) == ["Xero app credentials"]
    line = lines[[x.name for x in lines].index("Xero app credentials")]
    assert "invalid_client" in line.detail
    assert "LEDGERBRIDGE_XERO_CLIENT_SECRET" in line.fix
    assert "fix: Copy the client id" in doctor_report(lines)
    assert cli.doctor([]) == 1


@pytest.mark.django_db
def test_an_unknown_client_id_fails_on_invalid_client(healthy, settings):
    settings.XERO_CLIENT_ID = "NO-SUCH-APP"

    assert failed(doctor_run(now=healthy)) == ["Xero app credentials"]


def _development_secret_key(settings, now):
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY


def _no_encryption_keys(settings, now):
    settings.ENCRYPTION_KEYS = []


def _plain_http(settings, now):
    settings.PUBLIC_URL = "http://ledgerbridge.example.com"


def _migration_missing(settings, now):
    MigrationRecorder.Migration.objects.filter(app="xero", name="0008_webhook_handshake").delete()


def _queue_down(settings, now):
    settings.HUEY = RedisHuey("ledgerbridge-doctor-test", url="redis://127.0.0.1:1/10")


def _workers_silent(settings, now):
    from ledgerbridge.accounting.models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(name="worker-host:101").update(
        beat_at=now - dt.timedelta(minutes=3)
    )


def _no_workers(settings, now):
    from ledgerbridge.accounting.models import WorkerHeartbeat

    WorkerHeartbeat.objects.all().delete()


def _api_root_down(settings, now):
    settings.XERO_API_URL = "http://127.0.0.1:1"


def _no_webhook_key(settings, now):
    settings.XERO_WEBHOOK_KEY = ""


def _webhook_key_changed(settings, now):
    settings.XERO_WEBHOOK_KEY = "a-new-key-since-the-last-intent-to-receive"


def _link_needs_reauthorisation(settings, now):
    XeroConnection.objects.create(
        company=make_company("Kestrel Freight Ltd"),
        status=LinkStatus.NEEDS_REAUTHORISATION,
        last_error="Xero refused the grant: invalid_grant",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("wrong", "line"),
    [
        (_development_secret_key, "Secret key"),
        (_no_encryption_keys, "Encryption keys"),
        (_plain_http, "Public URL"),
        (_migration_missing, "Database"),
        (_queue_down, "Queue"),
        (_workers_silent, "Workers"),
        (_no_workers, "Workers"),
        (_api_root_down, "Xero roots"),
        (_no_webhook_key, "Webhook key"),
        (_webhook_key_changed, "Intent to receive"),
        (_link_needs_reauthorisation, "Xero links"),
    ],
    ids=lambda value: getattr(value, "__name__", "").strip("_") or None,
)
def test_each_thing_wrong_fails_its_line_alone_with_a_fix(healthy, settings, wrong, line):
    wrong(settings, healthy)

    lines = doctor_run(now=healthy)

    assert failed(lines) == [line]
    assert all(x.fix for x in lines if not x.ok)


@pytest.mark.django_db
def test_no_intent_to_receive_yet_fails_with_the_webhook_url_to_register(deployment):
    lines = doctor_run(now=deployment)

    assert failed(lines) == ["Intent to receive"]
    assert f"{PUBLIC_URL}/webhooks/xero" in lines[-2].fix


@pytest.mark.django_db
def test_links_needing_reauthorisation_are_listed_by_company(healthy):
    for name in ("Kestrel Freight Ltd", "Albatross Logistics Ltd"):
        XeroConnection.objects.create(
            company=make_company(name), status=LinkStatus.NEEDS_REAUTHORISATION
        )

    line = doctor_run(now=healthy)[-1]

    assert not line.ok
    assert line.detail.startswith("2 need re-authorisation: Albatross Logistics Ltd")
    assert "Kestrel Freight Ltd" in line.detail


@pytest.mark.django_db
def test_a_redis_queue_that_answers_passes(healthy, settings):
    settings.HUEY = RedisHuey("ledgerbridge-doctor-test", url="redis://127.0.0.1:6379/10")

    queue = next(line for line in doctor_run(now=healthy) if line.name == "Queue")

    assert queue.ok, queue.detail
    assert queue.detail.startswith("RedisStorage, reachable")
