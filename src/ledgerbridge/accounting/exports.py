"""Invoices Exports: "Export to <package>" as import files, in batches.

A batch records who exported which final documents when, with their totals, and
keeps the file bytes so a download is byte-identical every time. A document is
in one batch only, unless a user re-exports it on purpose with a reason (audited).
Documents whose coding cannot be expressed in the file (see the format's
``problems``) are left out with their reasons, never half-exported.

A file must not put a document in the package twice. A document the outbox has
posted through the API (or settled by looking it up), or whose last request
may have reached the package, is left out as already there, unless a user puts
it in on purpose with a reason (audited). A document queued or being posted is
always left out: the worker would post it as well. The other way round, the
outbox refuses to post a document that is in a file (see ``outbox``). Whatever
was left out is kept on the batch with its reasons.

Small batches are built in the request. Large ones are built by a worker, which
reports progress on the batch row; if building fails the batch is marked failed,
its files are deleted and its documents are free to be exported again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Prefetch, QuerySet
from django.utils import timezone

from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import ApplicationError, NotFoundError
from ledgerbridge.invoicing.figures import (
    documents_with_figure_problems,
    figures_need_correction_message,
)
from ledgerbridge.invoicing.models import (
    CREDIT_NOTE_TYPES,
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
    LineDimension,
    Partner,
)
from ledgerbridge.invoicing.selectors import DocumentFilters, document_list
from ledgerbridge.iterables import chunks
from ledgerbridge.metrics import EXPORT_BUILD_SECONDS

from .export_format import (
    ExportContact,
    ExportDocument,
    ExportLine,
    ImportFileFormat,
    import_file_format_for,
)
from .models import (
    AccountingSettings,
    ExportBatch,
    ExportBatchDocument,
    ExportBatchStatus,
    ExportFile,
    SyncRecord,
    SyncStatus,
)
from .totals import CurrencyTotals, TotalsByCurrency, totals_as_json

log = structlog.get_logger(__name__)

# Up to this many documents a batch is built while the user waits; above, by a worker.
BUILD_NOW_LIMIT = 300
PREVIEW_ROWS = 200


class UnableToExport(ApplicationError):
    """A file would not say what the TMS says; the batch must not be kept."""


@dataclass(frozen=True)
class ExportFilters:
    document_type: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    partner_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "document_type": self.document_type,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "partner_id": self.partner_id,
        }

    def clean(self) -> ExportFilters:
        if self.document_type and self.document_type not in DocumentType.values:
            raise ApplicationError("Unknown document type.", field="document_type")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ApplicationError("The start date is after the end date.", field="date_from")
        return self


# Why a document was left out of a file.
LEFT_OUT_CODING = "coding"  # Xero's import would refuse its coding
LEFT_OUT_IN_XERO = "in_xero"  # already in Xero through the API (a reason can put it in)
LEFT_OUT_QUEUED = "queued"  # on its way through the API: never in a file


@dataclass(frozen=True)
class LeftOut:
    document_id: int
    label: str
    reasons: list[str]
    kind: str = LEFT_OUT_CODING

    def as_json(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "label": self.label,
            "kind": self.kind,
            "reasons": self.reasons,
        }


@dataclass
class ExportSelection:
    """What an export would take (``included``) and leave out, with totals."""

    included_ids: list[int] = field(default_factory=list)
    included_sample: list[ExportDocument] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    already_exported: set[int] = field(default_factory=set)
    # Included although already in the package through the API: id → number.
    in_xero: dict[int, str] = field(default_factory=dict)
    # The package's name in messages (its file format's).
    package: str = "the accounting package"
    # Never summed across currencies: net, tax and gross per currency.
    by_currency: TotalsByCurrency = field(default_factory=TotalsByCurrency)

    @property
    def totals(self) -> list[CurrencyTotals]:
        """The included documents' totals, one per currency, by currency code."""
        return self.by_currency.as_list()

    @property
    def included_count(self) -> int:
        return len(self.included_ids)

    def left_out_as(self, *kinds: str) -> list[LeftOut]:
        return [item for item in self.left_out if item.kind in kinds]

    @property
    def left_out_through_api(self) -> list[LeftOut]:
        return self.left_out_as(LEFT_OUT_IN_XERO, LEFT_OUT_QUEUED)

    @property
    def left_out_coding(self) -> list[LeftOut]:
        return self.left_out_as(LEFT_OUT_CODING)

    @property
    def in_xero_count(self) -> int:
        """Left out as already in Xero: what a reason could put in the file."""
        return len(self.left_out_as(LEFT_OUT_IN_XERO))


