"""``ledgerbridge bench reconcile``: does reconciliation find what a Xero user changed,
and what does reading Xero for it cost?

One in-process sandbox (webhooks off: the bench reads, it does not listen) holds
``--organisations`` organisations, each linked to its own company. Each company
gets its share of ``--documents`` final sales invoices and credit notes (two lines,
VAT, tracking, an order reference, issue dates over November 2026), made in bulk
from a few templates as ``bench scale`` makes them, and posted through the real
outbox and Xero connector (no PDFs: an attachment is one call per document and
reconciliation never reads it). So every sync record holds exactly the fingerprint
posting stores, and the Xero side is exactly what posting sends.

Then a simulated Xero user, through the sandbox's control API, makes ``--changes``
changes of every kind to documents of ours (amounts, lines, account, tracking,
contact, dates, reference), pays ``--changes`` invoices, types ``--hand-typed``
documents for our customers (half of them copies of ours: duplicates), voids
``--voids`` (Xero refuses to delete an approved document; voiding is what its users
do) and types ``--strangers`` invoices for a walk-in customer in a number series of
its own: not ours, so they must not be listed at all. Each planted document gets one
change, so it has one expected class.

A full-period reconciliation runs per company through the real Xero reader over
HTTP; a tenth of each kind of change is made only after it, before an incremental
reconciliation. Each run is scored against the plan as it stood: per class,
planted, found, missed and false alarms (a row in a class it should not be in);
and Xero calls (by what they read) and bytes per 1,000 documents in Xero, and the
time.
Asserts nothing; the test runs it in small and asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from copy import copy as shallow_copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Django is set up by the command, after parsing its options
    from xero_sandbox.testing import RunningSandbox

PERIOD_FROM, PERIOD_TO = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
CUSTOMERS_PER_COMPANY = 25
CREDIT_NOTE_EVERY = 10  # one document in ten is a credit note
LATE_SHARE = 10  # the changes made between the full and the incremental run: one in ten
CALLS_GOAL = 5  # Xero calls per 1,000 documents for a full-period reconciliation
# Documents are posted as if this long before the Xero user's changes (the sandbox's
# clock and the outbox's run time set back together): reconciliation takes a change
# stamped within two minutes of posting for the posting itself and learns of a
# person's early edits from webhooks, which this bench does not listen to.
POSTED_AGO = dt.timedelta(minutes=10)

# Outcome names as ``ReconcileOutcome`` stores them, in the order the table prints.
AGREES, MISSING, ONLY, DIFFERS, STATUS = (
    "agrees",
    "missing",
    "only_in_package",
    "differs",
    "status_differs",
)
CLASSES = (AGREES, MISSING, ONLY, DIFFERS, STATUS)
CLASS_LABELS = {
    AGREES: "agrees",
    MISSING: "missing in Xero",
    ONLY: "only in Xero",
    DIFFERS: "differs",
    STATUS: "status differs",
}
# What a Xero user does to one document, and the class it must then be in.
EDITS = ("amount", "lines", "account", "tracking", "contact", "date", "reference")
EXPECTED: dict[str, str] = {
    **dict.fromkeys(EDITS, DIFFERS),
    "paid": STATUS,
    # Voided in Xero while the TMS holds it final and posted: the status differs.
    "voided": STATUS,
    "typed": ONLY,
    "duplicate": ONLY,
    # Typed in Xero for someone who is not our customer, outside our number series:
    # not ours, so no row at all (a row for it is a false alarm).
    "stranger": "",
}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the world


@dataclass
class Organisation:
    company_id: int
    tenant_id: str
    name: str


@dataclass
class Planted:
    """One change a Xero user made, and the class it must land in."""

    company_id: int
    kind: str
    wave: int  # 1: before the full run; 2: before the incremental one
    document_id: int | None = None  # ours, or None for a document typed in Xero
    external_id: str = ""

    @property
    def expected(self) -> str:
        return EXPECTED[self.kind]


@dataclass
class Score:
    planted: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)
    false_alarms: Counter[str] = field(default_factory=Counter)
    # What a false alarm or a miss was, for the report: (expected, got) -> count.
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)


@dataclass
class RunFigures:
    label: str
    score: Score
    calls: int
    bytes_read: int
    seconds: float
    documents_in_xero: int
    # Xero calls by what they read, from the sandbox's call log.
    calls_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def calls_per_1000(self) -> float:
        return self.calls * 1000 / self.documents_in_xero

    @property
    def kb_per_1000(self) -> float:
        return self.bytes_read / 1024 * 1000 / self.documents_in_xero


@dataclass
class BenchResult:
    organisations: int
    documents: int
    seed_seconds: float
    plant_seconds: float
    full: RunFigures
    incremental: RunFigures
    planted_kinds: Counter[str] = field(default_factory=Counter)


def companies_create(count: int, documents: int) -> list[int]:
    """``count`` companies on Xero (API), sharing ``documents`` final documents."""
    from django.db import transaction

    from ledgerbridge.accounting.models import AccountingSettings
    from ledgerbridge.companies.models import Company, Role
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.invoicing.models import Document, DocumentLine, LineDimension
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
        share = documents // count + (1 if n < documents % count else 0)
        with transaction.atomic():
            company = Company.objects.create(legal_name=f"Reconcile Haulage {n + 1:02d} Ltd")
            AccountingSettings.objects.create(
                company=company,
                package="xero_api",
                auto_post_sales_invoice=False,
                auto_post_sales_credit_note=False,
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
            # A few shapes of document, copied to reach the count.
            templates = []
            for doc_type, lines in (
                (
                    "sales_invoice",
                    [
                        LineInput("Freight Leeds - Hull", "freight", 1, 450, "200", "S20"),
                        LineInput("Fuel surcharge", "fuel_surcharge", 1, 49.5, "201", "S20"),
                    ],
                ),
                (
                    "sales_invoice",
                    [
                        LineInput("Freight Dover - Calais", "freight", 2, 615.25, "200", "S20"),
                        LineInput("Fuel surcharge", "fuel_surcharge", 2, 63.4, "201", "S20"),
                    ],
                ),
                (
                    "sales_credit_note",
                    [
                        LineInput("Freight refund", "freight", 1, 120, "200", "S20"),
                        LineInput("Fuel surcharge refund", "fuel_surcharge", 1, 12.6, "201", "S20"),
                    ],
                ),
            ):
                template = document_create(
                    actor=actor,
                    data=DocumentInput(
                        type=doc_type,
                        partner_id=customers[0].pk,
                        issue_date=PERIOD_FROM,
                        order_reference="PO-0",
                        lines=lines,
                    ),
                )
                templates.append(document_finalise(actor=actor, document_id=template.pk))
            lines_of = {
                t.pk: list(DocumentLine.objects.filter(document=t).order_by("pk"))
                for t in templates
            }
            dims_of: dict[int, list[LineDimension]] = defaultdict(list)
            for dim in LineDimension.objects.filter(line__document__in=templates):
                dims_of[dim.line_id].append(dim)
            copies, sources = [], []
            for i in range(max(0, share - len(templates))):
                template = (
                    templates[2]
                    if i % CREDIT_NOTE_EVERY == CREDIT_NOTE_EVERY - 1
                    else templates[i % 2]
                )
                copy = shallow_copy(template)
                copy.pk = None
                copy.number = f"{template.number}-{i:05d}"
                copy.partner = customers[i % len(customers)]
                copy.issue_date = PERIOD_FROM + dt.timedelta(days=i % 27)
                copy.due_date = copy.issue_date + (template.due_date - template.issue_date)
                copy.order_reference = f"PO-{n + 1:02d}-{i:05d}"
                copies.append(copy)
                sources.append(template)
            Document.objects.bulk_create(copies, batch_size=1000)
            new_lines: list[tuple[int, DocumentLine]] = []
            for copy, template in zip(copies, sources, strict=True):
                for line in lines_of[template.pk]:
                    new_line = shallow_copy(line)
                    new_line.pk, new_line.document = None, copy
                    new_lines.append((line.pk, new_line))
            DocumentLine.objects.bulk_create([new for _, new in new_lines], batch_size=2000)
            LineDimension.objects.bulk_create(
                [
                    LineDimension(
                        line=new_line, dimension_id=dim.dimension_id, value_id=dim.value_id
                    )
                    for old_pk, new_line in new_lines
                    for dim in dims_of[old_pk]
                ],
                batch_size=2000,
            )
        ids.append(company.pk)
        _log(f"  TMS: {n + 1}/{count} companies ({time.monotonic() - t0:.0f} s)")
    return ids


def organisations_link(running: RunningSandbox, company_ids: list[int]) -> list[Organisation]:
    """Each company linked to an organisation of its own, set up for the starter coding."""
    from ledgerbridge.bench.link import sandbox_link
    from ledgerbridge.companies.models import Company
    from ledgerbridge.xero.models import XeroPaymentPoll

    organisations = []
    for company_id in company_ids:
        name = Company.objects.get(pk=company_id).legal_name
        org = running.control.create_org(f"{name} (Xero)")
        sandbox_link(
            running.control,
            company_id=company_id,
            tenant_id=org["tenant_id"],
            tenant_name=org["name"],
            short_code=org["short_code"],
        )
        # Payment polling is not what this bench measures.
        XeroPaymentPoll.objects.update_or_create(
            company_id=company_id, defaults={"last_polled_at": _now()}
        )
        organisations.append(Organisation(company_id, org["tenant_id"], name))
    return organisations


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def documents_post(running: RunningSandbox, organisations: list[Organisation]) -> int:
    """Every final document posted through the outbox and the Xero connector, no PDFs,
    ``POSTED_AGO`` before now."""
    running.control.clock(now=time.time() - POSTED_AGO.total_seconds())
    try:
        posted = _post_all(organisations)
    finally:
        running.control.clock(now=time.time())
    _payment_states_read(organisations)
    return posted


def _payment_states_read(organisations: list[Organisation]) -> None:
    """What the first payment poll after posting records: every document unpaid, its
    whole total due (the bench's poll is not measured; payments has its own bench).
    Without it the TMS would believe nothing of payments, and a payment made in
    Xero would contradict nothing."""
    from decimal import Decimal

    from ledgerbridge.accounting.models import PaymentState, PaymentStatus, SyncRecord

    states = []
    for record in SyncRecord.objects.filter(
        company_id__in=[o.company_id for o in organisations], payment__isnull=True
    ).only("pk", "company_id", "external_total", "posted_at"):
        total = record.external_total or Decimal("0")
        states.append(
            PaymentState(
                record=record,
                company_id=record.company_id,
                status=PaymentStatus.UNPAID,
                total=total,
                amount_due=total,
                remote_updated_at=record.posted_at,
                changed_at=record.posted_at,
                last_checked_at=record.posted_at,
            )
        )
    PaymentState.objects.bulk_create(states, batch_size=2000)


def _post_all(organisations: list[Organisation]) -> int:
    from ledgerbridge.accounting.models import StepStatus, SyncRecord, SyncStatus
    from ledgerbridge.accounting.outbox import sync_company_run
    from ledgerbridge.invoicing.models import Document

    total = 0
    t0 = time.monotonic()
    for number, org in enumerate(organisations, 1):
        documents = Document.objects.filter(company_id=org.company_id, status="final")
        SyncRecord.objects.bulk_create(
            [
                SyncRecord(
                    document_id=pk,
                    company_id=org.company_id,
                    attachment_status=StepStatus.NOT_NEEDED,
                    allocation_status=StepStatus.NOT_NEEDED,
                )
                for pk in documents.filter(sync_record__isnull=True).values_list("pk", flat=True)
            ],
            batch_size=2000,
        )
        wanted = documents.count()
        for _ in range(wanted // 10 + 10):
            SyncRecord.objects.filter(company_id=org.company_id, status=SyncStatus.PENDING).update(
                next_attempt_at=None
            )
            sync_company_run(company_id=org.company_id, now=_now() - POSTED_AGO)
            left = (
                SyncRecord.objects.filter(company_id=org.company_id)
                .exclude(status=SyncStatus.POSTED)
                .count()
            )
            if not left:
                break
        else:
            messages = set(
                SyncRecord.objects.filter(company_id=org.company_id)
                .exclude(status=SyncStatus.POSTED)
                .values_list("message", flat=True)[:5]
            )
            raise SystemExit(f"bench reconcile: {left} documents not posted: {messages}")
        total += wanted
        _log(
            f"  posted: {number}/{len(organisations)} organisations, {total} documents "
            f"({time.monotonic() - t0:.0f} s)"
        )
    return total


# ---------------------------------------------------------------- a Xero user at work


def plan_make(
    organisations: list[Organisation],
    *,
    changes: int,
    hand_typed: int,
    voids: int,
    strangers: int = 0,
    seed: int = 15,
) -> list[Planted]:
    """Which documents get which change: ``changes`` of every kind and payments,
    ``voids`` voided, ``hand_typed`` typed in Xero (half of them duplicates of ours)
    and ``strangers`` typed for someone else, spread over the organisations, one
    change per document; one in ``LATE_SHARE`` of each kind is made after the full run."""
    from ledgerbridge.accounting.models import SyncRecord

    rng = random.Random(seed)  # noqa: S311 - choosing documents, not secrets
    records = list(
        SyncRecord.objects.filter(company_id__in=[o.company_id for o in organisations])
        .order_by("pk")
        .values_list("company_id", "document_id", "external_id", "document__type")
    )
    rng.shuffle(records)
    invoices = [r for r in records if r[3] == "sales_invoice"]
    used: set[int] = set()
    plan: list[Planted] = []

    def take(count: int, kind: str, pool: list[tuple[int, int, str, str]]) -> None:
        chosen = [r for r in pool if r[1] not in used][:count]
        if len(chosen) < count:
            raise SystemExit(f"bench reconcile: too few documents for {count} {kind} changes")
        for n, (company_id, document_id, external_id, _) in enumerate(chosen):
            used.add(document_id)
            plan.append(Planted(company_id, kind, _wave(n, count), document_id, external_id))

    take(changes, "paid", invoices)
    for kind in EDITS:
        take(changes, kind, records)
    take(voids, "voided", records)
    # Typed documents copy or resemble documents that stay as they are.
    sources = [r for r in records if r[1] not in used][:hand_typed]
    for n, (company_id, _, external_id, _) in enumerate(sources):
        kind = "duplicate" if n % 2 == 0 else "typed"
        # external_id here is the source's; the typed one replaces it once made.
        plan.append(Planted(company_id, kind, _wave(n // 2, hand_typed // 2), None, external_id))
    for n in range(strangers):
        company_id = organisations[n % len(organisations)].company_id
        plan.append(Planted(company_id, "stranger", _wave(n, strangers)))
    return plan


def _wave(n: int, count: int) -> int:
    """The last tenth of a kind (at least one of two or more) waits for the second wave."""
    late = max(1, count // LATE_SHARE) if count > 1 else 0
    return 2 if n >= count - late else 1


class XeroUser:
    """A person at work in Xero's screens: the sandbox's control API, reading the
    organisation's documents from the sandbox itself (what the person sees)."""

    def __init__(self, running: RunningSandbox, organisations: list[Organisation]) -> None:
        from ledgerbridge.xero.models import XeroContactLink

        self.control = running.control
        self.store = running.sandbox.store
        self.tenant = {o.company_id: o.tenant_id for o in organisations}
        self.contacts: dict[str, list[str]] = defaultdict(list)
        self.strangers: dict[str, str] = {}  # tenant -> a contact that is not ours
        self.typed = 0
        for tenant_id, contact_id in XeroContactLink.objects.filter(
            tenant_id__in=self.tenant.values()
        ).values_list("tenant_id", "contact_id"):
            self.contacts[tenant_id].append(contact_id)

    def _document(self, tenant_id: str, external_id: str) -> tuple[str, dict[str, Any]]:
        for kind in ("invoice", "creditnote"):
            doc = self.store.get_doc(tenant_id, kind, external_id)
            if doc is not None:
                return ("credit" if "CreditNoteID" in doc else "invoice"), doc
        raise SystemExit(f"bench reconcile: {external_id} is not in the sandbox")

    def act(self, planted: Planted) -> None:
        tenant_id = self.tenant[planted.company_id]
        if planted.kind == "stranger":
            self._stranger(tenant_id, planted)
            return
        kind, doc = self._document(tenant_id, planted.external_id)
        edit = self.control.edit_credit_note if kind == "credit" else self.control.edit_invoice
        lines = doc["LineItems"]
        keep = [{"LineItemID": line["LineItemID"]} for line in lines]
        first = lines[0]
        if planted.kind == "amount":
            edit(
                tenant_id,
                planted.external_id,
                LineItems=[
                    {**keep[0], "UnitAmount": float(first["UnitAmount"]) + 10},
                    *keep[1:],
                ],
            )
        elif planted.kind == "lines":
            extra = {
                "Description": "Waiting time",
                "Quantity": 1,
                "UnitAmount": 35,
                "AccountCode": first["AccountCode"],
                "TaxType": first["TaxType"],
            }
            edit(tenant_id, planted.external_id, LineItems=[*keep, extra])
        elif planted.kind == "account":
            code = "260" if first["AccountCode"] != "260" else "200"
            edit(
                tenant_id,
                planted.external_id,
                LineItems=[{**keep[0], "AccountCode": code}, *keep[1:]],
            )
        elif planted.kind == "tracking":
            tracking = [
                {"Name": t["Name"], "Option": _other_option(t["Name"], t["Option"])}
                for t in first.get("Tracking") or []
            ] or [{"Name": "Business unit", "Option": "Warehousing"}]
            edit(
                tenant_id,
                planted.external_id,
                LineItems=[{**keep[0], "Tracking": tracking}, *keep[1:]],
            )
        elif planted.kind == "contact":
            current = doc["Contact"]["ContactID"]
            other = next(c for c in self.contacts[tenant_id] if c.lower() != current.lower())
            edit(tenant_id, planted.external_id, Contact={"ContactID": other})
        elif planted.kind == "date":
            edit(tenant_id, planted.external_id, Date=_shifted(doc["Date"], days=1))
        elif planted.kind == "reference":
            edit(tenant_id, planted.external_id, Reference=f"{doc.get('Reference', '')} (typed)")
        elif planted.kind == "paid":
            self.control.record_payment(tenant_id, invoice_id=planted.external_id)
        elif planted.kind == "voided":
            if kind == "credit":
                self.control.void_credit_note(tenant_id, planted.external_id)
            else:
                self.control.void_invoice(tenant_id, planted.external_id)
        else:  # typed or duplicate: a new document beside ours
            create = (
                self.control.create_credit_note if kind == "credit" else self.control.create_invoice
            )
            copied = planted.kind == "duplicate"
            fields: dict[str, Any] = {
                "Type": doc["Type"],
                "Contact": {"ContactID": doc["Contact"]["ContactID"]},
                "Date": _shifted(doc["Date"], days=0),
                "Reference": doc.get("Reference", "") if copied else "Typed in Xero",
                "LineAmountTypes": "Exclusive",
                "Status": "AUTHORISED",
                "LineItems": [
                    {
                        "Description": line.get("Description", ""),
                        "Quantity": line.get("Quantity", 1),
                        "UnitAmount": line["UnitAmount"] if copied else 77,
                        "AccountCode": line["AccountCode"],
                        "TaxType": line["TaxType"],
                        "Tracking": [
                            {"Name": t["Name"], "Option": t["Option"]}
                            for t in line.get("Tracking") or []
                        ],
                    }
                    for line in lines
                ],
            }
            if kind == "invoice":
                fields["DueDate"] = _shifted(doc["DueDate"], days=0)
            made = create(tenant_id, **fields)
            planted.external_id = str(made.get("InvoiceID") or made.get("CreditNoteID"))

    def _stranger(self, tenant_id: str, planted: Planted) -> None:
        if tenant_id not in self.strangers:
            contact = self.control.create_contact(tenant_id, Name="Walk-in cash sales")
            self.strangers[tenant_id] = contact["ContactID"]
        self.typed += 1
        made = self.control.create_invoice(
            tenant_id,
            Type="ACCREC",
            InvoiceNumber=f"CASH-{self.typed:05d}",
            Contact={"ContactID": self.strangers[tenant_id]},
            Date=(PERIOD_FROM + dt.timedelta(days=self.typed % 27)).isoformat(),
            DueDate=PERIOD_TO.isoformat(),
            LineAmountTypes="Exclusive",
            Status="AUTHORISED",
            LineItems=[
                {
                    "Description": "Pallet storage",
                    "Quantity": 1,
                    "UnitAmount": 40,
                    "AccountCode": "200",
                    "TaxType": "OUTPUT2",
                }
            ],
        )
        planted.external_id = str(made["InvoiceID"])


TRACKING_OPTIONS = {
    "Business unit": ("Domestic", "International", "Warehousing"),
    "Vehicle type": ("Articulated", "Rigid", "Van"),
}


def _other_option(category: str, option: str) -> str:
    options = TRACKING_OPTIONS.get(category, (option,))
    return next((o for o in options if o != option), option)


def _shifted(xero_date: str, *, days: int) -> str:
    """A Xero date (``/Date(ms+0000)/`` or ISO) moved by ``days``, as ISO."""
    if xero_date.startswith("/Date("):
        ms = int(xero_date[6:].split("+")[0].split(")")[0])
        day = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).date()
    else:
        day = dt.date.fromisoformat(xero_date[:10])
    return (day + dt.timedelta(days=days)).isoformat()


