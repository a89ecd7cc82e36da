"""``ledgerbridge golive``: go live on an organisation that already holds data.

    ledgerbridge golive --company "Northway Haulage Ltd"          # hold posting, match, summary
    ledgerbridge golive --company 3 --summary                     # the last matching's summary
    ledgerbridge golive --company 3 --confirm                     # link, then post the backlog

Matching holds the company's posting until the backlog is confirmed (here as
platform staff, audited as "command line", or by a Super Admin on Configuration >
Accounting > Going live). Ambiguous contacts are listed; choosing among them is on
that page.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ledgerbridge.accounting.connector import company_package_name
from ledgerbridge.accounting.golive import (
    golive_begin,
    golive_confirm,
    golive_match,
    golive_summary,
)
from ledgerbridge.accounting.models import (
    ContactMatchMethod,
    GoLiveDocumentClass,
)
from ledgerbridge.companies.management.arguments import company_argument
from ledgerbridge.companies.models import Company, Role
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.errors import ApplicationError


class Command(BaseCommand):
    help = "Match what the accounting package already holds before the first posting run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="company id or exact legal name")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--summary", action="store_true", help="show, match nothing")
        action.add_argument(
            "--confirm", action="store_true", help="confirm the matching and post the backlog"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        company = company_argument(options["company"])
        try:
            if options["confirm"]:
                actor = Actor(
                    company=company,
                    role=Role.SUPER_ADMIN,
                    is_platform_staff=True,
                    label="command line",
                )
                golive_confirm(actor=actor)
            elif not options["summary"]:
                golive_begin(company=company, now=timezone.now(), queue=False)
                golive_match(company=company)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self._summary(company)

    def _summary(self, company: Company) -> None:
        summary = golive_summary(company=company)
        if summary is None:
            raise CommandError(f"{company} is not going live (run without --summary first).")
        go_live = summary.go_live
        package = company_package_name(company.pk)
        self.stdout.write(f"{company}: {_words(go_live.get_state_display(), package)}")
        if go_live.error:
            self.stdout.write(f"  Reading {package} failed: {go_live.error}")
        self.stdout.write(f"  Read {go_live.calls} calls, {go_live.bytes_read:,} bytes")
        self.stdout.write("Contacts:")
        for method, label in ContactMatchMethod.choices:
            self.stdout.write(f"  {label}: {len(summary.contacts.get(method, []))}")
        self.stdout.write("Documents:")
        for kind, label in GoLiveDocumentClass.choices:
            self.stdout.write(f"  {_words(label, package)}: {len(summary.documents.get(kind, []))}")
        if summary.documents.get(GoLiveDocumentClass.TO_POST):
            self.stdout.write(
                f"    of which posted automatically: {summary.to_post_by_itself}, "
                f"waiting for Finance to post them: {summary.to_post_by_hand}"
            )
        if summary.newcomers:
            self.stdout.write(
                f"  Finalised since the matching (matched when confirmed): {summary.newcomers}"
            )
        for row in summary.review:
            names = "; ".join(
                f"{c['name']} ({_words(str(c['why']), package)})" for c in row.candidates
            )
            self.stdout.write(f"  To choose for {row.partner.name}: {names}")


def _words(text: str, package: str) -> str:
    """Stored in the port's words ("the package"); printed with the package's name."""
    return text.replace("the package", package)
