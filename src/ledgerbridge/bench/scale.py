"""``ledgerbridge bench scale``: many companies, several worker processes, one sandbox.

The production setup on this machine: PostgreSQL, Redis, N Huey worker
processes (``run_huey --workers 1`` each, as ``up --production-like`` starts
them) and the Xero sandbox in its own process on a fast clock. Each company is
linked to its own sandbox organisation and has the same number of finalised
sales invoices waiting to be posted; the bench queues one nudge per company and
watches the outbox drain.

It prints documents per minute, Xero calls per document, the most calls seen in
any rolling minute (per organisation and app-wide, on the sandbox's clock,
against Xero's 60 and 10,000), 429s, fairness (slowest / fastest company finish
time), peak RSS per worker, and how the run time grows with the number of
companies. ``--plot`` writes a PNG of the same figures.

Documents are posted with their lines, tax and tracking; PDF attachments (one
more call each, see ``ledgerbridge bench post``) are left out here, because
rendering 100,000 PDFs would measure WeasyPrint, not the engine. Setup makes one
real invoice per company through the services and copies it (new numbers,
rotating customers) to reach the document count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
import uuid
from bisect import bisect_left
from collections import defaultdict
from copy import copy as shallow_copy
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Any

from ledgerbridge.processes import (
    ProcessGroup,
    free_port,
    postgres_database_ensure,
    wait_until,
    worker_argv,
)

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ledgerbridge_bench_scale"
REDIS_URL = "redis://127.0.0.1:6379/12"
CUSTOMERS_PER_COMPANY = 10
XERO_MINUTE, XERO_APP_MINUTE = 60, 10_000


@dataclass
class RunResult:
    companies: int
    workers: int
    documents: int
    elapsed_s: float
    calls: int
    token_calls: int
    http_429: int
    max_org_minute: int
    max_app_minute: int
    finish_s: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    posted: int = 0
    failed: int = 0

    @property
    def documents_per_minute(self) -> float:
        return self.posted / self.elapsed_s * 60

    @property
    def fairness(self) -> float:
        return max(self.finish_s) / min(self.finish_s) if self.finish_s else float("nan")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerbridge.settings")
    import django

    django.setup()


# ---------------------------------------------------------------- setup


def _companies_create(count: int, documents: int) -> list[int]:
    """``count`` companies on Xero (API), each with ``documents`` finalised invoices."""
    from django.db import transaction

    from ledgerbridge.accounting.models import AccountingSettings
    from ledgerbridge.companies.models import Company, Role
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.invoicing.models import Document, DocumentLine, LineDimension, Task
    from ledgerbridge.invoicing.services import (
        DocumentInput,
        LineInput,
        document_create,
        document_finalise,
        partner_create,
    )
    from ledgerbridge.invoicing.starter import starter_configuration_load

    ids = []
    t0 = time.monotonic()
    for n in range(count):
        with transaction.atomic():
            company = Company.objects.create(legal_name=f"Scale Haulage {n + 1:03d} Ltd")
            AccountingSettings.objects.create(
                company=company, package="xero_api", auto_post_sales_invoice=False
            )
            actor = Actor(
                company=company, role=Role.SUPER_ADMIN, is_platform_staff=True, label="bench"
            )
            starter_configuration_load(actor=actor)
            customers = [
                partner_create(
                    actor=actor, kind="customer", number=f"C{i:03d}", name=f"Customer {i} Ltd"
                )
                for i in range(CUSTOMERS_PER_COMPANY)
            ]
            template = document_create(
                actor=actor,
                data=DocumentInput(
                    type="sales_invoice",
                    partner_id=customers[0].pk,
                    issue_date=dt.date(2026, 11, 2),
                    lines=[
                        LineInput("Freight Leeds - Hull", "freight", 1, 450, "200", "S20"),
                        LineInput("Fuel surcharge", "fuel_surcharge", 1, 49.5, "201", "S20"),
                    ],
                ),
            )
            template = document_finalise(actor=actor, document_id=template.pk)
            lines = list(DocumentLine.objects.filter(document=template).order_by("pk"))
            line_dims = defaultdict(list)
            for dim in LineDimension.objects.filter(line__document=template):
                line_dims[dim.line_id].append(dim)
            tasks = list(Task.objects.filter(document=template))
            copies = []
            for i in range(1, documents):
                copy = shallow_copy(template)
                copy.pk = None
                copy.number = f"{template.number}-{i:04d}"
                copy.partner = customers[i % len(customers)]
                copies.append(copy)
            Document.objects.bulk_create(copies)  # PostgreSQL returns the new ids
            new_lines, new_line_dims, new_tasks = [], [], []
            for copy in copies:
                for task in tasks:
                    new_tasks.append(
                        Task(document=copy, type=task.type, status=task.status, mode=task.mode)
                    )
                for line in lines:
                    new_line = shallow_copy(line)
                    new_line.pk, new_line.document = None, copy
                    new_lines.append((line.pk, new_line))
            DocumentLine.objects.bulk_create([new for _, new in new_lines])
            for old_pk, new_line in new_lines:
                for dim in line_dims[old_pk]:
                    new_line_dims.append(
                        LineDimension(
                            line=new_line, dimension_id=dim.dimension_id, value_id=dim.value_id
                        )
                    )
            LineDimension.objects.bulk_create(new_line_dims)
            Task.objects.bulk_create(new_tasks)
        ids.append(company.pk)
        if (n + 1) % 25 == 0 or n + 1 == count:
            _log(f"  setup: {n + 1}/{count} companies ({time.monotonic() - t0:.0f} s)")
    return ids


def _link(control: Any, company_ids: list[int], tenant_ids: list[str], scale: float) -> None:
    """Each company linked to its own organisation, with its own token set."""
    from django.utils import timezone

    from ledgerbridge.bench.link import sandbox_link
    from ledgerbridge.xero.models import XeroConnection, XeroPaymentPoll

    XeroConnection.objects.filter(company_id__in=company_ids).delete()
    # Payment polling is measured by ledgerbridge bench payments; here it would only
    # read back what was just posted.
    XeroPaymentPoll.objects.filter(company_id__in=company_ids).delete()
    XeroPaymentPoll.objects.bulk_create(
        [XeroPaymentPoll(company_id=c, last_polled_at=timezone.now()) for c in company_ids]
    )
    for company_id, tenant_id in zip(company_ids, tenant_ids, strict=True):
        sandbox_link(
            control,
            company_id=company_id,
            tenant_id=tenant_id,
            scale=scale,
            tenant_name=f"Org {tenant_id[:8]}",
        )


def _outbox_reset(company_ids: list[int]) -> int:
    """Every document of these companies waiting to be posted, as after "Post to Xero"."""
    from ledgerbridge.accounting.models import StepStatus, SyncRecord, WorkerLease
    from ledgerbridge.invoicing.models import Document
    from ledgerbridge.xero.models import RateEvent, XeroContactLink

    SyncRecord.objects.all().delete()  # attempts go with them
    XeroContactLink.objects.all().delete()  # a new sandbox knows no contacts
    RateEvent.objects.all().delete()
    WorkerLease.objects.all().delete()
    documents = Document.objects.filter(company_id__in=company_ids).values_list("pk", "company_id")
    SyncRecord.objects.bulk_create(
        [
            SyncRecord(
                document_id=pk,
                company_id=company_id,
                attachment_status=StepStatus.NOT_NEEDED,
                allocation_status=StepStatus.NOT_NEEDED,
            )
            for pk, company_id in documents
        ],
        batch_size=5000,
    )
    return len(documents)


# ---------------------------------------------------------------- one run


def _max_in_window(times: list[float], span: float) -> int:
    times = sorted(times)
    best = 0
    for i, at in enumerate(times):
        best = max(best, bisect_left(times, at + span) - i)
    return best


def _run(
    *,
    company_ids: list[int],
    tenant_ids: list[str],
    workers: int,
    scale: float,
    env: dict[str, str],
    timeout: float,
) -> RunResult:
    import redis
    from django.db.models import Count, Q

    from ledgerbridge.accounting.models import SyncRecord, SyncStatus
    from xero_sandbox.testing import ControlClient

    group = ProcessGroup(env=env, quiet=not os.environ.get("LEDGERBRIDGE_BENCH_VERBOSE"))
    port = free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    group.start(
        "sandbox",
        [
            sys.executable,
            "-m",
            "xero_sandbox",
            "--port",
            str(port),
            "--time-scale",
            str(scale),
            "--no-webhooks",
        ],
    )
    control = ControlClient(sandbox_url, timeout=60)
    try:
        wait_until(control.info, "the Xero sandbox", timeout=30)
        for n, tenant_id in enumerate(tenant_ids):
            control.create_org(f"Scale Haulage {n + 1:03d} Ltd", tenant_id=tenant_id)
        _link(control, company_ids, tenant_ids, scale)
        documents = _outbox_reset(company_ids)
        redis.Redis.from_url(env["HUEY_URL"]).flushdb()
        control.clear_calls()
        worker_env = {
            **env,
            "LEDGERBRIDGE_XERO_LOGIN_URL": sandbox_url,
            "LEDGERBRIDGE_XERO_IDENTITY_URL": sandbox_url,
            "LEDGERBRIDGE_XERO_API_URL": sandbox_url,
        }
        from ledgerbridge.accounting.tasks import sync_company

        t0 = time.monotonic()
        for company_id in company_ids:
            sync_company(company_id)  # the nudge that "Post to Xero" sends
        for number in range(workers):
            group.start(f"worker-{number + 1}", worker_argv(periodic=number == 0), env=worker_env)
        finish: dict[int, float] = {}
        last_print = 0.0
        while True:
            time.sleep(0.5)
            rows = (
                SyncRecord.objects.filter(company_id__in=company_ids)
                .values("company_id")
                .annotate(
                    open=Count("pk", filter=Q(status__in=[SyncStatus.PENDING, SyncStatus.POSTING])),
                    done=Count("pk", filter=Q(status=SyncStatus.POSTED)),
                )
            )
            now = time.monotonic() - t0
            posted = 0
            for row in rows:
                posted += row["done"]
                if row["open"] == 0 and row["company_id"] not in finish:
                    finish[row["company_id"]] = now
            if now - last_print > 5:
                last_print = now
                _log(
                    f"  {workers} workers, {len(company_ids)} companies: "
                    f"{posted}/{documents} posted, {len(finish)} companies done, {now:.0f} s"
                )
            if len(finish) == len(company_ids):
                break
            if group.stopped():
                raise SystemExit(f"bench scale: a process stopped: {group.stopped()}")
            if now > timeout:
                raise SystemExit(f"bench scale: gave up after {timeout:.0f} s ({posted} posted)")
        elapsed = time.monotonic() - t0
        rss = [group.peak_rss_mb(f"worker-{n + 1}") for n in range(workers)]
        calls = control.calls()
    finally:
        group.stop_all()
    api_calls = [c for c in calls if c["path"].startswith("/api.xro/")]
    per_org: dict[str, list[float]] = defaultdict(list)
    for call in api_calls:
        per_org[call["tenant_id"] or ""].append(float(call["at"]))
    return RunResult(
        companies=len(company_ids),
        workers=workers,
        documents=documents,
        elapsed_s=elapsed,
        calls=len(api_calls),
        token_calls=sum(1 for c in calls if c["path"] == "/connect/token"),
        http_429=sum(1 for c in calls if c["status"] == 429),
        max_org_minute=max((_max_in_window(t, 60) for t in per_org.values()), default=0),
        max_app_minute=_max_in_window([float(c["at"]) for c in api_calls], 60),
        finish_s=list(finish.values()),
        peak_rss_mb=rss,
        posted=SyncRecord.objects.filter(
            company_id__in=company_ids, status=SyncStatus.POSTED
        ).count(),
        failed=SyncRecord.objects.filter(company_id__in=company_ids)
        .exclude(status=SyncStatus.POSTED)
        .count(),
    )


# ---------------------------------------------------------------- report


def _print(result: RunResult, scale: float) -> None:
    print(
        f"bench scale: {result.companies} companies x {result.documents // result.companies} "
        f"documents, {result.workers} worker processes, sandbox clock x{scale:g}\n"
        f"  documents posted          : {result.posted}/{result.documents} "
        f"({result.failed} not posted)\n"
        f"  run time                  : {result.elapsed_s:.1f} s\n"
        f"  documents per minute      : {result.documents_per_minute:,.0f}\n"
        f"  Xero calls per document   : {result.calls / result.documents:.3f} "
        f"({result.calls} calls, plus {result.token_calls} token refreshes)\n"
        f"  most calls in a minute    : {result.max_org_minute} per organisation "
        f"(Xero's limit {XERO_MINUTE}), {result.max_app_minute} app-wide "
        f"(limit {XERO_APP_MINUTE:,})\n"
        f"  limits exceeded           : "
        f"{'no' if result.max_org_minute <= XERO_MINUTE and result.max_app_minute <= XERO_APP_MINUTE else 'YES'}\n"
        f"  429s received             : {result.http_429}\n"
        f"  fairness (slowest/fastest): {result.fairness:.2f} (goal <= 1.5; "
        f"finish {min(result.finish_s):.1f} s .. {max(result.finish_s):.1f} s, "
        f"median {statistics.median(result.finish_s):.1f} s)\n"
        f"  peak RSS per worker       : " + ", ".join(f"{mb:.0f} MB" for mb in result.peak_rss_mb),
        flush=True,
    )


def _plot(path: str, runs: list[RunResult], growth: list[RunResult]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.2))
    left.bar(
        [f"{r.workers} workers" for r in runs],
        [r.documents_per_minute for r in runs],
        color="#2b6cb0",
    )
    left.set_title(f"Documents per minute ({runs[0].companies} companies)")
    if growth:
        left_x = [r.companies for r in growth]
        middle.plot(left_x, [r.elapsed_s for r in growth], marker="o", label="measured")
        first = growth[0]
        middle.plot(
            left_x,
            [first.elapsed_s * c / first.companies for c in left_x],
            linestyle="--",
            color="grey",
            label="linear from the first point",
        )
        middle.set_xlabel("companies")
        middle.set_ylabel("run time (s)")
        middle.set_title(f"Run time growth ({growth[0].workers} workers)")
        middle.legend()
    for r in runs:
        right.hist(r.finish_s, bins=30, alpha=0.6, label=f"{r.workers} workers")
    right.set_xlabel("company finish time (s)")
    right.set_ylabel("companies")
    right.set_title("When each company's last document was posted")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _log(f"  plot written to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ledgerbridge bench scale", description=__doc__)
    parser.add_argument("--companies", type=int, default=500)
    parser.add_argument("--documents", type=int, default=200, help="per company")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument(
        "--growth",
        type=int,
        nargs="*",
        default=[100, 250],
        help="also run with this many companies (with the most workers); the full run is the last point",
    )
    parser.add_argument("--time-scale", type=float, default=10.0, help="sandbox clock speed")
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--plot", default="", help="write a PNG of the results here")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    options = parser.parse_args(argv)
    if options.plot and find_spec("matplotlib") is None:
        # Checked before an hour of benchmarking, not after it.
        print(
            "ledgerbridge bench scale --plot needs matplotlib, which comes with the bench "
            "extra: pip install -e '.[bench]' (./test's bootstrap dev installs it).",
            file=sys.stderr,
        )
        return 2
    env = {
        "DATABASE_URL": options.database_url,
        "HUEY_URL": options.redis_url,
        "LEDGERBRIDGE_XERO_LIMIT_TIME_SCALE": str(options.time_scale),
        "LEDGERBRIDGE_LOG_LEVEL": os.environ.get("LEDGERBRIDGE_BENCH_LOG_LEVEL", "WARNING"),
        "LEDGERBRIDGE_LOG_JSON": "1",
        # The sandbox's demo app (any sandbox organisation can connect to it).
        "LEDGERBRIDGE_XERO_CLIENT_ID": "LEDGERBRIDGE-DEMO-CLIENT",
        "LEDGERBRIDGE_XERO_CLIENT_SECRET": "sandbox-demo-secret",
    }
    postgres_database_ensure(options.database_url, fresh=True)
    _django(env)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _log(f"bench scale: setting up {options.companies} companies x {options.documents} documents")
    company_ids = _companies_create(options.companies, options.documents)
    tenant_ids = [str(uuid.UUID(int=random.getrandbits(128))) for _ in company_ids]
    full_env = {**os.environ, **env}
    runs = []
    for workers in options.workers:
        result = _run(
            company_ids=company_ids,
            tenant_ids=tenant_ids,
            workers=workers,
            scale=options.time_scale,
            env=full_env,
            timeout=options.timeout,
        )
        _print(result, options.time_scale)
        runs.append(result)
    growth = []
    for count in sorted(c for c in options.growth if c < options.companies):
        result = _run(
            company_ids=company_ids[:count],
            tenant_ids=tenant_ids[:count],
            workers=max(options.workers),
            scale=options.time_scale,
            env=full_env,
            timeout=options.timeout,
        )
        _print(result, options.time_scale)
        growth.append(result)
    growth.append(runs[-1] if options.workers[-1] == max(options.workers) else runs[0])
    print("run time growth (" + f"{max(options.workers)} workers):", flush=True)
    for result in growth:
        print(
            f"  {result.companies:4d} companies: {result.elapsed_s:7.1f} s "
            f"({result.elapsed_s / growth[0].elapsed_s * growth[0].companies / result.companies:.2f}"
            " x the time per company of the smallest run)",
            flush=True,
        )
    if options.plot:
        _plot(options.plot, runs, growth)
    return 0