def plan_apply(user: XeroUser, plan: list[Planted], *, wave: int) -> float:
    t0 = time.monotonic()
    todo = [p for p in plan if p.wave == wave]
    for n, planted in enumerate(todo, 1):
        user.act(planted)
        if n % 250 == 0 or n == len(todo):
            _log(
                f"  Xero user, wave {wave}: {n}/{len(todo)} changes ({time.monotonic() - t0:.0f} s)"
            )
    return time.monotonic() - t0


# ---------------------------------------------------------------- reconciling and scoring


def call_kind(call: dict[str, Any]) -> str:
    """What a Xero call of a reconciliation read, in the report's words."""
    path, query = call["path"], call.get("query") or ""
    name = path.rsplit("/", 1)[-1]
    if name == "Invoices" and "IDs=" in query:
        return "invoices in detail (IDs=)"
    if name == "Invoices":
        if "summaryonly=true" in query.lower():
            return "invoice summaries"
        return "invoice pages (with lines)"
    if name == "CreditNotes":
        if "creditnoteid" in query.lower():
            return "credit notes in detail (by id)"
        return "credit-note pages (with lines)"
    return name or path


def reconcile_all(
    organisations: list[Organisation], *, incremental: bool
) -> tuple[dict[int, int], float]:
    """One run per company through the registered Xero reader; run ids and seconds."""
    from ledgerbridge.accounting.connector import reader_for
    from ledgerbridge.accounting.reconcile import reconciliation_run
    from ledgerbridge.companies.models import Company

    reader = reader_for("xero_api")
    if reader is None:
        raise SystemExit("bench reconcile: no Xero books reader is registered")
    runs = {}
    t0 = time.monotonic()
    for number, org in enumerate(organisations, 1):
        run = reconciliation_run(
            Company.objects.get(pk=org.company_id),
            date_from=PERIOD_FROM,
            date_to=PERIOD_TO,
            incremental=incremental,
            reader=reader,
            now=_now(),
        )
        if run.error:
            raise SystemExit(f"bench reconcile: {org.name}: {run.error}")
        runs[org.company_id] = run.pk
        if number % 5 == 0 or number == len(organisations):
            label = "incremental" if incremental else "full"
            _log(
                f"  {label} reconciliation: {number}/{len(organisations)} organisations "
                f"({time.monotonic() - t0:.1f} s)"
            )
    return runs, time.monotonic() - t0


