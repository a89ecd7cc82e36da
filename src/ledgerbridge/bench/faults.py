"""``ledgerbridge bench faults``: the production setup under faults, then an audit.

Runs the product as it runs in production — PostgreSQL, Huey on Redis, N
``run_huey`` worker processes, the Xero sandbox as a separate process on a fast
clock — for K companies each linked to its own sandbox organisation. Documents
are released in waves (a Finance user completing "Post to Xero"); during each
wave the suite SIGKILLs workers and restarts them, kills and restarts Redis
(its own ``redis-server``, no persistence, so the queue is lost), terminates
every PostgreSQL connection of the database, makes the sandbox answer 5xx and
429, drop responses after committing, time out, and expires every access token
(our clock and Xero's) while extra processes refresh the same links at once.

Then the faults stop and the backlog drains. Retry waits are moved forward
(as a user's "Retry" would) and companies with due work are nudged every few
seconds (the per-minute sweep's job, more often), so the drain takes seconds
rather than backoff hours. The audit reads every organisation back through
the accounting API and checks: each TMS document in Xero exactly once; every
sync record final (posted, failed with a reason, needs attention) or retryable
(pending with a time); none left ``posting`` without a live lease; every link
still connected. Exit status 1 on any duplicate, lost document or record in a
wrong state.

PDFs are rendered once at set-up (in two processes), so posting attaches each
stored PDF as production does after its render job.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ledgerbridge.processes import (
    ProcessGroup,
    free_port,
    postgres_database_ensure,
    wait_until,
    worker_argv,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ledgerbridge_faults"
DEMO_CLIENT = ("LEDGERBRIDGE-DEMO-CLIENT", "sandbox-demo-secret")
AUDIT_CLIENT = ("LEDGERBRIDGE-FAULT-AUDIT", "fault-audit-secret")
# The organisation's tracking categories, matching the starter dimensions.
TRACKING = [
    {"Name": "Business unit", "Options": ["Domestic", "International", "Warehousing"]},
    {"Name": "Vehicle type", "Options": ["Articulated", "Rigid", "Van"]},
]


@dataclass(frozen=True)
class Plan:
    companies: int
    documents: int  # per company
    workers: int
    rounds: int
    round_seconds: float
    drain_seconds: float
    time_scale: float = 10.0
    lease_seconds: float = 10.0


LONG = Plan(companies=20, documents=50, workers=4, rounds=4, round_seconds=45, drain_seconds=420)
SHORT = Plan(companies=4, documents=10, workers=3, rounds=2, round_seconds=16, drain_seconds=150)


@dataclass
class Tally:
    """Faults the suite caused itself (the sandbox's are read from its call log)."""

    kills: int = 0
    kills_in_flight: int = 0  # with records ``posting`` at the moment of the kill
    redis_restarts: int = 0
    pg_terminated: int = 0  # backends terminated
    pg_rounds: int = 0
    token_expiries: int = 0
    refresh_racers: int = 0
    refresh_racer_errors: int = 0
    nudges_lost: int = 0  # task completions whose after-commit nudge found no queue
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- processes


def _logged(argv: list[str], log_path: str) -> list[str]:
    """Run ``argv`` with stderr appended to a file; ``exec`` keeps the pid the program's."""
    return ["/bin/sh", "-c", f'exec "$@" >>{log_path} 2>&1', "sh", *argv]


class Stack:
    """Redis, the sandbox and the workers, in one ProcessGroup."""

    def __init__(self, plan: Plan, var_dir: str, database_url: str) -> None:
        self.plan = plan
        self.var_dir = var_dir
        self.redis_port = free_port()
        self.sandbox_port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("LEDGERBRIDGE_", "DATABASE_URL", "HUEY_URL"))
            },
            "DJANGO_SETTINGS_MODULE": "ledgerbridge.settings",
            "DATABASE_URL": database_url,
            "HUEY_URL": self.redis_url,
            "LEDGERBRIDGE_VAR_DIR": var_dir,
            "LEDGERBRIDGE_WORKER_LEASE_SECONDS": str(plan.lease_seconds),
            "LEDGERBRIDGE_XERO_LIMIT_TIME_SCALE": str(plan.time_scale),
            "LEDGERBRIDGE_XERO_LOGIN_URL": self.sandbox_url,
            "LEDGERBRIDGE_XERO_IDENTITY_URL": self.sandbox_url,
            "LEDGERBRIDGE_XERO_API_URL": self.sandbox_url,
            "LEDGERBRIDGE_XERO_CLIENT_ID": DEMO_CLIENT[0],
            "LEDGERBRIDGE_XERO_CLIENT_SECRET": DEMO_CLIENT[1],
            "LEDGERBRIDGE_LOG_JSON": "1",
            "LEDGERBRIDGE_LOG_LEVEL": "WARNING",
        }
        self.group = ProcessGroup(env=self.env, quiet=True)

    def log(self, name: str) -> str:
        return os.path.join(self.var_dir, f"{name}.log")

    def start_redis(self) -> None:
        import redis

        argv = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no"]
        self.group.start("redis", _logged(argv, self.log("redis")))
        client = redis.Redis.from_url(self.redis_url)
        wait_until(lambda: bool(client.ping()), "redis-server")

    def start_sandbox(self) -> None:
        argv = [sys.executable, "-m", "xero_sandbox", "--port", str(self.sandbox_port)]
        argv += ["--time-scale", str(self.plan.time_scale), "--no-webhooks"]
        self.group.start("sandbox", _logged(argv, self.log("sandbox")))
        wait_until(
            lambda: httpx.get(f"{self.sandbox_url}/sandbox", timeout=2).status_code == 200,
            "the Xero sandbox",
        )

    def worker_names(self) -> list[str]:
        return [f"worker-{n + 1}" for n in range(self.plan.workers)]

    def start_workers(self) -> None:
        for number, name in enumerate(self.worker_names()):
            self.group.start(name, _logged(worker_argv(periodic=number == 0), self.log(name)))

    def restart(self, name: str) -> None:
        self.group.start(name, self.group.members[name].argv)

    def kill(self, name: str) -> None:
        self.group.kill(name, signal.SIGKILL)

    def stop_workers(self) -> None:
        for name in self.worker_names():
            process = self.group.members[name].process
            if process.poll() is None:
                self.group.kill(name, signal.SIGTERM)

    def stop(self) -> None:
        self.group.stop_all(grace=15)