@dataclass(frozen=True)
class ExportResult:
    batch: ExportBatch
    left_out: list[LeftOut]


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    content: bytes


# ------------------------------------------------------------------ reads


def export_batch_list(*, actor: Actor) -> QuerySet[ExportBatch]:
    require(actor, Permission.VIEW)
    return ExportBatch.objects.filter(company=actor.company).prefetch_related(
        Prefetch("files", queryset=ExportFile.objects.defer("content"))
    )


def export_batch_get(*, actor: Actor, batch_id: int) -> ExportBatch:
    batch = export_batch_list(actor=actor).filter(pk=batch_id).first()
    if batch is None:
        raise NotFoundError("No such export batch.")
    return batch


def export_batch_download(*, actor: Actor, batch_id: int) -> Download:
    """The batch's file, or its files in a ZIP; the same bytes on every download."""
    batch = export_batch_get(actor=actor, batch_id=batch_id)
    if batch.status != ExportBatchStatus.READY:
        raise ApplicationError(
            f"Export {batch.number} is {batch.get_status_display().lower()}; "
            "there is nothing to download."
        )
    files = list(ExportFile.objects.filter(batch=batch).order_by("id"))
    if len(files) == 1:
        return Download(files[0].name, "text/csv; charset=utf-8", bytes(files[0].content))
    buffer = io.BytesIO()
    # Fixed timestamps and attributes keep the archive byte-identical across downloads.
    stamp = timezone.localtime(batch.created_at).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w") as archive:
        for export_file in files:
            info = zipfile.ZipInfo(export_file.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, bytes(export_file.content))
    return Download(_batch_stem(batch) + ".zip", "application/zip", buffer.getvalue())


EXPORT_HISTORY = "export_history"


def export_history_prefetch() -> Prefetch:
    """Each document's exports, newest first, as ``document.export_history`` (one query
    for a page of documents)."""
    return Prefetch(
        "export_entries",
        queryset=ExportBatchDocument.objects.select_related("batch").order_by("-batch__number"),
        to_attr=EXPORT_HISTORY,
    )


def export_history(document: Document) -> list[ExportBatchDocument]:
    """The document's exports, newest first (prefetched if the list asked for it)."""
    prefetched = getattr(document, EXPORT_HISTORY, None)
    if prefetched is not None:
        return list(prefetched)
    return list(
        ExportBatchDocument.objects.filter(document=document)
        .select_related("batch")
        .order_by("-batch__number")
    )


def export_batch_entries(*, batch: ExportBatch) -> QuerySet[ExportBatchDocument]:
    """A batch's documents by type, date and number, with their partners (the batch page)."""
    return (
        ExportBatchDocument.objects.filter(batch=batch)
        .select_related("document", "document__partner")
        .order_by("document__type", "document__issue_date", "document__number", "id")
    )


# ------------------------------------------------------------------ choosing documents


def _final_documents(actor: Actor, filters: ExportFilters | None = None) -> QuerySet[Document]:
    filters = (filters or ExportFilters()).clean()
    return document_list(
        actor=actor,
        filters=DocumentFilters(
            type=filters.document_type,
            status=DocumentStatus.FINAL,
            partner_id=filters.partner_id,
            date_from=filters.date_from,
            date_to=filters.date_to,
        ),
    )


def _in_file_order(qs: QuerySet[Document]) -> list[int]:
    return list(qs.order_by("issue_date", "number", "id").values_list("id", flat=True))