def score(runs: dict[int, int], plan: list[Planted], *, up_to_wave: int) -> Score:
    """Each run's rows against what was planted (changes of later waves not yet made)."""
    from ledgerbridge.accounting.models import ReconciliationRow
    from ledgerbridge.invoicing.models import Document

    result = Score()
    ours: dict[int, str] = {}
    theirs: dict[str, str] = {}
    for planted in plan:
        if planted.wave > up_to_wave:
            continue
        if planted.document_id is not None:
            ours[planted.document_id] = planted.expected
        else:
            theirs[planted.external_id.lower()] = planted.expected
    expected_docs = {
        pk: ours.get(pk, AGREES)
        for pk in Document.objects.filter(
            company_id__in=runs, status="final", issue_date__range=(PERIOD_FROM, PERIOD_TO)
        ).values_list("pk", flat=True)
    }
    for outcome in [*expected_docs.values(), *theirs.values()]:
        if outcome:
            result.planted[outcome] += 1
    seen: set[Any] = set()
    rows = ReconciliationRow.objects.filter(run_id__in=runs.values()).values_list(
        "outcome", "document_id", "external_id"
    )
    for outcome, document_id, external_id in rows:
        if document_id is not None:
            key: Any = document_id
            expected = expected_docs.get(document_id, "")
        else:
            key = external_id.lower()
            expected = theirs.get(key, "")
        if key in seen:
            continue  # one row per document is what counts
        seen.add(key)
        if outcome == expected:
            result.found[outcome] += 1
            continue
        result.false_alarms[outcome] += 1
        result.confusions[(expected or "nothing", outcome)] += 1
        if expected:
            result.missed[expected] += 1
    for key, expected in [*expected_docs.items(), *theirs.items()]:
        if key not in seen and expected:
            result.missed[expected] += 1
            result.confusions[(expected, "no row")] += 1
    return result