# ---------------------------------------------------------------------------- set-up


def _django_setup(stack: Stack) -> None:
    os.environ.update(stack.env)
    for name in list(os.environ):
        if name not in stack.env:
            del os.environ[name]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _render_pdfs(document_ids: list[int]) -> None:
    from django.db import connections

    from ledgerbridge.invoicing.models import Document
    from ledgerbridge.invoicing.pdf import document_pdf_ensure
    from ledgerbridge.logging import quiet

    quiet("weasyprint", level="ERROR")  # font subsetting notices
    connections.close_all()  # a forked child must not share the parent's connection
    for document in Document.objects.filter(pk__in=document_ids):
        document_pdf_ensure(document=document)
    connections.close_all()


def setup_companies(stack: Stack, plan: Plan, rng: random.Random) -> dict[int, str]:
    """Companies linked to their own organisations, with final documents; tenant per company."""

    from ledgerbridge.accounting.models import AccountingSettings
    from ledgerbridge.bench.link import sandbox_link
    from ledgerbridge.companies.models import Company, Role
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.invoicing.models import DocumentType
    from ledgerbridge.invoicing.services import (
        DocumentInput,
        LineInput,
        credit_note_create_from_invoice,
        document_create,
        document_finalise,
        partner_create,
    )
    from ledgerbridge.invoicing.starter import starter_configuration_load
    from xero_sandbox.testing import ControlClient

    control = ControlClient(stack.sandbox_url, timeout=30)
    tenants: dict[int, str] = {}
    for c in range(plan.companies):
        company = Company.objects.create(
            legal_name=f"Fault Haulage {c + 1:03d} Ltd",
            vat_number="GB123456789",
            address_line1="1 Depot Road",
            city="Leeds",
            postcode="LS1 1AA",
        )
        # Manual posting: the suite completes the tasks itself, wave by wave.
        AccountingSettings.objects.create(
            company=company,
            package="xero_api",
            auto_post_sales_invoice=False,
            auto_post_sales_credit_note=False,
        )
        actor = Actor(company=company, role=Role.SUPER_ADMIN, is_platform_staff=True, label="bench")
        starter_configuration_load(actor=actor)
        org = control.create_org(f"Fault Haulage {c + 1:03d} (Xero)", tracking_categories=TRACKING)
        tenant = str(org["tenant_id"])
        sandbox_link(
            control,
            company_id=company.pk,
            tenant_id=tenant,
            scale=plan.time_scale,
            tenant_name=org.get("name", ""),
            short_code=f"!F{c:03d}",
        )
        tenants[company.pk] = tenant
        customers = [
            partner_create(
                actor=actor, kind="customer", number=f"C{i:04d}", name=f"Customer {i} Ltd"
            )
            for i in range(4)
        ]
        suppliers = [
            partner_create(
                actor=actor, kind="supplier", number=f"S{i:04d}", name=f"Carrier {i} Ltd"
            )
            for i in range(2)
        ]
        invoices: list[int] = []
        for d in range(plan.documents):
            kind = rng.random()
            if kind < 0.15 and invoices:  # a credit note for an earlier invoice
                credit = credit_note_create_from_invoice(
                    actor=actor,
                    invoice_id=invoices.pop(rng.randrange(len(invoices))),
                    issue_date=dt.date(2026, 11, 3),
                    supplier_reference=f"CR-{c:03d}-{d:04d}",
                )
                document_finalise(actor=actor, document_id=credit.pk)
                continue
            sales = kind < 0.75
            lines = [
                LineInput(
                    "Freight Leeds - Hull",
                    "freight",
                    1,
                    400 + d,
                    "200" if sales else "320",
                    "S20" if sales else "S20P",
                ),
                LineInput(
                    "Fuel surcharge",
                    "fuel_surcharge",
                    1,
                    "49.50",
                    "201" if sales else "330",
                    "S20" if sales else "S20P",
                ),
            ]
            document = document_create(
                actor=actor,
                data=DocumentInput(
                    type=DocumentType.SALES_INVOICE if sales else DocumentType.PURCHASE_INVOICE,
                    partner_id=rng.choice(customers if sales else suppliers).pk,
                    issue_date=dt.date(2026, 11, 2),
                    lines=lines,
                    supplier_reference="" if sales else f"SUP-{c:03d}-{d:04d}",
                ),
            )
            document_finalise(actor=actor, document_id=document.pk)
            invoices.append(document.pk)
    control.close()
    return tenants


