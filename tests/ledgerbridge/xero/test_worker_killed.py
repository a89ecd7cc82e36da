"""A real worker process killed (SIGKILL) in the middle of a request, then another run."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.storage import MemoryStorage

from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.accounting.outbox import sync_company_run
from ledgerbridge.invoicing.models import Task
from ledgerbridge.invoicing.workflow import task_complete
from tests.ledgerbridge.factories import make_final_document

from .conftest import authorise
from .test_posting import xero_numbers

WORKER = """
import django, sys
django.setup()
from ledgerbridge.accounting.outbox import sync_company_run
sync_company_run(company_id=int(sys.argv[1]))
"""


@pytest.fixture
def queue_without_consumer():
    """Nudges are queued but nobody consumes them: the test runs the workers."""
    previous = HUEY.storage, HUEY.immediate
    HUEY.storage, HUEY.immediate = MemoryStorage("killed-worker"), False
    yield
    HUEY.storage, HUEY.immediate = previous


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_every_document_in_xero_exactly_once(
    sandbox, admin, queue_without_consumer
):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process shares the test database; run on PostgreSQL")
    AccountingSettings.objects.filter(company=admin.company).update(auto_post_sales_invoice=False)
    authorise(sandbox, admin, [sandbox.tenant_id])
    # Stand-in PDFs: rendering five as finalising commits is not what this is about.
    documents = [make_final_document(admin, lines=1) for _ in range(5)]
    for task in Task.objects.filter(document__company=admin.company, type="post_to_xero"):
        task_complete(actor=admin, task_id=task.pk)
    # Xero takes its time over the batch: the worker is killed while it waits.
    sandbox.control.add_fault("latency", method="PUT", path="/Invoices$", seconds=3, times=1)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledgerbridge.settings",
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
            **{k: connection.settings_dict[k] or "" for k in ("USER", "HOST", "PORT", "NAME")}
        ),
        "LEDGERBRIDGE_XERO_LOGIN_URL": sandbox.base_url,
        "LEDGERBRIDGE_XERO_IDENTITY_URL": sandbox.base_url,
        "LEDGERBRIDGE_XERO_API_URL": sandbox.base_url,
        "LEDGERBRIDGE_XERO_CLIENT_ID": sandbox.client_id,
        "LEDGERBRIDGE_XERO_CLIENT_SECRET": sandbox.client_secret,
    }
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(admin.company.pk)], env=env)
    deadline = time.monotonic() + 30
    while not SyncRecord.objects.filter(company=admin.company).exclude(request_key="").exists():
        assert worker.poll() is None, "the worker ended before sending"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # the request is on the wire
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    time.sleep(3)  # Xero finishes the request it was given
    stuck = SyncRecord.objects.filter(company=admin.company, status=SyncStatus.POSTING).count()
    assert stuck == 5

    # A restarted worker, once the claim is stale, settles by lookup and sends nothing twice.
    sync_company_run(company_id=admin.company.pk, now=timezone.now() + dt.timedelta(minutes=11))
    assert set(
        SyncRecord.objects.filter(company=admin.company).values_list("status", flat=True)
    ) == {SyncStatus.POSTED}
    assert xero_numbers(sandbox) == sorted(d.number for d in documents)