# Columns read for the plain records, in the records' field order.
_DOCUMENT_FIELDS = (
    "id",
    "type",
    "number",
    "supplier_reference",
    "reference",
    "issue_date",
    "due_date",
    "currency",
    "net_total",
    "tax_total",
    "gross_total",
)
_CONTACT_FIELDS = ("name", "email", "address_line1", "address_line2", "city", "postcode", "country")
_LINE_FIELDS = (
    "position",
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "nominal_code_id",
    "tax_rate_id",
    "net_amount",
    "tax_amount",
)


def export_documents_load(ids: list[int], *, chunk_size: int = 500) -> Iterator[ExportDocument]:
    """The documents ``ids`` as plain records with partner, lines and dimension values,
    in the given order, loaded ``chunk_size`` at a time (four queries a chunk)."""
    contacts: dict[int, ExportContact] = {}
    for chunk in chunks(ids, chunk_size):
        documents: dict[int, ExportDocument] = {}
        partner_of: dict[int, int] = {}
        for partner_id, *fields in Document.objects.filter(pk__in=chunk).values_list(
            "partner_id", *_DOCUMENT_FIELDS
        ):
            document = ExportDocument(*fields, partner=_NO_CONTACT)  # type: ignore[arg-type, misc]
            documents[document.id] = document
            partner_of[document.id] = partner_id
        wanted = set(partner_of.values()) - contacts.keys()
        for pk, *contact in Partner.objects.filter(pk__in=wanted).values_list(
            "id", *_CONTACT_FIELDS
        ):
            contacts[pk] = ExportContact(*contact)
        for document_id, partner_id in partner_of.items():
            documents[document_id].partner = contacts[partner_id]
        lines: dict[int, ExportLine] = {}
        ordered = DocumentLine.objects.filter(document_id__in=chunk).order_by(
            "document_id", "position", "id"
        )
        for line_id, document_id, *fields in ordered.values_list(
            "id", "document_id", *_LINE_FIELDS
        ):
            line = ExportLine(*fields)  # type: ignore[arg-type]
            lines[line_id] = line
            documents[document_id].lines.append(line)
        for line_id, dimension_id, value_id in LineDimension.objects.filter(
            line__document_id__in=chunk
        ).values_list("line_id", "dimension_id", "value_id"):
            lines[line_id].dimension_values.append((dimension_id, value_id))
        for document_id in chunk:
            yield documents[document_id]


_NO_CONTACT = ExportContact("", "", "", "", "", "", "")


def _sign(document: ExportDocument) -> Decimal:
    return Decimal(-1) if document.type in CREDIT_NOTE_TYPES else Decimal(1)


def _through_api(qs: QuerySet[Document], package: str) -> dict[int, LeftOut]:
    """The documents of ``qs`` that are in the package, or on their way there, through
    the API (``package``: its name in words)."""
    found: dict[int, LeftOut] = {}
    records = (
        SyncRecord.objects.filter(document__in=qs.values("pk"))
        .exclude(status=SyncStatus.FAILED)
        .values_list(
            "document_id",
            "document__type",
            "document__number",
            "status",
            "external_number",
            "request_key",
        )
    )
    for document_id, type_, number, status, external_number, request_key in records:
        label = f"{DocumentType(type_).label} {number}"
        if status == SyncStatus.POSTED:
            reason = f"Already in {package} through the API as {external_number or number}."
            found[document_id] = LeftOut(document_id, label, [reason], LEFT_OUT_IN_XERO)
        elif status in (SyncStatus.PENDING, SyncStatus.POSTING):
            reason = (
                f"On its way to {package} through the API: the worker will post it, "
                f"so a file would put it in {package} twice."
            )
            found[document_id] = LeftOut(document_id, label, [reason], LEFT_OUT_QUEUED)
        elif request_key:
            # Gave up waiting for an answer: the request may have reached Xero.
            reason = (
                f"Its last request to {package} through the API went unanswered, so it may "
                f"already be in {package}; retry it on the document to find out."
            )
            found[document_id] = LeftOut(document_id, label, [reason], LEFT_OUT_IN_XERO)
    return found