def render_all_pdfs() -> float:
    """Every document's PDF, in two forked processes; returns seconds taken."""
    import multiprocessing

    from django.db import connections

    from ledgerbridge.invoicing.models import Document

    ids = list(Document.objects.values_list("pk", flat=True).order_by("pk"))
    started = time.monotonic()
    connections.close_all()
    chunks = [ids[0::2], ids[1::2]]
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_render_pdfs, args=(chunk,)) for chunk in chunks]
    for child in children:
        child.start()
    for child in children:
        child.join()
        if child.exitcode != 0:
            raise SystemExit("bench faults: rendering PDFs failed")
    return time.monotonic() - started


# ---------------------------------------------------------------------------- faults


def release_wave(companies: list[int], share: float, tally: Tally) -> int:
    """A Finance user posts the next share of each company's documents (invoices first).

    ``share`` is of all documents; 1 releases whatever is left.
    """
    import redis

    from ledgerbridge.companies.models import Company, Role
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.invoicing.models import Task, TaskStatus
    from ledgerbridge.invoicing.workflow import task_complete

    released = 0
    for company in Company.objects.filter(pk__in=companies):
        actor = Actor(company=company, role=Role.FINANCE, is_platform_staff=True, label="bench")
        open_tasks = list(
            Task.objects.filter(
                document__company=company, type="post_to_xero", status=TaskStatus.OPEN
            )
            .order_by("document__original_id", "document_id")
            .values_list("pk", flat=True)
        )
        total = Task.objects.filter(document__company=company, type="post_to_xero").count()
        count = len(open_tasks) if share >= 1 else max(1, round(total * share))
        for task_id in open_tasks[:count]:
            try:
                task_complete(actor=actor, task_id=task_id)
            except redis.RedisError:
                # Committed; only the nudge after commit found no queue. The sweep finds it.
                tally.nudges_lost += 1
            released += 1
    return released


