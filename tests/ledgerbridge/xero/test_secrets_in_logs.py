"""Secrets never reach the logs: a whole authorise-and-post run, every log line read."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.companies.models import Role
from ledgerbridge.processes import free_port, wait_until, web_argv
from ledgerbridge.xero.models import XeroConnection
from tests.ledgerbridge.factories import make_document, make_user

from .conftest import authorise, consent


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


CALLBACK = "/configuration/accounting/xero/callback"
SUPER_ADMIN = ("sam", "pallet-jack-77")


def authorise_as_a_browser(base_url: str, sandbox) -> dict[str, str]:
    """Log in, Authorise API, Xero's consent, the callback: the callback's query
    (code and state). The callback carries the consent page's full address as
    Referer, as a browser with a lax referrer policy would send it."""
    sandbox.control.update_app(sandbox.client_id, redirect_uris=[f"{base_url}{CALLBACK}"])
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        browser.get("/login/")
        username, password = SUPER_ADMIN
        login = browser.post(
            "/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
        )
        assert login.status_code == 302, login.text
        start = browser.post(
            "/configuration/accounting/xero/authorise",
            data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        )
        assert start.status_code == 302, start.text
        authorize_url = start.headers["location"]
        query = consent(
            sandbox,
            authorize_url,
            tenant_ids=[sandbox.tenant_id],
            redirect_uri=f"{base_url}{CALLBACK}",
        )
        done = browser.get(
            f"{CALLBACK}?{urlencode(query)}",
            headers={"Referer": authorize_url},
            follow_redirects=True,
        )
        assert "Connected to Demo Company (UK)." in done.text
    return query


@pytest.mark.django_db(transaction=True)
def test_the_oauth_code_and_state_reach_no_line_of_the_apps_logs(
    sandbox, admin, live_server, settings
):
    settings.PUBLIC_URL = live_server.url
    make_user(admin.company, Role.SUPER_ADMIN, username=SUPER_ADMIN[0], password=SUPER_ADMIN[1])
    # Every line of the app (the live server's thread) as the configured handler
    # renders it, debug lines included; not the test's own HTTP clients' lines.
    root = logging.getLogger()
    output = io.StringIO()
    capture = logging.StreamHandler(output)
    capture.setFormatter(root.handlers[0].formatter)
    test_thread = threading.get_ident()
    capture.addFilter(lambda record: record.thread != test_thread)
    previous = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        query = authorise_as_a_browser(live_server.url, sandbox)
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)
    text = output.getvalue()
    assert CALLBACK in text  # the callback request was logged
    assert query["code"] not in text
    assert query["state"] not in text


SEED = """
import django
django.setup()
from ledgerbridge.accounting.models import AccountingSettings
from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import make_company, make_user
company = make_company("Northway Haulage Ltd")
AccountingSettings.objects.create(company=company, package="xero_api")
make_user(company, Role.SUPER_ADMIN, username=sys.argv[1], password=sys.argv[2])
"""


def test_the_oauth_code_and_state_reach_no_line_of_gunicorns_access_log(sandbox, tmp_path):
    """Gunicorn as ``ledgerbridge up`` starts it, JSON logs as in production."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEDGERBRIDGE_", "DATABASE_URL", "HUEY_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="ledgerbridge.settings",
        LEDGERBRIDGE_VAR_DIR=str(tmp_path),
        LEDGERBRIDGE_LOG_JSON="1",
        LEDGERBRIDGE_LOG_LEVEL="DEBUG",
        LEDGERBRIDGE_PUBLIC_URL=base_url,
        LEDGERBRIDGE_XERO_LOGIN_URL=sandbox.base_url,
        LEDGERBRIDGE_XERO_IDENTITY_URL=sandbox.base_url,
        LEDGERBRIDGE_XERO_API_URL=sandbox.base_url,
        LEDGERBRIDGE_XERO_CLIENT_ID=sandbox.client_id,
        LEDGERBRIDGE_XERO_CLIENT_SECRET=sandbox.client_secret,
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run(
        [sys.executable, "-m", "ledgerbridge.cli", "migrate", "-v", "0"], env=env, check=True
    )
    subprocess.run(
        [sys.executable, "-c", "import sys" + SEED, *SUPER_ADMIN], env=env, cwd=root, check=True
    )
    log_path = tmp_path / "web.log"
    with open(log_path, "wb") as log:
        web = subprocess.Popen(
            web_argv(address=f"127.0.0.1:{port}", workers=1),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
    try:
        wait_until(lambda: httpx.get(f"{base_url}/health").status_code, "web", timeout=60)
        query = authorise_as_a_browser(base_url, sandbox)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    text = log_path.read_text()
    assert query["code"] not in text
    assert query["state"] not in text
    assert f'"GET {CALLBACK} HTTP/1.1" 302' in text, text  # gunicorn's access line
    assert f'"path": "{CALLBACK}"' in text, text  # our request.finished line