def _select(
    qs: QuerySet[Document],
    file_format: ImportFileFormat,
    *,
    sample: int = 0,
    include_in_xero: bool = False,
) -> ExportSelection:
    selection = ExportSelection()
    exported = set(
        ExportBatchDocument.objects.filter(document__in=qs.values("pk")).values_list(
            "document_id", flat=True
        )
    )
    selection.package = file_format.package_name
    through_api = _through_api(qs, file_format.package_name)
    out_of_range = documents_with_figure_problems(qs.values("pk"))
    for document in export_documents_load(_in_file_order(qs)):
        api = through_api.get(document.id)
        if api is not None and not (include_in_xero and api.kind == LEFT_OUT_IN_XERO):
            selection.left_out.append(api)
            continue
        reasons = file_format.problems(document)
        if document.id in out_of_range:
            reasons = [*reasons, figures_need_correction_message(out_of_range[document.id])]
        if reasons:
            selection.left_out.append(LeftOut(document.id, document.label, reasons))
            continue
        selection.included_ids.append(document.id)
        if api is not None:
            selection.in_xero[document.id] = document.number
        if document.id in exported:
            selection.already_exported.add(document.id)
        if len(selection.included_sample) < sample:
            selection.included_sample.append(document)
        sign = _sign(document)
        selection.by_currency.add(
            document.currency,
            sign * document.net_total,
            sign * document.tax_total,
            sign * document.gross_total,
        )
    return selection


def _format_for(actor: Actor) -> ImportFileFormat:
    settings, _ = AccountingSettings.objects.get_or_create(company=actor.company)
    return import_file_format_for(
        actor.company, package=settings.package, date_format=settings.import_date_format
    )


def _not_exported(actor: Actor, filters: ExportFilters) -> QuerySet[Document]:
    return _final_documents(actor, filters).filter(export_entries__isnull=True)


def export_preview(
    *,
    actor: Actor,
    filters: ExportFilters,
    sample: int = PREVIEW_ROWS,
    include_in_xero: bool = False,
) -> ExportSelection:
    """What "Export to Xero" with these filters would take and leave out, and why."""
    require(actor, Permission.VIEW)
    return _select(
        _not_exported(actor, filters),
        _format_for(actor),
        sample=sample,
        include_in_xero=include_in_xero,
    )


def _in_xero_reason(include_in_xero: bool, reason: str, *, package: str) -> str:
    """The reason for putting documents already in Xero in a file; "" when not asked."""
    reason = reason.strip()
    if include_in_xero and not reason:
        raise ApplicationError(
            f"Say why documents already in {package} through the API go in the file too "
            f"(importing it would create them in {package} again).",
            field="in_xero_reason",
        )
    return reason if include_in_xero else ""


def _nothing_to_export(selection: ExportSelection) -> ApplicationError:
    in_xero = len(selection.left_out_through_api)
    coding = len(selection.left_out_coding)
    parts = []
    if in_xero:
        parts.append(
            f"{in_xero} {'is' if in_xero == 1 else 'are'} already in {selection.package} "
            "through the API or on the way"
        )
    if coding:
        parts.append(
            f"{coding} {'has' if coding == 1 else 'have'} a coding {selection.package}'s import "
            "would not accept"
        )
    return ApplicationError(
        f"Nothing can be exported: of the {in_xero + coding} matching documents, "
        f"{' and '.join(parts)} (see the preview)."
    )


# ------------------------------------------------------------------ exporting


def export_batch_create(
    *,
    actor: Actor,
    filters: ExportFilters,
    include_in_xero: bool = False,
    in_xero_reason: str = "",
    now: dt.datetime | None = None,
) -> ExportResult:
    """Export the final documents not yet exported that match ``filters``.

    Documents already in Xero through the API go in only with ``include_in_xero``
    and a reason.
    """
    require(actor, Permission.WORK_DOCUMENTS)
    file_format = _format_for(actor)
    in_xero_reason = _in_xero_reason(
        include_in_xero, in_xero_reason, package=file_format.package_name
    )
    selection = _select(_not_exported(actor, filters), file_format, include_in_xero=include_in_xero)
    if not selection.included_count:
        if selection.left_out:
            raise _nothing_to_export(selection)
        raise ApplicationError("There are no final documents left to export for these filters.")
    batch = _batch_start(
        actor=actor,
        selection=selection,
        filters=filters.as_json(),
        reason="",
        in_xero_reason=in_xero_reason,
        now=now or timezone.now(),
    )
    return ExportResult(batch=batch, left_out=selection.left_out)


