"""``ledgerbridge bench pages``: how the pages' time grows with a company's ledger.

Seeds one company per size on PostgreSQL with that many final documents (two
lines each, 300 partners, linked to Xero, all posted but the newest: 20
pending and some of the last thousand failed or needing attention; payment states
on the posted ones, unpaid or partly paid only among the last thousand) straight
into the tables, then serves the app as ``up --production-like`` does (gunicorn,
JSON logs, the same database) with two web workers, one per core of the 2-core
machine the figures are for, and requests each page over HTTP as a logged-in
finance user, the sizes taking turns request by request. It prints p50 / p95 in ms of the whole request as the client sees
it, the number of queries per page at each size (counted in this process, through
Django's request handler), and the growth factor of the p95 from the smallest
size to the largest.

Run: ``ledgerbridge bench pages [--sizes 1000,10000,100000] [--requests 20]``.
``DATABASE_URL`` names the PostgreSQL database to use (made anew); the default
is ``ledgerbridge_bench_pages`` on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ledgerbridge_bench_pages"
PARTNERS = 300
LINES = 2
BATCH = 2000
PASSWORD = "bench-pages-password"
# One gunicorn worker per core of the 2-core machine the figures are for.
WEB_WORKERS = 2


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def setup_django(database_url: str) -> None:
    from ledgerbridge.processes import postgres_database_ensure

    postgres_database_ensure(database_url, fresh=True)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("LEDGERBRIDGE_VAR_DIR", tempfile.mkdtemp(prefix="bench-pages-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerbridge.settings")
    os.environ.setdefault("LEDGERBRIDGE_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(documents: int, *, name: str = "Bench Haulage Ltd") -> tuple[Any, Any]:
    """One company with ``documents`` final documents; returns (company, its finance user).

    Rows go straight into the tables in batches: the services are not what is
    measured. Works on any database Django supports (the tests seed SQLite).
    """
    from django.db import transaction

    from ledgerbridge.accounting.models import (
        AccountingPackage,
        AccountingSettings,
        PaymentState,
        PaymentStatus,
        SyncRecord,
        SyncStatus,
    )
    from ledgerbridge.companies.models import Company, Membership, Role, User
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.invoicing.models import (
        Document,
        DocumentLine,
        DocumentStatus,
        DocumentType,
        NominalCode,
        Partner,
        PartnerKind,
        TaxRate,
    )
    from ledgerbridge.invoicing.money import line_net, line_tax
    from ledgerbridge.invoicing.starter import starter_configuration_load
    from ledgerbridge.xero.models import LinkStatus, XeroConnection

    towns = ["Humber", "Leeds", "Hull", "Goole", "Selby", "York", "Wakefield", "Doncaster"]
    with transaction.atomic():
        company = Company.objects.create(
            legal_name=name, vat_number="GB123456789", address_line1="1 Depot Road", city="Hull"
        )
        actor = Actor(company=company, role=Role.SUPER_ADMIN, is_platform_staff=True, label="bench")
        starter_configuration_load(actor=actor)
        AccountingSettings.objects.update_or_create(
            company=company, defaults={"package": AccountingPackage.XERO_API}
        )
        XeroConnection.objects.create(
            company=company,
            status=LinkStatus.CONNECTED,
            tenant_id=f"bench-{company.pk}",
            tenant_name=name,
        )
        user = User.objects.create_user(
            username=f"bench{company.pk}", password=PASSWORD, is_platform_staff=True
        )
        Membership.objects.create(user=user, company=company, role=Role.FINANCE)
        partners = Partner.objects.bulk_create(
            Partner(
                company=company,
                kind=PartnerKind.CUSTOMER if i % 4 else PartnerKind.SUPPLIER,
                number=f"P{i:04d}",
                name=f"{towns[i % len(towns)]} {'Freight' if i % 3 else 'Logistics'} {i} Ltd",
                city=towns[i % len(towns)],
                email=f"accounts{i}@example.com",
            )
            for i in range(PARTNERS)
        )
        codes = {n.code: n for n in NominalCode.objects.filter(company=company)}
        taxes = {t.code: t for t in TaxRate.objects.filter(company=company)}
    kinds = {
        PartnerKind.CUSTOMER: [
            (DocumentType.SALES_INVOICE, "INV-", "200", "S20"),
            (DocumentType.SALES_INVOICE, "INV-", "200", "S20"),
            (DocumentType.SALES_INVOICE, "INV-", "200", "S20"),
            (DocumentType.SALES_CREDIT_NOTE, "CN-", "201", "S20"),
        ],
        PartnerKind.SUPPLIER: [
            (DocumentType.PURCHASE_INVOICE, "PI-", "320", "S20P"),
            (DocumentType.PURCHASE_CREDIT_NOTE, "PC-", "330", "R5P"),
        ],
    }
    # Most of the ledger was posted long ago; the newest documents are on their way.
    # Refusals are among the newest thousand (older ones were fixed and posted).
    sync_mix = [SyncStatus.POSTED] * 94 + [SyncStatus.FAILED] * 2 + [SyncStatus.NEEDS_ATTENTION]
    # Open receivables and payables are the newest thousand's: older ones were paid.
    pay_mix = [PaymentStatus.PAID] * 4 + [PaymentStatus.UNPAID] * 4 + [PaymentStatus.PARTLY_PAID]
    first_day = dt.date(2026, 11, 30) - dt.timedelta(days=max(documents // 60, 1))
    now = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    for start in range(0, documents, BATCH):
        with transaction.atomic():
            batch: list[Document] = []
            lines: list[tuple[Document, DocumentLine]] = []
            for i in range(start, min(start + BATCH, documents)):
                partner = partners[(i * 7) % PARTNERS]
                type_, prefix, code, tax = kinds[PartnerKind(partner.kind)][
                    i % len(kinds[PartnerKind(partner.kind)])
                ]
                issue = first_day + dt.timedelta(days=i // 60)
                document = Document(
                    company=company,
                    type=type_,
                    status=DocumentStatus.FINAL,
                    partner=partner,
                    number=f"{prefix}{i:07d}",
                    supplier_reference=f"SUP-{i:07d}" if prefix in ("PI-", "PC-") else "",
                    supplier_reference_key=f"SUP-{i:07d}" if prefix in ("PI-", "PC-") else "",
                    issue_date=issue,
                    due_date=issue + dt.timedelta(days=30),
                    reference=f"Trip {i} {towns[i % len(towns)]}",
                    order_reference=f"PO{i:07d}",
                    trip_reference=f"T{i:07d}",
                    finalised_at=now,
                )
                net_total = tax_total = Decimal("0.00")
                for position in range(1, LINES + 1):
                    quantity = Decimal(1 + (i + position) % 5)
                    unit = Decimal(f"{95 + (i * 7 + position) % 400}.50")
                    net = line_net(quantity, unit, Decimal(0))
                    tax_amount = line_tax(net, taxes[tax].rate)
                    net_total += net
                    tax_total += tax_amount
                    lines.append(
                        (
                            document,
                            DocumentLine(
                                position=position,
                                description=f"Freight {towns[i % 8]} - {towns[(i + 3) % 8]}",
                                charge_type="freight",
                                quantity=quantity,
                                unit_price=unit,
                                nominal_code=codes[code],
                                tax_rate=taxes[tax],
                                net_amount=net,
                                tax_amount=tax_amount,
                            ),
                        )
                    )
                document.net_total, document.tax_total = net_total, tax_total
                document.gross_total = net_total + tax_total
                batch.append(document)
            Document.objects.bulk_create(batch)
            for document, line in lines:
                line.document = document
            DocumentLine.objects.bulk_create([line for _, line in lines])
            records = []
            for offset, document in enumerate(batch):
                i = start + offset
                # The last 20 documents are still pending, as while a run posts them.
                if i >= documents - 20:
                    status = SyncStatus.PENDING
                elif i >= documents - 1000:
                    status = sync_mix[i % len(sync_mix)]
                else:
                    status = SyncStatus.POSTED
                records.append(
                    SyncRecord(
                        company=company,
                        document=document,
                        status=status,
                        attempts=1,
                        external_id=f"x-{i}" if status == SyncStatus.POSTED else "",
                        external_number=document.number if status == SyncStatus.POSTED else "",
                        posted_at=now if status == SyncStatus.POSTED else None,
                    )
                )
            SyncRecord.objects.bulk_create(records)
            PaymentState.objects.bulk_create(
                PaymentState(
                    record=record,
                    company=company,
                    status=(
                        pay := pay_mix[number % len(pay_mix)]
                        if number >= documents - 1000
                        else PaymentStatus.PAID
                    ),
                    total=record.document.gross_total,
                    amount_paid=record.document.gross_total if pay == PaymentStatus.PAID else 0,
                    amount_due=0 if pay == PaymentStatus.PAID else record.document.gross_total,
                    last_checked_at=now,
                )
                for number, record in enumerate(records, start)
                if record.status == SyncStatus.POSTED
            )
    return company, user


def pages_for(company: Any) -> dict[str, str]:
    """The pages measured, by name: the list's first and last page, search, filters, and others."""
    from django.urls import reverse

    from ledgerbridge.invoicing.models import Document
    from ledgerbridge.paging import cursor_of

    documents = Document.objects.filter(company=company)
    count = documents.count()
    last = max((count + 49) // 50, 1)
    one = documents.order_by("-issue_date", "-id").values_list("pk", flat=True).first()
    # The API's last page as a client walking the list reaches it: after the
    # previous page's last document.
    ordered = documents.order_by("-issue_date", "-id")
    before_last = ordered[(last - 1) * 50 - 1 :].first() if last > 1 else None
    api_last = (
        f"/api/documents?after={cursor_of(before_last, date_field='issue_date')}"
        if before_last
        else "/api/documents"
    )
    invoices = reverse("invoice_list")
    return {
        "list, first page": invoices,
        "list, last page": f"{invoices}?page={last}",
        "list, search": f"{invoices}?search=Humber",
        "list, final and posted": f"{invoices}?status=final&xero=posted",
        "progress fragment": reverse("xero_progress"),
        "document": reverse("document_detail", args=[one]) if one else invoices,
        "outstanding": reverse("payments_outstanding"),
        "partners": reverse("partner_list"),
        "REST list, page 1": "/api/documents",
        "REST list, last page": api_last,
        "REST list, page=last": f"/api/documents?page={last}",
        "operations": reverse("platform_operations"),
    }


def logged_in(company: Any, user: Any) -> Any:
    """A test client of ``user``, working in ``company`` (the API takes its session too)."""
    from django.test import Client

    from ledgerbridge.companies.middleware import SESSION_KEY

    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = company.pk
    session.save()
    return client


def query_counts(company: Any, user: Any) -> dict[str, int]:
    """Per page: the number of queries one request of it makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged_in(company, user)
    counts = {}
    for name, url in pages_for(company).items():
        client.get(url)  # the first request may settle the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {url} answered {response.status_code}")
        counts[name] = len(queries)
    return counts


@contextmanager
def served(database_url: str) -> Iterator[str]:
    """Gunicorn serving the app on a free port as ``up --production-like`` does; yields its address."""
    from ledgerbridge.cli import PRODUCTION_LIKE
    from ledgerbridge.processes import ProcessGroup, free_port, wait_until, web_argv

    address = f"127.0.0.1:{free_port()}"
    env = {
        **PRODUCTION_LIKE,
        **{name: value for name, value in os.environ.items() if name in PRODUCTION_LIKE},
        "DATABASE_URL": database_url,
        "LEDGERBRIDGE_PUBLIC_URL": f"http://{address}",
        "LEDGERBRIDGE_DEBUG": "0",
    }
    group = ProcessGroup(env={**os.environ, **env}, quiet=True)
    group.start("web", web_argv(address=address, workers=WEB_WORKERS))
    try:
        wait_until(lambda: _get(address, "/health", cookie="")[0] == 200, "gunicorn")
        yield address
    finally:
        group.stop_all()


def _get(address: str, url: str, *, cookie: str) -> tuple[int, bytes]:
    # A connection per request: gunicorn's sync workers close it after each answer.
    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("GET", url, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def measure(
    companies: dict[int, tuple[Any, Any]], requests: int, address: str
) -> dict[int, dict[str, tuple[float, float, int]]]:
    """Per size, per page: (p50 ms, p95 ms, queries of one request), timed over HTTP.

    The sizes take turns request by request, so whatever else the machine is doing
    slows every size alike and the growth stays the ledger's.
    """
    from django.conf import settings

    cookies, urls, counts = {}, {}, {}
    for size, (company, user) in companies.items():
        session = logged_in(company, user).cookies[settings.SESSION_COOKIE_NAME].value
        cookies[size] = f"{settings.SESSION_COOKIE_NAME}={session}"
        urls[size] = pages_for(company)
        counts[size] = query_counts(company, user)
    times: dict[int, dict[str, list[float]]] = {size: {} for size in companies}
    for name in urls[next(iter(companies))]:
        for size in companies:
            for _ in range(2 * WEB_WORKERS):  # warm-up, each worker
                status, _body = _get(address, urls[size][name], cookie=cookies[size])
                if status != 200:
                    raise SystemExit(f"{name}: {urls[size][name]} answered {status}")
            times[size][name] = []
        for _ in range(requests):
            for size in companies:
                started = time.perf_counter()
                _get(address, urls[size][name], cookie=cookies[size])
                times[size][name].append((time.perf_counter() - started) * 1000)
    results: dict[int, dict[str, tuple[float, float, int]]] = {}
    for size, pages in times.items():
        results[size] = {}
        for name, taken in pages.items():
            taken.sort()
            p95 = taken[min(len(taken) - 1, round(0.95 * (len(taken) - 1)))]
            results[size][name] = (statistics.median(taken), p95, counts[size][name])
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ledgerbridge bench pages", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--sizes",
        default="1000,10000,100000",
        help="documents in the company, comma-separated (default 1000,10000,100000)",
    )
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    database_url = os.environ.get("DATABASE_URL") or DATABASE_URL
    setup_django(database_url)
    from django.db import connection

    companies = {}
    for size in sizes:
        started = time.perf_counter()
        companies[size] = seed(size, name=f"Bench Haulage {size} Ltd")
        _log(f"seeded {size:,} documents in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE") if connection.vendor == "postgresql" else None
    with served(database_url) as address:
        by_size = measure(companies, args.requests, address)
    names = list(by_size[sizes[0]])
    head = f"{'page':<24}" + "".join(f"{f'{s:,}: p50/p95 ms (q)':>26}" for s in sizes)
    print(head + (f"{'growth p95':>12}" if len(sizes) > 1 else ""))
    for name in names:
        row = f"{name:<24}"
        for size in sizes:
            p50, p95, queries = by_size[size][name]
            row += f"{f'{p50:.0f} / {p95:.0f} ({queries})':>26}"
        if len(sizes) > 1:
            growth = by_size[sizes[-1]][name][1] / max(by_size[sizes[0]][name][1], 0.001)
            row += f"{f'{growth:.2f}x':>12}"
        print(row)
    return 0
