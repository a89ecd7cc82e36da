"""Restore drill: a backup taken mid-way through posting, restored, and posting run again.

The dump (``pg_dump``) is taken while a real worker process waits on Xero with a
batch on the wire, and while more documents wait behind it. Posting then
finishes, and the dump is restored into a fresh database: that database has
records ``posting`` and ``pending`` that Xero in fact holds, attachments and
allocations it believes undone. A worker on the restored database runs again
against the same organisation; Xero must hold every document, attachment and
allocation exactly once, and every record must end settled.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from huey.contrib.djhuey import HUEY
from huey.storage import MemoryStorage
from psycopg import sql

from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.accounting.outbox import sync_company_run
from ledgerbridge.invoicing.models import Document, DocumentType, Task
from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise
from ledgerbridge.invoicing.workflow import task_complete
from ledgerbridge.xero.payloads import XERO_TYPES, xero_number
from tests.ledgerbridge.factories import make_document

from .conftest import authorise
from .test_posting import xero_get

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

# Runs the outbox for one company until nothing more is due, as the queue would,
# on a clock ``sys.argv[2]`` seconds ahead.
WORKER = """
import datetime as dt, django, sys
django.setup()
from django.utils import timezone
from ledgerbridge.accounting.outbox import sync_company_run
later = dt.timedelta(seconds=float(sys.argv[2]))
for _ in range(12):
    report = sync_company_run(company_id=int(sys.argv[1]), now=timezone.now() + later)
    if not report.more and report.retry_in is None:
        break
