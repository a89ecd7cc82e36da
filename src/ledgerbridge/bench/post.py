"""``ledgerbridge bench post``: post documents to a local sandbox and print ratios.

Runs in a throwaway database (its own var directory) against an in-process
sandbox on a fast clock, so the numbers say what the engine costs, not how
long a minute is. Targets (issue): ≤ 1.03 Xero calls per document with the PDF
(≤ 0.03 without), ≥ 95 % of the 60 calls/minute used, no 429s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time


def _setup(var_dir: str, scale: float) -> None:
    os.environ["LEDGERBRIDGE_VAR_DIR"] = var_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("HUEY_URL", None)
    os.environ["LEDGERBRIDGE_XERO_LIMIT_TIME_SCALE"] = str(scale)
    os.environ["LEDGERBRIDGE_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerbridge.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_post(documents: int, *, with_pdf: bool, scale: float) -> dict[str, float]:
    from django.conf import settings
    from huey.contrib.djhuey import HUEY
    from huey.storage import MemoryStorage

    from ledgerbridge.accounting.models import (
        AccountingSettings,
        StepStatus,
        SyncRecord,
        SyncStatus,
    )
    from ledgerbridge.accounting.outbox import sync_company_run
    from ledgerbridge.bench.link import sandbox_link
    from ledgerbridge.companies.models import Company, Role
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.invoicing.models import Document, Task
    from ledgerbridge.invoicing.pdf import document_pdf_ensure
    from ledgerbridge.invoicing.services import (
        DocumentInput,
        LineInput,
        document_create,
        document_finalise,
        partner_create,
    )
    from ledgerbridge.invoicing.starter import starter_configuration_load
    from ledgerbridge.invoicing.workflow import task_complete
    from ledgerbridge.xero.models import XeroConnection
    from xero_sandbox.testing import start_sandbox

    # Nudges go to a throwaway queue: the bench drives the worker loop itself.
    HUEY.immediate = False
    HUEY.storage = MemoryStorage("bench")
    sandbox = start_sandbox(time_scale=scale)
    settings.XERO_LOGIN_URL = settings.XERO_IDENTITY_URL = settings.XERO_API_URL = sandbox.base_url
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = sandbox.client_id, sandbox.client_secret
    company = Company.objects.create(legal_name="Bench Haulage Ltd")
    AccountingSettings.objects.create(
        company=company, package="xero_api", auto_post_sales_invoice=False
    )
    actor = Actor(company=company, role=Role.SUPER_ADMIN, is_platform_staff=True, label="bench")
    starter_configuration_load(actor=actor)
    sandbox_link(
        sandbox.control,
        company_id=company.pk,
        tenant_id=sandbox.tenant_id,
        scale=scale,
        short_code="!Demo1",
    )
    customers = [
        partner_create(actor=actor, kind="customer", number=f"C{i:04d}", name=f"Customer {i} Ltd")
        for i in range(max(1, documents // 10))
    ]
    for i in range(documents):
        document = document_create(
            actor=actor,
            data=DocumentInput(
                type="sales_invoice",
                partner_id=customers[i % len(customers)].pk,
                issue_date=dt.date(2026, 11, 2),
                lines=[
                    LineInput("Freight Leeds - Hull", "freight", 1, 450, "200", "S20"),
                    LineInput("Fuel surcharge", "fuel_surcharge", 1, 49.5, "201", "S20"),
                ],
            ),
        )
        document_finalise(actor=actor, document_id=document.pk)
    tasks = list(
        Task.objects.filter(document__company=company, type="post_to_xero").values_list(
            "pk", flat=True
        )
    )
    for task_id in tasks:
        task_complete(actor=actor, task_id=task_id)
    if with_pdf:
        # In production the worker renders each PDF right after finalising;
        # posting only reads the stored file.
        for document in Document.objects.filter(company=company):
            document_pdf_ensure(document=document)
    else:
        SyncRecord.objects.filter(company=company).update(attachment_status=StepStatus.NOT_NEEDED)
    sandbox.control.clear_calls()
    cpu0, t0 = time.process_time(), time.monotonic()
    done = 0
    while True:
        sync_company_run(company_id=company.pk)
        posted = SyncRecord.objects.filter(company=company, status=SyncStatus.POSTED).count()
        open_steps = SyncRecord.objects.filter(
            company=company, attachment_status=StepStatus.PENDING
        ).count()
        if posted != done:
            done = posted
            print(f"  posted {posted}/{documents}, PDFs left {open_steps}", file=sys.stderr)
        if posted == documents and (not with_pdf or open_steps == 0):
            break
        SyncRecord.objects.filter(company=company, status=SyncStatus.PENDING).update(
            next_attempt_at=None
        )
        if time.monotonic() - t0 > 600:
            raise SystemExit("bench post: gave up after 10 minutes")
    elapsed = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    calls = sandbox.control.calls()
    sandbox.stop()
    XeroConnection.objects.filter(company=company).delete()  # the next run links the same tenant id
    sandbox_minutes = elapsed * scale / 60
    return {
        "documents": documents,
        "calls": len(calls),
        "calls_per_document": len(calls) / documents,
        "http_429": sum(1 for c in calls if c["status"] == 429),
        # Only meaningful when there were more calls than one minute allows.
        "limit_share": len(calls) / (sandbox_minutes * 60) if len(calls) > 60 else float("nan"),
        "local_ms_per_document": cpu * 1000 / documents,
        "elapsed_s": elapsed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ledgerbridge bench post", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument(
        "--time-scale",
        type=float,
        default=10.0,
        help="sandbox seconds per real second (a minute lasts 60/scale s)",
    )
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as var_dir:
        _setup(var_dir, options.time_scale)
        for with_pdf in (True, False):
            result = bench_post(options.documents, with_pdf=with_pdf, scale=options.time_scale)
            label = "with PDF" if with_pdf else "without PDF"
            goal = 1.03 if with_pdf else 0.03
            print(
                f"bench post ({label}): {result['documents']} documents, {result['calls']} Xero calls\n"
                f"  Xero calls per document : {result['calls_per_document']:.3f} (goal <= {goal})\n"
                f"  share of 60 calls/min   : "
                + (
                    f"{result['limit_share']:.1%} (goal >= 95%)\n"
                    if result["limit_share"] == result["limit_share"]
                    else "n/a (fewer calls than one minute allows)\n"
                )
                + f"  429s received           : {result['http_429']} (goal 0)\n"
                f"  local ms per document   : {result['local_ms_per_document']:.1f}\n"
                f"  peak RSS                : {result['peak_rss_mb']:.0f} MB\n"
                f"  elapsed                 : {result['elapsed_s']:.1f} s at time scale {options.time_scale:g}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
