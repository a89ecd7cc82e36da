"""``ledgerbridge check-data``: every stored figure outside its bounds, in every company.

    ledgerbridge check-data
    ledgerbridge check-data --company 3

One line per figure: company, document (number, or "Draft <id>") or tax rate,
line, field, the value as stored and the allowed range. Exit status 1 when it
finds any, so a scheduler or a deploy step can alert on it. One query per model,
whatever the number of companies.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledgerbridge.companies.models import Company
from ledgerbridge.invoicing.figures import figure_problems
from ledgerbridge.words import counted


class Command(BaseCommand):
    help = "List stored figures outside their allowed range; exit status 1 if there are any."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", help="only this company (id or exact legal name)")

    def handle(self, *args: Any, **options: Any) -> None:
        company_ids = None
        if options["company"]:
            company_ids = [_company(options["company"]).pk]
        problems = figure_problems(company_ids=company_ids)
        for problem in problems:
            document = (
                f"{problem.document_label} (id {problem.document_id})"
                if problem.document_id is not None
                else "—"
            )
            self.stdout.write(
                "\t".join(
                    [
                        f"{problem.company} (id {problem.company_id})",
                        document,
                        problem.where,
                        problem.field,
                        problem.value,
                        problem.allowed,
                    ]
                )
            )
        if problems:
            self.stderr.write(
                f"{counted(len(problems), 'stored figure')} out of range: correct the drafts "
                "(finalised documents: with a credit note, then fix the row)."
            )
            sys.exit(1)
        self.stdout.write("No stored figure is out of range.")


def _company(value: str) -> Company:
    company = Company.objects.filter(legal_name=value).first()
    if company is None and value.isdigit():
        company = Company.objects.filter(pk=int(value)).first()
    if company is None:
        raise CommandError(f"No company {value!r}.")
    return company