"""


@pytest.fixture
def queue_without_consumer():
    """Nudges are queued but nobody consumes them: the test runs the workers."""
    previous = HUEY.storage, HUEY.immediate
    HUEY.storage, HUEY.immediate = MemoryStorage("restore-drill"), False
    yield
    HUEY.storage, HUEY.immediate = previous


def database_url(name: str) -> str:
    settings = connection.settings_dict
    return "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
        **{k: settings[k] or "" for k in ("USER", "HOST", "PORT")}, NAME=name
    )


def libpq_env() -> dict[str, str]:
    settings = connection.settings_dict
    env = {**os.environ, "PGHOST": settings["HOST"] or "", "PGPORT": str(settings["PORT"] or "")}
    env["PGUSER"] = settings["USER"] or ""
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    return env


def worker_env(sandbox, name: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledgerbridge.settings",
        "DATABASE_URL": database_url(name),
        "LEDGERBRIDGE_XERO_LOGIN_URL": sandbox.base_url,
        "LEDGERBRIDGE_XERO_IDENTITY_URL": sandbox.base_url,
        "LEDGERBRIDGE_XERO_API_URL": sandbox.base_url,
        "LEDGERBRIDGE_XERO_CLIENT_ID": sandbox.client_id,
        "LEDGERBRIDGE_XERO_CLIENT_SECRET": sandbox.client_secret,
    }


def request_posting(actor, documents) -> None:
    ids = [d.pk for d in documents]
    for task in Task.objects.filter(document_id__in=ids, type="post_to_xero"):
        task_complete(actor=actor, task_id=task.pk)


def credit(actor, invoice: Document, **fields) -> Document:
    note = credit_note_create_from_invoice(actor=actor, invoice_id=invoice.pk, **fields)
    return document_finalise(actor=actor, document_id=note.pk)


def xero_ledger(sandbox, documents) -> dict[str, list[dict]]:
    """What the organisation holds of these documents, read back through the API: live
    documents by (type, number), each with its attachments and (credit notes) allocations."""
    wanted = {f"{XERO_TYPES[d.type]}:{xero_number(d)}" for d in documents}
    held: dict[str, list[dict]] = {}
    sandbox.control.reset_rate_limits()
    for path, items, id_field, number_field in (
        ("Invoices", "Invoices", "InvoiceID", "InvoiceNumber"),
        ("CreditNotes", "CreditNotes", "CreditNoteID", "CreditNoteNumber"),
    ):
        page = 1
        while listed := xero_get(sandbox, path, page=page)[items]:
            for item in listed:
                key = f"{item['Type']}:{item[number_field]}"
                if key not in wanted or item["Status"] in ("VOIDED", "DELETED"):
                    continue
                full = xero_get(sandbox, f"{path}/{item[id_field]}")[items][0]
                attachments = xero_get(sandbox, f"{path}/{item[id_field]}/Attachments")
                full["_attachments"] = attachments["Attachments"]
                held.setdefault(key, []).append(full)
            page += 1
    return held


def restored_records(url: str) -> list[tuple[int, str, str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT document_id, status, attachment_status, allocation_status"
            " FROM accounting_syncrecord ORDER BY document_id"
        ).fetchall()


def test_a_restored_backup_posts_nothing_twice_and_loses_nothing(
    sandbox, admin, queue_without_consumer, tmp_path: Path, record_property
):
    if connection.vendor != "postgresql":
        pytest.skip("the drill dumps and restores a PostgreSQL database")
    AccountingSettings.objects.filter(company=admin.company).update(
        auto_post_sales_invoice=False, auto_post_sales_credit_note=False
    )
    authorise(sandbox, admin, [sandbox.tenant_id])

    def sale():
        return make_document(admin, lines=1, finalise=True)

    def bill():
        return make_document(admin, DocumentType.PURCHASE_INVOICE, lines=1, finalise=True)

    # Posted, attached and allocated well before the backup.
    s1, s2, b1, b2 = sale(), sale(), bill(), bill()
    request_posting(admin, [s1, s2, b1, b2])
    sync_company_run(company_id=admin.company.pk)
    early = [credit(admin, s1), credit(admin, b1, supplier_reference=f"CR-{b1.supplier_reference}")]
    request_posting(admin, early)
    sync_company_run(company_id=admin.company.pk)
    early += [s1, s2, b1, b2]

    # On the wire when the backup is taken: Xero takes its time over the invoices.
    s3, s4, b3, b4 = sale(), sale(), bill(), bill()
    in_flight = [s3, s4, b3, b4, credit(admin, s2)]
    in_flight.append(credit(admin, b2, supplier_reference=f"CR-{b2.supplier_reference}"))
    request_posting(admin, in_flight)
    sandbox.control.add_fault("latency", method="PUT", path="/Invoices$", seconds=4, times=1)
    test_db = connection.settings_dict["NAME"]
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(admin.company.pk), "0"],
        env=worker_env(sandbox, test_db),
    )
    deadline = time.monotonic() + 30
    in_flight_ids = [d.pk for d in in_flight]
    while (
        not SyncRecord.objects.filter(document_id__in=in_flight_ids)
        .exclude(request_key="")
        .exists()
    ):
        assert worker.poll() is None, "the worker ended before sending"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # Waiting behind the batch: requested, not yet claimed, when the backup is taken.
    s5, b5, b6 = sale(), bill(), bill()
    waiting = [s5, b5, b6, credit(admin, s3)]
    waiting.append(credit(admin, b3, supplier_reference=f"CR-{b3.supplier_reference}"))
    request_posting(admin, waiting)
    time.sleep(0.5)

    dump = tmp_path / "ledgerbridge.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", test_db], env=libpq_env(), check=True
    )
    assert worker.poll() is None, "the backup was meant to be taken mid-way through posting"
    assert worker.wait(timeout=120) == 0
    documents = early + in_flight + waiting
    finished = SyncRecord.objects.filter(document__in=documents)
    assert {r.status for r in finished} == {SyncStatus.POSTED}, [r.message for r in finished]

    restored = f"{test_db}_restored_{uuid.uuid4().hex[:6]}"
    admin_url = urlunsplit(urlsplit(database_url(test_db))._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(restored)))
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)],
            env=libpq_env(),
            check=True,
        )
        before = restored_records(database_url(restored))
        posted_before = sum(1 for _, status, _, _ in before if status == SyncStatus.POSTED)
        unsettled_in_backup = Counter(status for _, status, _, _ in before)
        # Xero keeps an idempotency key for a while, not for ever: a backup restored the
        # next day finds its keys forgotten. The drill forgets them, so that only the
        # restored database and what the outbox looks up stand between it and a duplicate.
        sandbox.sandbox.store.execute("DELETE FROM idempotency")
        sandbox.control.reset_rate_limits()

        # The backup holds the company's worker lease as the worker held it: the
        # restored outbox is worked once that runs out (a restore comes later anyway).
        later = settings.WORKER_LEASE_SECONDS + 60
        rerun = subprocess.run(
            [sys.executable, "-c", WORKER, str(admin.company.pk), str(later)],
            env=worker_env(sandbox, restored),
            timeout=120,
        )
        assert rerun.returncode == 0
        after = restored_records(database_url(restored))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(restored))
            )

    held = xero_ledger(sandbox, documents)
    duplicates: list[str] = []
    lost: list[str] = []
    for document in documents:
        copies = held.get(f"{XERO_TYPES[document.type]}:{xero_number(document)}", [])
        if not copies:
            lost.append(f"{document.number} not in Xero")
            continue
        if len(copies) > 1:
            duplicates.append(f"{document.number} in Xero {len(copies)} times")
        for copy in copies:
            if len(copy["_attachments"]) != 1:
                duplicates.append(f"{document.number} has {len(copy['_attachments'])} attachments")
            if document.is_credit_note and len(copy.get("Allocations") or []) != 1:
                duplicates.append(
                    f"{document.number} has {len(copy.get('Allocations') or [])} allocations"
                )
    unsettled = [
        f"record of document {document_id}: {status}, attachment {attachment}, "
        f"allocation {allocation}"
        for document_id, status, attachment, allocation in after
        if status != SyncStatus.POSTED
        or attachment != "done"
        or allocation not in ("done", "not_needed")
    ]
    lost += unsettled
    record_property(
        "summary",
        f"{len(documents)} documents ({sum(1 for d in documents if d.is_credit_note)} credit "
        f"notes with allocations, {sum(1 for d in documents if not d.is_sales)} purchase "
        f"documents); posted before the dump {posted_before}, after it "
        f"{len(documents) - posted_before}; the backup held "
        f"{dict(sorted(unsettled_in_backup.items()))}; re-run on the restored database settled "
        f"{len(after) - posted_before}; duplicates {len(duplicates)}, lost {len(lost)}",
    )
    assert posted_before == len(early)
    assert unsettled_in_backup[SyncStatus.POSTING] == len(in_flight)
    assert unsettled_in_backup[SyncStatus.PENDING] == len(waiting)
    assert duplicates == []
    assert lost == []
