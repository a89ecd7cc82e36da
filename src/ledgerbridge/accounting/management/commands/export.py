"""``ledgerbridge export``: Invoices Exports for scripts.

    ledgerbridge export --company "Northway Haulage Ltd" --output out/           # export
    ledgerbridge export --company 3 --type sales_invoice --from 2026-10-01 --preview
    ledgerbridge export --company 3 --list
    ledgerbridge export --company 3 --download 12 --output out/
    ledgerbridge export --company 3 --reexport 12 --reason "file lost" --output out/
    ledgerbridge export --company 3 --include-in-xero "new Xero organisation" --output out/

Acts as platform staff in the company (audited as "command line"). Documents left
out are listed on stderr with their reasons; the exit status is 1 when nothing
could be exported.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import pluralize

from ledgerbridge.accounting import exports
from ledgerbridge.accounting.models import ExportBatch, ExportBatchStatus, ExportFile
from ledgerbridge.accounting.totals import format_totals
from ledgerbridge.companies.management.arguments import company_argument
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.models import DocumentType, Partner


class Command(BaseCommand):
    help = "Export final documents as Xero import files (Invoices Exports)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="company id or exact legal name")
        parser.add_argument("--type", choices=DocumentType.values, help="only this document type")
        parser.add_argument("--from", dest="date_from", type=dt.date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=dt.date.fromisoformat)
        parser.add_argument("--partner", help="partner number (customer or supplier)")
        parser.add_argument("--output", type=Path, help="directory for the files")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--preview", action="store_true", help="show, export nothing")
        action.add_argument("--list", action="store_true", help="list the batches")
        action.add_argument("--download", type=int, metavar="BATCH", help="write a batch's files")
        action.add_argument("--reexport", type=int, metavar="BATCH", help="export a batch again")
        parser.add_argument("--reason", default="", help="why (with --reexport)")
        parser.add_argument(
            "--include-in-xero",
            metavar="REASON",
            help="put documents already in Xero through the API in the file too, for this "
            "reason (audited)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor(
            company=company_argument(options["company"]),
            role=Role.SUPER_ADMIN,
            is_platform_staff=True,
            label="command line",
        )
        include_in_xero = options["include_in_xero"] is not None
        in_xero_reason = options["include_in_xero"] or ""
        try:
            if options["list"]:
                self._list(actor)
            elif options["preview"]:
                self._preview(actor, _filters(actor, options))
            elif options["download"] is not None:
                self._write(actor, _number(actor, options["download"]), options["output"])
            elif options["reexport"] is not None:
                result = exports.export_reexport(
                    actor=actor,
                    batch_id=_number(actor, options["reexport"]).pk,
                    reason=options["reason"],
                    include_in_xero=include_in_xero,
                    in_xero_reason=in_xero_reason,
                )
                self._finish(actor, result, options["output"])
            else:
                result = exports.export_batch_create(
                    actor=actor,
                    filters=_filters(actor, options),
                    include_in_xero=include_in_xero,
                    in_xero_reason=in_xero_reason,
                )
                self._finish(actor, result, options["output"])
        except ApplicationError as error:
            raise CommandError(error.message) from error

    def _list(self, actor: Actor) -> None:
        for batch in exports.export_batch_list(actor=actor):
            self.stdout.write(
                f"{batch.number:>5}  {batch.created_at:%Y-%m-%d %H:%M}  {batch.status:<8}  "
                f"{batch.document_count:>6} documents  "
                f"{format_totals(batch.currency_totals)}  {batch.created_by_label}"
                + (f"  re-export: {batch.reexport_reason}" if batch.reexport_reason else "")
            )

    def _preview(self, actor: Actor, filters: exports.ExportFilters) -> None:
        selection = exports.export_preview(actor=actor, filters=filters, sample=0)
        self.stdout.write(
            f"{selection.included_count} documents would be exported "
            f"(total {format_totals(selection.totals)}); {len(selection.left_out)} left out."
        )
        self._left_out(selection.left_out)

    def _left_out(self, left_out: list[exports.LeftOut]) -> None:
        for item in left_out:
            self.stderr.write(f"left out {item.label}: {' '.join(item.reasons)}")

    def _finish(self, actor: Actor, result: exports.ExportResult, output: Path | None) -> None:
        self._left_out(result.left_out)
        batch = result.batch
        if batch.status == ExportBatchStatus.BUILDING:
            # No worker needed for scripts: build here (the queued job then finds it done).
            batch = exports.export_batch_build(batch_id=batch.pk)
        if batch.status == ExportBatchStatus.FAILED:
            raise CommandError(f"Export {batch.number} failed: {batch.error}")
        self.stdout.write(
            f"Export {batch.number}: {batch.document_count} document"
            f"{pluralize(batch.document_count)}, total {format_totals(batch.currency_totals)}."
        )
        self._write(actor, batch, output)

    def _write(self, actor: Actor, batch: ExportBatch, output: Path | None) -> None:
        if output is None:
            return
        if batch.status != ExportBatchStatus.READY:
            raise CommandError(f"Export {batch.number} is {batch.status}; it has no files.")
        output.mkdir(parents=True, exist_ok=True)
        for export_file in ExportFile.objects.filter(batch=batch).order_by("id"):
            path = output / export_file.name
            path.write_bytes(bytes(export_file.content))
            self.stdout.write(str(path))


def _number(actor: Actor, number: int) -> ExportBatch:
    batch = ExportBatch.objects.filter(company=actor.company, number=number).first()
    if batch is None:
        raise CommandError(f"No export batch {number} in {actor.company}.")
    return batch


def _filters(actor: Actor, options: dict[str, Any]) -> exports.ExportFilters:
    partner_id = None
    if options["partner"]:
        partner = Partner.objects.filter(company=actor.company, number=options["partner"]).first()
        if partner is None:
            raise CommandError(f"No partner numbered {options['partner']}.")
        partner_id = partner.pk
    return exports.ExportFilters(
        document_type=options["type"],
        date_from=options["date_from"],
        date_to=options["date_to"],
        partner_id=partner_id,
    )