def in_flight() -> int:
    from ledgerbridge.accounting.models import SyncRecord, SyncStatus

    return SyncRecord.objects.filter(status=SyncStatus.POSTING).count()


def kill_worker(stack: Stack, rng: random.Random, tally: Tally) -> None:
    name = rng.choice(stack.worker_names())
    busy = in_flight()
    stack.kill(name)
    tally.kills += 1
    tally.kills_in_flight += 1 if busy else 0
    time.sleep(0.3)
    stack.restart(name)


def restart_redis(stack: Stack, tally: Tally) -> None:
    stack.group.kill("redis", signal.SIGKILL)
    time.sleep(2.0)  # workers meet a closed port meanwhile
    stack.start_redis()
    tally.redis_restarts += 1


def terminate_pg_connections(tally: Tally) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    tally.pg_terminated += int(row[0]) if row else 0
    tally.pg_rounds += 1


RACER = """
import sys, django
django.setup()
from django.db import close_old_connections
from ledgerbridge.companies.models import Company
from ledgerbridge.xero.connection import xero_credentials
force, ids = sys.argv[1] == "force", [int(a) for a in sys.argv[2:]]
errors = 0
for company in Company.objects.filter(pk__in=ids):
    close_old_connections()  # the suite terminates connections too
    try:
        xero_credentials(company=company, force_refresh=force)
    except Exception as error:
        errors += 1
        print("refresh failed:", company.pk, type(error).__name__, error, file=sys.stderr)
sys.exit(1 if errors else 0)
"""