def export_reexport(
    *,
    actor: Actor,
    reason: str,
    batch_id: int | None = None,
    document_ids: Iterable[int] | None = None,
    include_in_xero: bool = False,
    in_xero_reason: str = "",
    now: dt.datetime | None = None,
) -> ExportResult:
    """Export documents again on purpose — a whole batch's, or chosen ones — with a reason.

    What has reached Xero through the API since is left out, as in a first export.
    """
    require(actor, Permission.WORK_DOCUMENTS)
    file_format = _format_for(actor)
    in_xero_reason = _in_xero_reason(
        include_in_xero, in_xero_reason, package=file_format.package_name
    )
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            "Say why these documents are exported again (e.g. the first file was lost).",
            field="reason",
        )
    qs = _final_documents(actor)
    if batch_id is not None:
        source = export_batch_get(actor=actor, batch_id=batch_id)
        qs = qs.filter(export_entries__batch=source)
    elif document_ids is not None:
        ids = list(document_ids)
        qs = qs.filter(pk__in=ids)
        if qs.count() != len(set(ids)):
            raise NotFoundError("Some of these documents do not exist or are not final.")
    else:
        raise ApplicationError("Choose a batch or documents to export again.")
    selection = _select(qs.distinct(), file_format, include_in_xero=include_in_xero)
    if not selection.included_count:
        raise _nothing_to_export(selection)
    batch = _batch_start(
        actor=actor,
        selection=selection,
        filters={"reexport_of_batch": batch_id} if batch_id else {"documents": "chosen"},
        reason=reason,
        in_xero_reason=in_xero_reason,
        now=now or timezone.now(),
    )
    return ExportResult(batch=batch, left_out=selection.left_out)


def _batch_start(
    *,
    actor: Actor,
    selection: ExportSelection,
    filters: dict[str, Any],
    reason: str,
    in_xero_reason: str,
    now: dt.datetime,
) -> ExportBatch:
    count = selection.included_count
    with transaction.atomic():
        # The settings row serialises batch numbering within a company.
        AccountingSettings.objects.get_or_create(company=actor.company)
        AccountingSettings.objects.select_for_update().filter(company=actor.company).first()
        last = ExportBatch.objects.filter(company=actor.company).aggregate(n=Max("number"))["n"]
        batch = ExportBatch.objects.create(
            company=actor.company,
            number=(last or 0) + 1,
            status=ExportBatchStatus.BUILDING,
            filters=filters,
            reexport_reason=reason,
            in_xero_reason=in_xero_reason if selection.in_xero else "",
            left_out=[item.as_json() for item in selection.left_out],
            document_count=count,
            totals=totals_as_json(selection.totals),
            created_by=actor.user,
            created_by_label=actor.name,
            created_at=now,
        )
        try:
            with transaction.atomic():
                ExportBatchDocument.objects.bulk_create(
                    [
                        ExportBatchDocument(
                            batch=batch,
                            document_id=document_id,
                            reexport=document_id in selection.already_exported,
                            in_xero=document_id in selection.in_xero,
                        )
                        for document_id in selection.included_ids
                    ],
                    batch_size=1000,
                )
        except IntegrityError:
            raise ApplicationError(
                "Some of these documents were exported by someone else a moment ago. "
                "Look at the latest batches and export again."
            ) from None
        audit_record(
            actor=actor,
            company=actor.company,
            action="documents re-exported" if reason else "export batch created",
            target=str(batch),
            changes={
                "documents": count,
                "left_out": len(selection.left_out),
                **(
                    {"reason": reason, "re-exported": len(selection.already_exported)}
                    if reason
                    else {}
                ),
            },
            now=now,
        )
        if selection.in_xero:
            audit_record(
                actor=actor,
                company=actor.company,
                action="documents already in Xero exported",
                target=str(batch),
                changes={"reason": in_xero_reason, "documents": list(selection.in_xero.values())},
                now=now,
            )
        if count <= BUILD_NOW_LIMIT:
            # Inside the transaction: if a file cannot be written, the batch never existed.
            _build(batch)
        else:
            batch_id = batch.pk
            transaction.on_commit(lambda: _enqueue_build(batch_id))
    batch.refresh_from_db()
    return batch


