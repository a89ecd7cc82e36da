"""``ledgerbridge reconcile``: compare a company's books with its accounting package's.

    ledgerbridge reconcile --company "Northway Haulage Ltd"                 # this month so far
    ledgerbridge reconcile --company 3 --from 2026-11-01 --to 2026-11-30
    ledgerbridge reconcile --company 3 --from 2026-11-01 --to 2026-11-30 --incremental

Prints the rows per class, what reading the package cost (calls and bytes), and
every row that does not agree with its differences. Runs as "command line"; when
the package's per-minute limit is used up it says so and waits; the exit status is
1 when the package could not be read.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ledgerbridge.accounting.connector import company_package_name
from ledgerbridge.accounting.models import (
    ReconcileOutcome,
    ReconcileRunStatus,
    ReconciliationRow,
)
from ledgerbridge.accounting.reconcile import ACKNOWLEDGED, reconciliation_run
from ledgerbridge.accounting.reconcile_read import class_label
from ledgerbridge.companies.management.arguments import company_argument
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.errors import ApplicationError


class Command(BaseCommand):
    help = "Reconcile a company's final documents of a period with its accounting package."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="company id or exact legal name")
        parser.add_argument("--from", dest="date_from", type=dt.date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=dt.date.fromisoformat)
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="read only what the package changed since the previous run of the period",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        company = company_argument(options["company"])
        today = timezone.localdate()
        date_to = options["date_to"] or today
        date_from = options["date_from"] or date_to.replace(day=1)
        actor = Actor(
            company=company, role=Role.SUPER_ADMIN, is_platform_staff=True, label="command line"
        )
        try:
            run = reconciliation_run(
                company,
                date_from=date_from,
                date_to=date_to,
                incremental=options["incremental"],
                now=timezone.now(),
                actor=actor,
                wait=self._wait,
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        kind = "incremental" if run.incremental else "full"
        self.stdout.write(f"{company}: {date_from} to {date_to}, {kind} reconciliation {run.pk}")
        package = company_package_name(company.pk)
        if run.status == ReconcileRunStatus.FAILED:
            raise CommandError(f"{package[:1].upper()}{package[1:]} could not be read: {run.error}")
        for outcome in [*ReconcileOutcome, ACKNOWLEDGED]:
            label = (
                class_label(outcome, package)
                if isinstance(outcome, ReconcileOutcome)
                else "Acknowledged"
            )
            self.stdout.write(f"  {label:<24} {run.counts.get(str(outcome), 0):>7}")
        self.stdout.write(
            f"  read {run.documents_read} documents in {run.calls} "
            f"call{'' if run.calls == 1 else 's'}, {run.bytes_read} bytes"
        )
        rows = ReconciliationRow.objects.filter(run=run, acknowledgement__isnull=True).exclude(
            outcome=ReconcileOutcome.AGREES
        )
        for row in rows.order_by("outcome", "number", "id").iterator():
            what = row.number or row.external_id
            differences = "; ".join(row.differences)
            self.stdout.write(
                f"{class_label(row.outcome, package)}: {what} {row.contact_name}: {differences}"
            )

    def _wait(self, seconds: float, words: str) -> None:
        """The package asked to wait (its per-minute limit): say so, then wait."""
        self.stdout.write(words)
        time.sleep(seconds)