def _figures(
    label: str,
    runs: dict[int, int],
    plan: list[Planted],
    *,
    wave: int,
    seconds: float,
    calls: list[dict[str, Any]],
) -> RunFigures:
    from ledgerbridge.accounting.models import ReconciliationRun, SyncRecord

    totals = list(
        ReconciliationRun.objects.filter(pk__in=runs.values()).values_list("calls", "bytes_read")
    )
    in_xero = SyncRecord.objects.filter(company_id__in=runs).count() + sum(
        1 for p in plan if p.document_id is None and p.wave <= wave
    )
    return RunFigures(
        label=label,
        score=score(runs, plan, up_to_wave=wave),
        calls=sum(c for c, _ in totals),
        bytes_read=sum(b for _, b in totals),
        seconds=seconds,
        documents_in_xero=in_xero,
        calls_by_kind=Counter(call_kind(c) for c in calls if c["path"].startswith("/api.xro/")),
    )


def bench(
    running: RunningSandbox,
    *,
    organisations: int,
    documents: int,
    changes: int,
    hand_typed: int,
    voids: int,
    strangers: int = 0,
) -> BenchResult:
    """The whole bench against a running sandbox, in the current database."""
    t0 = time.monotonic()
    _log(f"bench reconcile: {organisations} organisations, {documents} documents")
    company_ids = companies_create(organisations, documents)
    orgs = organisations_link(running, company_ids)
    posted = documents_post(running, orgs)
    seed_seconds = time.monotonic() - t0
    plan = plan_make(orgs, changes=changes, hand_typed=hand_typed, voids=voids, strangers=strangers)
    user = XeroUser(running, orgs)
    plant_seconds = plan_apply(user, plan, wave=1)
    running.control.clear_calls()
    full_runs, full_seconds = reconcile_all(orgs, incremental=False)
    full = _figures(
        "full period",
        full_runs,
        plan,
        wave=1,
        seconds=full_seconds,
        calls=running.control.calls(),
    )
    plant_seconds += plan_apply(user, plan, wave=2)
    running.control.clear_calls()
    incremental_runs, incremental_seconds = reconcile_all(orgs, incremental=True)
    incremental = _figures(
        "incremental",
        incremental_runs,
        plan,
        wave=2,
        seconds=incremental_seconds,
        calls=running.control.calls(),
    )
    return BenchResult(
        organisations=organisations,
        documents=posted,
        seed_seconds=seed_seconds,
        plant_seconds=plant_seconds,
        full=full,
        incremental=incremental,
        planted_kinds=Counter(p.kind for p in plan),
    )