def _enqueue_build(batch_id: int) -> None:
    from .export_tasks import build_export_batch

    build_export_batch(batch_id)


def export_batch_build(*, batch_id: int) -> ExportBatch:
    """Write a building batch's files (the worker's job). All or nothing.

    A lease keeps two builders (a worker and ``ledgerbridge export``, or a
    redelivered job) from writing the same batch twice.
    """
    from .leases import leased

    with leased(f"export-batch-{batch_id}") as lease:
        # Without the lease another process is building it; its progress shows on the row.
        if lease is not None:
            batch = ExportBatch.objects.select_related("company").get(pk=batch_id)
            if batch.status == ExportBatchStatus.BUILDING:
                _build_or_fail(batch)
    return ExportBatch.objects.get(pk=batch_id)


def _build_or_fail(batch: ExportBatch) -> None:
    try:
        with EXPORT_BUILD_SECONDS.time():
            _build(batch)
    except Exception as exc:
        log.exception("export.batch_failed", batch_id=batch.pk, company_id=batch.company_id)
        message = exc.message if isinstance(exc, ApplicationError) else repr(exc)
        with transaction.atomic():
            ExportFile.objects.filter(batch=batch).delete()
            # Freed: the documents can go into a new batch.
            ExportBatchDocument.objects.filter(batch=batch).delete()
            ExportBatch.objects.filter(pk=batch.pk).update(
                status=ExportBatchStatus.FAILED, error=message[:2000], progress=0
            )


def _build(batch: ExportBatch) -> None:
    settings, _ = AccountingSettings.objects.get_or_create(company=batch.company)
    file_format = import_file_format_for(
        batch.company, package=settings.package, date_format=settings.import_date_format
    )
    documents = Document.objects.filter(export_entries__batch=batch)
    stem = _batch_stem(batch)
    written = 0
    for kind in file_format.kinds:
        types = [t for t in DocumentType.values if file_format.file_kind(t) == kind]
        for part, chunk in enumerate(
            chunks(
                export_documents_load(_in_file_order(documents.filter(type__in=types))),
                file_format.max_documents_per_file,
            ),
            start=1,
        ):
            for document in chunk:
                reasons = file_format.problems(document)
                if reasons:
                    raise UnableToExport(f"{document.label}: {' '.join(reasons)}")
            result = file_format.write(kind, chunk)
            for document in chunk:
                expected = _sign(document) * document.gross_total
                stated = _sign(document) * result.totals[document.id]
                if stated != expected:
                    raise UnableToExport(
                        f"{document.label}: the file's total {stated} differs from the TMS "
                        f"total {expected}."
                    )
            ExportFile.objects.create(
                batch=batch,
                name=f"{stem}-{kind}-{part}.csv",
                kind=kind,
                content=result.content,
                sha256=_sha256(result.content),
                document_count=result.document_count,
            )
            written += result.document_count
            ExportBatch.objects.filter(pk=batch.pk).update(progress=F("progress") + len(chunk))
    if written != batch.document_count:
        raise UnableToExport(
            f"{written} documents were written but the batch holds {batch.document_count}."
        )
    ExportBatch.objects.filter(pk=batch.pk).update(status=ExportBatchStatus.READY, error="")


def _batch_stem(batch: ExportBatch) -> str:
    return f"xero-export-{batch.number:04d}"


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
