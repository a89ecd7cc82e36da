"""How long a payment made in Xero takes to show on the document, over 50 payments.

Run: ``ledgerbridge bench payments [--payments 50] [--rate 5]``. Starts, in
one process: a sandbox (delivering webhooks every 0.2 s, like Xero's batching),
our web server on a free port (a threaded WSGI server), and a Huey consumer
with two worker threads on an in-memory queue, with a fresh SQLite database in
a temporary directory. The sandbox app's webhook URL points at the web server,
so every payment goes the production way: sandbox → signed webhook → receiver
stores and enqueues → worker reads the invoices from the sandbox → status.

Invoices are created in the sandbox directly and linked to our documents (the
posting engine has its own bench); then payments are recorded through the
sandbox's control API at ``--rate`` per second while a watcher notes when each
document shows Paid. Prints p50, p95 and max; the target is p95 ≤ 2 s. Asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

TARGET_P95 = 2.0


def setup_django(var_dir: str) -> None:
    os.environ["LEDGERBRIDGE_VAR_DIR"] = var_dir
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.sqlite3"
    os.environ.pop("HUEY_URL", None)
    os.environ["LEDGERBRIDGE_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerbridge.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def start_web() -> tuple[str, object]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ledgerbridge bench payments", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--payments", type=int, default=50)
    parser.add_argument("--rate", type=float, default=5.0, help="payments per second")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        return run(args.payments, args.rate)


def run(count: int, rate: float) -> int:
    import datetime as dt

    import httpx
    from django.conf import settings
    from huey.contrib.djhuey import HUEY
    from huey.storage import MemoryStorage

    from ledgerbridge.accounting.models import (
        AccountingSettings,
        PaymentState,
        PaymentStatus,
        SyncRecord,
        SyncStatus,
    )
    from ledgerbridge.bench.link import sandbox_link
    from ledgerbridge.companies.models import Company, Role
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.invoicing.services import (
        DocumentInput,
        LineInput,
        document_create,
        partner_create,
    )
    from ledgerbridge.invoicing.starter import starter_configuration_load
    from xero_sandbox.testing import start_sandbox

    HUEY.immediate = False
    HUEY.storage = MemoryStorage("bench")
    sandbox = start_sandbox(webhook_batch_seconds=0.2)
    settings.XERO_LOGIN_URL = settings.XERO_IDENTITY_URL = settings.XERO_API_URL = sandbox.base_url
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = sandbox.client_id, sandbox.client_secret
    settings.XERO_WEBHOOK_KEY = sandbox.webhook_key
    web_url, web = start_web()
    sandbox.control.update_app(sandbox.client_id, webhook_url=f"{web_url}/webhooks/xero")
    # With Redis the worker blocks on the queue and starts at once; on this
    # in-memory queue it polls, every 50 ms at most.
    consumer = HUEY.create_consumer(
        workers=2, periodic=False, initial_delay=0.02, backoff=1.0, max_delay=0.05
    )
    consumer.start()

    company = Company.objects.create(legal_name="Bench Haulage Ltd")
    AccountingSettings.objects.create(company=company, package="xero_api")
    actor = Actor(company=company, role=Role.SUPER_ADMIN, is_platform_staff=True, label="bench")
    starter_configuration_load(actor=actor)
    link = sandbox_link(
        sandbox.control, company_id=company.pk, tenant_id=sandbox.tenant_id, short_code="!Demo1"
    )
    customer = partner_create(actor=actor, kind="customer", number="C0001", name="Bench Ltd")
    headers = {
        "Authorization": f"Bearer {link.access_token}",
        "xero-tenant-id": sandbox.tenant_id,
        "Accept": "application/json",
    }
    external_ids: list[str] = []
    for start in range(0, count, 50):
        items = [
            {
                "Type": "ACCREC",
                "Contact": {"Name": "Bench Ltd"},
                "Date": "2026-11-02",
                "DueDate": "2026-12-02",
                "Status": "AUTHORISED",
                "LineItems": [
                    {
                        "Description": "Freight",
                        "Quantity": 1,
                        "UnitAmount": 100,
                        "AccountCode": "200",
                    }
                ],
            }
            for _ in range(start, min(count, start + 50))
        ]
        answer = httpx.put(
            f"{sandbox.base_url}/api.xro/2.0/Invoices",
            json={"Invoices": items},
            headers=headers,
            timeout=30,
        )
        answer.raise_for_status()
        external_ids += [i["InvoiceID"] for i in answer.json()["Invoices"]]
    records = []
    for external_id in external_ids:
        document = document_create(
            actor=actor,
            data=DocumentInput(
                type="sales_invoice",
                partner_id=customer.pk,
                issue_date=dt.date(2026, 11, 2),
                lines=[LineInput("Freight", "freight", 1, 100, "200", "S20")],
            ),
        )
        records.append(
            SyncRecord.objects.create(
                company=company,
                document=document,
                status=SyncStatus.POSTED,
                external_id=external_id,
            )
        )
    # The creation events go through first, so only payments are timed.
    sandbox.control.flush_webhooks()
    time.sleep(1.0)

    paid_at: dict[int, float] = {}
    sent_at: dict[int, float] = {}

    def pay() -> None:
        for record in records:
            sent_at[record.pk] = time.monotonic()
            sandbox.control.record_payment(sandbox.tenant_id, invoice_id=record.external_id)
            time.sleep(1.0 / rate)

    payer = threading.Thread(target=pay)
    payer.start()
    deadline = time.monotonic() + count / rate + 60
    while len(paid_at) < count and time.monotonic() < deadline:
        for record_id in PaymentState.objects.filter(
            record__in=records, status=PaymentStatus.PAID
        ).values_list("record_id", flat=True):
            paid_at.setdefault(record_id, time.monotonic())
        time.sleep(0.01)
    payer.join()
    consumer.stop(graceful=True)
    web.shutdown()  # type: ignore[attr-defined]
    calls = [c for c in sandbox.control.calls() if c.get("method") == "GET"]
    sandbox.stop()

    latencies = sorted(paid_at[r] - sent_at[r] for r in paid_at if r in sent_at)
    if len(latencies) < count:
        print(f"only {len(latencies)} of {count} payments became visible", file=sys.stderr)
    if not latencies:
        return 1
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(f"payments: {len(latencies)}/{count} at {rate:g}/s")
    print(f"payment → visible status: p50 {statistics.median(latencies):.2f} s, ", end="")
    print(f"p95 {p95:.2f} s, max {latencies[-1]:.2f} s (target p95 ≤ {TARGET_P95:g} s)")
    print(f"Xero GET calls for them: {len(calls)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