# ---------------------------------------------------------------- report


def report(result: BenchResult) -> str:
    kinds = result.planted_kinds
    out = [
        f"bench reconcile: {result.documents:,} posted documents over {result.organisations} "
        f"organisations, period {PERIOD_FROM:%d %b %Y} – {PERIOD_TO:%d %b %Y}",
        "  a Xero user: "
        + ", ".join(f"{kinds[k]} {k}" for k in (*EDITS, "paid"))
        + f"; {kinds['typed'] + kinds['duplicate']} typed by hand ({kinds['duplicate']} duplicates "
        f"of ours); {kinds['voided']} voided; {kinds['stranger']} typed for someone not ours, "
        "outside our number series (no row expected); a tenth of each kind (at least one) made after "
        "the full run, before the incremental one.",
        f"  setup: {result.seed_seconds:.0f} s (TMS documents and posting), Xero user "
        f"{result.plant_seconds:.0f} s",
    ]
    for figures in (result.full, result.incremental):
        s = figures.score
        out += [
            "",
            f"{figures.label} reconciliation ({figures.documents_in_xero:,} documents in Xero):",
            f"  {'class':<16}{'planted':>9}{'found':>9}{'missed':>9}{'false alarms':>14}",
        ]
        for outcome in CLASSES:
            out.append(
                f"  {CLASS_LABELS[outcome]:<16}{s.planted[outcome]:>9,}{s.found[outcome]:>9,}"
                f"{s.missed[outcome]:>9,}{s.false_alarms[outcome]:>14,}"
            )
        all_found = sum(s.missed.values()) == 0
        no_alarms = sum(s.false_alarms.values()) == 0
        out.append(
            f"  all found: {'yes' if all_found else 'NO'}; false alarms: "
            f"{sum(s.false_alarms.values())} (goal: all found, 0 false alarms)"
        )
        if not (all_found and no_alarms):
            out += [
                f"    expected {CLASS_LABELS.get(e, e)}, got {CLASS_LABELS.get(g, g)}: {n}"
                for (e, g), n in s.confusions.most_common(10)
            ]
        goal = f" (goal ≤ {CALLS_GOAL})" if figures is result.full else ""
        out += [
            f"  Xero calls: {figures.calls:,}, {figures.calls_per_1000:.2f} per 1,000 "
            f"documents{goal}",
            "    " + ", ".join(f"{kind} {n}" for kind, n in sorted(figures.calls_by_kind.items())),
            f"  bytes read: {figures.bytes_read / 1024 / 1024:,.1f} MB, "
            f"{figures.kb_per_1000:,.0f} KB per 1,000 documents",
            f"  time: {figures.seconds:.1f} s ({figures.seconds / result.organisations:.2f} s "
            "per organisation)",
        ]
    return "\n".join(out)