def expire_tokens(
    stack: Stack, companies: list[int], tally: Tally, *, ours_too: bool
) -> list[subprocess.Popen[bytes]]:
    """Every access token expires, on Xero's clock (and on ours); racers refresh them at once.

    With ``ours_too`` every process sees the expiry and refreshes before calling;
    without, Xero answers 401 to tokens we think fresh, and the client forces a
    refresh — the racers force one too.
    """
    from ledgerbridge.xero.models import XeroConnection
    from xero_sandbox.testing import ControlClient

    if ours_too:
        XeroConnection.objects.update(access_expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    control = ControlClient(stack.sandbox_url)
    control.clock(advance_seconds=31 * 60)  # Xero's access tokens last 30 minutes
    control.close()
    tally.token_expiries += 1
    racers = []
    mode = "expired" if ours_too else "force"
    for _ in range(3):
        with open(stack.log("racers"), "ab") as log:
            racers.append(
                subprocess.Popen(
                    [sys.executable, "-c", RACER, mode, *map(str, companies)],
                    env=stack.env,
                    stdout=log,
                    stderr=log,
                )
            )
    tally.refresh_racers += len(racers)
    return racers


def sandbox_faults(stack: Stack, plan: Plan, rng: random.Random) -> None:
    """A storm of each kind for this wave; each fault is used up by the first calls it matches."""
    from xero_sandbox.testing import ControlClient

    control = ControlClient(stack.sandbox_url)
    n = max(2, plan.companies // 2)
    doc_paths = r"/(Invoices|CreditNotes)$"
    control.add_fault("latency", method="PUT", path=doc_paths, seconds=1.5, times=n)
    control.add_fault("drop", method="PUT", path=doc_paths, times=n)
    control.add_fault("drop", method="PUT", path=r"/Contacts$", times=max(1, n // 2))
    control.add_fault("drop", path=r"/Attachments/", times=n)
    control.add_fault("drop", path=r"/Allocations$", times=max(1, n // 2))
    control.add_fault("error", status=503, method="PUT", path=doc_paths, times=n)
    control.add_fault("error", status=500, path=r"/Attachments/", times=n)
    control.add_fault("error", status=502, method="GET", times=n)
    control.add_fault("rate_limit", problem="minute", retry_after=1, times=2 * n)
    control.add_fault("timeout", method="PUT", path=doc_paths, seconds=8, times=max(1, n // 4))
    if rng.random() < 0.5:
        control.add_fault("rate_limit", problem="concurrent", retry_after=1, times=n)
    control.close()


def run_faults(stack: Stack, plan: Plan, companies: list[int], rng: random.Random) -> Tally:
    from xero_sandbox.testing import ControlClient

    tally = Tally()
    racers: list[subprocess.Popen[bytes]] = []
    for round_number in range(plan.rounds):
        share = 1.0 if round_number == plan.rounds - 1 else 1 / plan.rounds
        released = release_wave(companies, share, tally)
        print(f"  wave {round_number + 1}/{plan.rounds}: {released} documents released", flush=True)
        sandbox_faults(stack, plan, rng)
        actions: list[tuple[float, Callable[[], None]]] = []
        for _ in range(plan.workers):
            actions.append((rng.uniform(0.05, 0.9), lambda: kill_worker(stack, rng, tally)))
        actions.append((rng.uniform(0.3, 0.6), lambda: restart_redis(stack, tally)))
        actions.append((rng.uniform(0.1, 0.4), lambda: terminate_pg_connections(tally)))
        actions.append((rng.uniform(0.6, 0.9), lambda: terminate_pg_connections(tally)))
        ours_too = round_number % 2 == 0

        def expire(ours_too: bool = ours_too) -> None:
            racers.extend(expire_tokens(stack, companies, tally, ours_too=ours_too))

        actions.append((rng.uniform(0.4, 0.8), expire))
        started = time.monotonic()
        for at, action in sorted(actions, key=lambda a: a[0]):
            delay = started + at * plan.round_seconds - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            action()
        time.sleep(max(0.0, started + plan.round_seconds - time.monotonic()))
    control = ControlClient(stack.sandbox_url)
    control.clear_faults()
    control.close()
    for racer in racers:
        if racer.wait(timeout=120) != 0:
            tally.refresh_racer_errors += 1
    return tally


# ---------------------------------------------------------------------------- drain


def drain(plan: Plan) -> tuple[bool, float]:
    """Until nothing is left to do (retry waits moved forward, companies nudged)."""
    from django.db import close_old_connections
    from django.db.models import Q

    from ledgerbridge.accounting.models import StepStatus, SyncRecord, SyncStatus
    from ledgerbridge.accounting.outbox import companies_with_due_work
    from ledgerbridge.accounting.tasks import sync_company

    unfinished = (
        Q(status__in=[SyncStatus.PENDING, SyncStatus.POSTING])
        | Q(status=SyncStatus.POSTED, attachment_status=StepStatus.PENDING)
        | Q(status=SyncStatus.POSTED, allocation_status=StepStatus.WAITING)
    )
    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < plan.drain_seconds:
        close_old_connections()
        SyncRecord.objects.filter(status=SyncStatus.PENDING).update(next_attempt_at=None)
        if not SyncRecord.objects.filter(unfinished).exists():
            quiet += 1
            if quiet >= 2:  # twice in a row: no run was between two steps
                return True, time.monotonic() - started
        else:
            quiet = 0
            for company_id in companies_with_due_work():
                sync_company(company_id)
        time.sleep(3.0)
    return False, time.monotonic() - started


# ---------------------------------------------------------------------------- audit


def _xero_get(
    http: httpx.Client, token: str, tenant: str, path: str, params: dict[str, Any]
) -> dict[str, Any]:
    while True:
        answer = http.get(
            f"/api.xro/2.0/{path}",
            params=params,
            headers={
                "Authorization": f"Bearer {token}",
                "xero-tenant-id": tenant,
                "Accept": "application/json",
            },
        )
        if answer.status_code == 429:
            time.sleep(float(answer.headers.get("retry-after") or 1))
            continue
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body


def _xero_all(http: httpx.Client, token: str, tenant: str, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        batch = _xero_get(http, token, tenant, path, {"page": page})[path]
        items += batch
        if len(batch) < 100:
            return items
        page += 1


@dataclass
class Audit:
    documents: int = 0
    posted: int = 0
    in_xero_once: int = 0
    duplicates: int = 0  # extra copies in Xero
    lost: int = 0  # not in Xero, and nothing in the TMS says why
    wrong_state: int = 0  # record says posted but Xero disagrees, or failed though in Xero
    failed_with_reason: int = 0
    needs_attention: int = 0
    retryable: int = 0
    stuck_posting: int = 0
    attachments_done: int = 0
    allocations_done: int = 0
    duplicate_contacts: int = 0
    links_not_connected: int = 0
    problems: list[str] = field(default_factory=list)


def audit(stack: Stack, tenants: dict[int, str]) -> Audit:
    from django.db import close_old_connections
    from django.utils import timezone

    from ledgerbridge.accounting.leases import leases_held
    from ledgerbridge.accounting.models import StepStatus, SyncRecord, SyncStatus
    from ledgerbridge.accounting.outbox import LEASE_PREFIX
    from ledgerbridge.invoicing.models import Document
    from ledgerbridge.xero.models import LinkStatus, XeroConnection
    from ledgerbridge.xero.payloads import XERO_TYPES, xero_number
    from xero_sandbox.testing import ControlClient

    close_old_connections()
    result = Audit()
    control = ControlClient(stack.sandbox_url)
    # An app of its own, so reading back does not use the product's rate limits.
    control.create_app(AUDIT_CLIENT[0], client_secret=AUDIT_CLIENT[1])
    token = control.mint_token(tenant_ids=list(tenants.values()), client_id=AUDIT_CLIENT[0])
    control.close()
    access = str(token["access_token"])
    live = {int(n.removeprefix(LEASE_PREFIX)) for n in leases_held(LEASE_PREFIX)}
    now = timezone.now()
    with httpx.Client(base_url=stack.sandbox_url, timeout=60) as http:
        for company_id, tenant in tenants.items():
            in_xero: Counter[tuple[str, str]] = Counter()
            ids: dict[tuple[str, str], str] = {}
            allocations: dict[tuple[str, str], list[Any]] = {}
            for path, id_field, number_field in (
                ("Invoices", "InvoiceID", "InvoiceNumber"),
                ("CreditNotes", "CreditNoteID", "CreditNoteNumber"),
            ):
                for item in _xero_all(http, access, tenant, path):
                    if item.get("Status") in ("DELETED", "VOIDED"):
                        continue
                    key = (str(item["Type"]), str(item.get(number_field) or ""))
                    in_xero[key] += 1
                    ids[key] = str(item[id_field])
                    allocations[key] = list(item.get("Allocations") or [])
            contacts = Counter(
                c.get("ContactNumber") or c.get("Name")
                for c in _xero_all(http, access, tenant, "Contacts")
            )
            result.duplicate_contacts += sum(n - 1 for n in contacts.values() if n > 1)
            records = {r.document_id: r for r in SyncRecord.objects.filter(company_id=company_id)}
            ours: set[tuple[str, str]] = set()
            for document in Document.objects.filter(company_id=company_id):
                result.documents += 1
                key = (XERO_TYPES[document.type], xero_number(document))
                ours.add(key)
                copies = in_xero[key]
                record = records.get(document.pk)
                label = f"company {company_id} {document.type} {key[1]}"
                if copies > 1:
                    result.duplicates += copies - 1
                    result.problems.append(f"{label}: {copies} copies in Xero")
                if copies == 1:
                    result.in_xero_once += 1
                if record is None:
                    if not copies:
                        result.lost += 1
                        result.problems.append(f"{label}: never queued")
                    continue
                status = record.status
                if status == SyncStatus.POSTED:
                    result.posted += 1
                    if record.attachment_status == StepStatus.DONE:
                        result.attachments_done += 1
                    if record.allocation_status == StepStatus.DONE:
                        result.allocations_done += 1
                    allocated = len(allocations.get(key, []))
                    unallocated = (StepStatus.SKIPPED, StepStatus.FAILED)
                    if (
                        allocated > 1
                        or (allocated == 1 and record.allocation_status in unallocated)
                        or (allocated == 0 and record.allocation_status == StepStatus.DONE)
                    ):
                        result.wrong_state += 1
                        result.problems.append(
                            f"{label}: {allocated} allocations in Xero, recorded "
                            f"{record.allocation_status}: {record.allocation_message}"
                        )
                    if not copies:
                        result.lost += 1
                        result.problems.append(f"{label}: posted, but not in Xero")
                    elif ids.get(key) != record.external_id and copies == 1:
                        result.wrong_state += 1
                        result.problems.append(f"{label}: posted with another Xero id")
                elif status == SyncStatus.POSTING:
                    if company_id not in live:
                        result.stuck_posting += 1
                        result.problems.append(f"{label}: posting, and no worker holds it")
                elif status == SyncStatus.PENDING:
                    if record.next_attempt_at is None or record.next_attempt_at < now:
                        result.problems.append(f"{label}: pending, due, not taken")
                    result.retryable += 1
                    if copies:
                        result.wrong_state += 1
                        result.problems.append(f"{label}: in Xero, still pending")
                else:  # failed / needs attention
                    if status == SyncStatus.FAILED:
                        result.failed_with_reason += 1 if record.message else 0
                    else:
                        result.needs_attention += 1
                    if not record.message:
                        result.lost += 1
                        result.problems.append(f"{label}: {status} without a reason")
                    if copies:
                        result.wrong_state += 1
                        result.problems.append(
                            f"{label}: in Xero, recorded {status}: {record.message}"
                        )
            strangers = set(in_xero) - ours
            for key in strangers:
                result.problems.append(f"company {company_id}: unknown document in Xero {key}")
    result.links_not_connected = XeroConnection.objects.exclude(status=LinkStatus.CONNECTED).count()
    return result


# ---------------------------------------------------------------------------- the run


def calls_summary(stack: Stack) -> dict[str, int]:
    from xero_sandbox.testing import ControlClient

    control = ControlClient(stack.sandbox_url, timeout=60)
    calls = control.calls()
    control.close()
    statuses = Counter(int(c["status"] or 0) for c in calls)
    return {
        "calls": len(calls),
        "http_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "http_429": statuses[429],
        "dropped": sum(1 for c in calls if c.get("dropped")),
        "http_401": statuses[401],
    }


def run(plan: Plan, *, database_url: str, seed: int, keep_logs: bool) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 - choosing faults, not secrets
    var_dir = tempfile.mkdtemp(prefix="ledgerbridge-faults-")
    stack = Stack(plan, var_dir, database_url)
    t0 = time.monotonic()
    ok = False
    try:
        stack.start_redis()
        stack.start_sandbox()
        postgres_database_ensure(database_url, fresh=True)
        _django_setup(stack)
        tenants = setup_companies(stack, plan, rng)
        render_s = render_all_pdfs()
        from django.db import close_old_connections
        from huey.contrib.djhuey import HUEY

        close_old_connections()
        HUEY.storage.flush_all()  # finalising queued PDF renders; they are done
        setup_s = time.monotonic() - t0
        print(
            f"  set up {plan.companies} companies x {plan.documents} documents in {setup_s:.0f} s "
            f"(PDFs {render_s:.0f} s); {plan.workers} workers",
            flush=True,
        )
        stack.start_workers()
        t1 = time.monotonic()
        tally = run_faults(stack, plan, list(tenants), rng)
        fault_s = time.monotonic() - t1
        print("  faults over; draining", flush=True)
        drained, drain_s = drain(plan)
        stack.stop_workers()  # the audit reads a still picture
        result = report(stack, plan, tenants, tally, drained, fault_s=fault_s, drain_s=drain_s)
        ok = bool(result["ok"])
        return result
    finally:
        stack.stop()
        if ok and not keep_logs:
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            print(f"  logs kept in {var_dir}", flush=True)


def report(
    stack: Stack,
    plan: Plan,
    tenants: dict[int, str],
    tally: Tally,
    drained: bool,
    *,
    fault_s: float,
    drain_s: float,
) -> dict[str, Any]:
    calls = calls_summary(stack)
    checked = audit(stack, tenants)
    peak = max(stack.group.peak_rss_mb(name) for name in stack.worker_names())
    ok = (
        checked.duplicates == 0
        and checked.lost == 0
        and checked.wrong_state == 0
        and checked.stuck_posting == 0
        and checked.links_not_connected == 0
    )
    print(
        f"bench faults: {plan.companies} companies x {plan.documents} documents, "
        f"{plan.workers} workers, {plan.rounds} waves, lease {plan.lease_seconds:g} s, "
        f"sandbox clock x{plan.time_scale:g}\n"
        f"  documents                 : {checked.documents}\n"
        f"  posted                    : {checked.posted}\n"
        f"  in Xero exactly once      : {checked.in_xero_once}\n"
        f"  duplicates in Xero        : {checked.duplicates}\n"
        f"  lost                      : {checked.lost}\n"
        f"  wrong state               : {checked.wrong_state}\n"
        f"  failed with a reason      : {checked.failed_with_reason}\n"
        f"  needs attention           : {checked.needs_attention}\n"
        f"  pending, retryable        : {checked.retryable}\n"
        f"  stuck in posting          : {checked.stuck_posting}\n"
        f"  PDFs attached             : {checked.attachments_done}\n"
        f"  credit notes allocated    : {checked.allocations_done}\n"
        f"  duplicate contacts        : {checked.duplicate_contacts}\n"
        f"  links not connected       : {checked.links_not_connected}\n"
        f"  faults injected:\n"
        f"    workers SIGKILLed       : {tally.kills} ({tally.kills_in_flight} with documents "
        f"in posting)\n"
        f"    Redis killed/restarted  : {tally.redis_restarts}"
        + (f" ({tally.nudges_lost} nudges lost)" if tally.nudges_lost else "")
        + "\n"
        f"    PostgreSQL connections  : {tally.pg_terminated} terminated in {tally.pg_rounds} "
        f"rounds\n"
        f"    Xero 5xx answers        : {calls['http_5xx']}\n"
        f"    Xero 429 answers        : {calls['http_429']}\n"
        f"    responses dropped       : {calls['dropped']} (after Xero committed)\n"
        f"    tokens expired          : {tally.token_expiries} times, all links; "
        f"{tally.refresh_racers} racing refresh processes ({tally.refresh_racer_errors} "
        f"failed), {calls['http_401']} 401s\n"
        f"  Xero calls                : {calls['calls']}\n"
        f"  time                      : faults {fault_s:.0f} s, drain {drain_s:.0f} s"
        + ("" if drained else " (gave up waiting)")
        + f"; peak worker RSS {peak:.0f} MB\n"
        f"  result                    : {'OK' if ok else 'FAILED'}",
        flush=True,
    )
    for problem in checked.problems[:30]:
        print(f"  ! {problem}", flush=True)
    return {
        **{k: v for k, v in checked.__dict__.items() if k != "problems"},
        **{k: v for k, v in tally.__dict__.items() if k != "notes"},
        **calls,
        "problems": checked.problems,
        "drained": drained,
        "fault_seconds": round(fault_s, 1),
        "drain_seconds": round(drain_s, 1),
        "ok": ok,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ledgerbridge bench faults", description=__doc__)
    parser.add_argument("--short", action="store_true", help=f"a small run: {SHORT}")
    parser.add_argument("--companies", type=int)
    parser.add_argument("--documents", type=int, help="per company")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--rounds", type=int, help="waves of documents, each under every fault")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--json", action="store_true", help="also print the counts as JSON")
    parser.add_argument("--keep-logs", action="store_true")
    options = parser.parse_args(argv)
    plan = SHORT if options.short else LONG
    changes = {
        name: getattr(options, name)
        for name in ("companies", "documents", "workers", "rounds")
        if getattr(options, name)
    }
    plan = Plan(**{**plan.__dict__, **changes})
    if shutil.which("redis-server") is None:
        print("bench faults: needs redis-server on the PATH", file=sys.stderr)
        return 2
    result = run(
        plan, database_url=options.database_url, seed=options.seed, keep_logs=options.keep_logs
    )
    if options.json:
        print("FAULTS-JSON " + json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
