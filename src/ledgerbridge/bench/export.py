"""How long "Export to Xero" takes for 10,000 documents, and how much memory it needs.

Run: ``ledgerbridge bench export [--documents 10000] [--lines 3]``. Uses a fresh
SQLite database in a temporary directory (or ``DATABASE_URL`` if set — the
tables are then created there), seeds one company with final sales and purchase
invoices and credit notes, each line carrying two dimension values, then:

1. times one export of all of them (choosing, checks, batch rows, writing the
   files of 500 documents each, checking every document's total), the way the
   worker does it;
2. measures the peak of Python allocations (``tracemalloc``) while exporting a
   quarter of the documents and all of them: memory is flat when the two peaks
   are about the same, since documents are streamed in chunks and each file is
   stored as soon as it is written.

The target is under 10 s for 10,000 documents; this prints the figures and asserts
nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from typing import Any

TARGET_SECONDS = 10.0


def setup_django(database_dir: str) -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{database_dir}/bench.sqlite3")
    os.environ.setdefault("LEDGERBRIDGE_VAR_DIR", database_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerbridge.settings")
    os.environ.setdefault("LEDGERBRIDGE_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(documents: int, lines_per_document: int) -> Any:
    """Final documents straight into the tables (the services are not what is measured)."""
    from django.db import transaction

    from ledgerbridge.companies.models import Company, Role
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.invoicing.models import (
        Dimension,
        Document,
        DocumentLine,
        DocumentStatus,
        DocumentType,
        LineDimension,
        NominalCode,
        Partner,
        PartnerKind,
        TaxRate,
    )
    from ledgerbridge.invoicing.money import line_net, line_tax
    from ledgerbridge.invoicing.starter import starter_configuration_load

    company = Company.objects.create(legal_name=f"Bench Haulage {time.time_ns()} Ltd")
    actor = Actor(company=company, role=Role.SUPER_ADMIN, is_platform_staff=True, label="bench")
    starter_configuration_load(actor=actor)
    customers = Partner.objects.bulk_create(
        Partner(
            company=company,
            kind=PartnerKind.CUSTOMER,
            number=f"C{i:04d}",
            name=f"Customer {i} Ltd",
            city="Leeds",
            postcode="LS1 1AA",
            email=f"c{i}@example.com",
        )
        for i in range(50)
    )
    suppliers = Partner.objects.bulk_create(
        Partner(
            company=company,
            kind=PartnerKind.SUPPLIER,
            number=f"S{i:04d}",
            name=f"Supplier {i} Ltd",
            city="Hull",
        )
        for i in range(20)
    )
    codes = {n.code: n for n in NominalCode.objects.filter(company=company)}
    taxes = {t.code: t for t in TaxRate.objects.filter(company=company)}
    dimensions = list(Dimension.objects.filter(company=company).prefetch_related("values"))
    kinds = [
        (DocumentType.SALES_INVOICE, "INV-", customers, "200", "S20"),
        (DocumentType.SALES_CREDIT_NOTE, "CN-", customers, "201", "S20"),
        (DocumentType.PURCHASE_INVOICE, "PI-", suppliers, "320", "S20P"),
        (DocumentType.PURCHASE_CREDIT_NOTE, "PC-", suppliers, "330", "R5P"),
    ]
    weights = [6, 1, 2, 1]  # mostly sales invoices, as in a haulier's month
    schedule = [k for k, w in zip(kinds, weights, strict=True) for _ in range(w)]
    issue = dt.date(2026, 10, 1)
    with transaction.atomic():
        for start in range(0, documents, 1000):
            batch = []
            pending_lines = []
            for i in range(start, min(start + 1000, documents)):
                type_, prefix, partners, code, tax = schedule[i % len(schedule)]
                document = Document(
                    company=company,
                    type=type_,
                    status=DocumentStatus.FINAL,
                    partner=partners[i % len(partners)],
                    number=f"{prefix}{i:06d}",
                    supplier_reference=f"SUP-{i:06d}" if prefix in ("PI-", "PC-") else "",
                    issue_date=issue + dt.timedelta(days=i % 60),
                    due_date=issue + dt.timedelta(days=30 + i % 60),
                    reference=f"Trip {i}",
                )
                net_total = tax_total = Decimal("0.00")
                for position in range(1, lines_per_document + 1):
                    quantity = Decimal(1 + (i + position) % 7)
                    unit = Decimal(f"{95 + (i * 7 + position) % 400}.{(i + position) % 100:02d}")
                    discount = Decimal("5") if (i + position) % 9 == 0 else Decimal(0)
                    net = line_net(quantity, unit, discount)
                    line_tax_amount = line_tax(net, taxes[tax].rate)
                    net_total += net
                    tax_total += line_tax_amount
                    pending_lines.append(
                        (
                            document,
                            DocumentLine(
                                position=position,
                                description=f"Freight Leeds - Hull, drop {position}",
                                charge_type="freight",
                                quantity=quantity,
                                unit_price=unit,
                                discount_percent=discount,
                                nominal_code=codes[code],
                                tax_rate=taxes[tax],
                                net_amount=net,
                                tax_amount=line_tax_amount,
                            ),
                        )
                    )
                document.net_total, document.tax_total = net_total, tax_total
                document.gross_total = net_total + tax_total
                batch.append(document)
            Document.objects.bulk_create(batch)
            for document, line in pending_lines:
                line.document = document
            created = DocumentLine.objects.bulk_create([line for _, line in pending_lines])
            LineDimension.objects.bulk_create(
                LineDimension(
                    line=line,
                    dimension=dimension,
                    value=list(dimension.values.all())[line.position % 3],
                )
                for line in created
                for dimension in dimensions
            )
    return actor


def export_all(actor: Any, date_to: dt.date | None = None) -> tuple[float, Any]:
    from ledgerbridge.accounting.exports import ExportFilters, export_batch_create

    started = time.perf_counter()
    result = export_batch_create(actor=actor, filters=ExportFilters(date_to=date_to))
    return time.perf_counter() - started, result.batch


def forget_batches(actor: Any) -> None:
    from ledgerbridge.accounting.models import ExportBatch

    for batch in ExportBatch.objects.filter(company=actor.company):
        batch.files.all().delete()
        batch.entries.all().delete()
        batch.delete()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ledgerbridge bench export", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp)
        from huey.contrib.djhuey import HUEY

        from ledgerbridge.logging import quiet

        quiet("huey")

        # The worker's job runs inline after commit, so the time covers writing the files.
        HUEY.immediate = True
        started = time.perf_counter()
        actor = seed(args.documents, args.lines)
        print(
            f"seeded {args.documents} documents x {args.lines} lines in {time.perf_counter() - started:.1f} s"
        )

        seconds, batch = export_all(actor)
        files = batch.files.count()
        size = sum(len(bytes(f.content)) for f in batch.files.all())
        print(
            f"exported {batch.document_count} documents ({batch.status}) into {files} files, "
            f"{size / 1e6:.1f} MB, in {seconds:.2f} s "
            f"({args.documents / seconds:,.0f} documents/s; target under {TARGET_SECONDS:.0f} s: "
            f"{'met' if seconds < TARGET_SECONDS else 'MISSED'})"
        )

        peaks = {}
        for share, date_to in (("a quarter", dt.date(2026, 10, 15)), ("all", None)):
            forget_batches(actor)
            tracemalloc.start()
            _, batch = export_all(actor, date_to)
            peaks[share] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(
                f"peak Python memory exporting {share} ({batch.document_count} documents): "
                f"{peaks[share] / 1e6:.1f} MB"
            )
        print(
            f"memory ratio all / quarter: {peaks['all'] / peaks['a quarter']:.2f} (flat is about 1)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