def _setup(var_dir: str, database_url: str) -> None:
    os.environ["LEDGERBRIDGE_VAR_DIR"] = var_dir
    if database_url:
        from ledgerbridge.processes import postgres_database_ensure

        postgres_database_ensure(database_url, fresh=True)
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.sqlite3"
    os.environ.pop("HUEY_URL", None)
    os.environ["LEDGERBRIDGE_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerbridge.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ledgerbridge bench reconcile", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--organisations", type=int, default=20)
    parser.add_argument("--documents", type=int, default=10_000, help="in all")
    parser.add_argument("--changes", type=int, default=200, help="of every kind, and payments")
    parser.add_argument("--hand-typed", type=int, default=100, help="half of them duplicates")
    parser.add_argument("--voids", type=int, default=50)
    parser.add_argument(
        "--strangers", type=int, default=20, help="typed in Xero for someone not ours"
    )
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL (made anew); a throwaway SQLite if unset"
    )
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as var_dir:
        _setup(var_dir, options.database_url)
        from django.conf import settings
        from huey.contrib.djhuey import HUEY
        from huey.storage import MemoryStorage

        from xero_sandbox.testing import start_sandbox

        HUEY.immediate = False
        HUEY.storage = MemoryStorage("bench")
        running = start_sandbox(webhooks_enabled=False)
        settings.XERO_LOGIN_URL = settings.XERO_IDENTITY_URL = running.base_url
        settings.XERO_API_URL = running.base_url
        settings.XERO_CLIENT_ID = running.client_id
        settings.XERO_CLIENT_SECRET = running.client_secret
        try:
            result = bench(
                running,
                organisations=options.organisations,
                documents=options.documents,
                changes=options.changes,
                hand_typed=options.hand_typed,
                voids=options.voids,
                strangers=options.strangers,
            )
        finally:
            running.stop()
    print(report(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
