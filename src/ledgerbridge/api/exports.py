"""REST endpoints of Invoices Exports: preview, export, re-export, list, download.

Finance and Super Admin export; every role reads and downloads.
"""

# No `from __future__ import annotations`: ninja reads these annotations at runtime.
import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from ledgerbridge.accounting import exports
from ledgerbridge.accounting.models import ExportBatch
from ledgerbridge.accounting.totals import CurrencyTotals
from ledgerbridge.companies.permissions import Actor

from .schemas import ErrorOut

router = Router(tags=["exports"])


class ExportFiltersIn(Schema):
    document_type: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    partner_id: int | None = None


INCLUDE_IN_XERO = (
    "Put documents already in Xero through the API in the file too (importing it creates "
    "them again); needs in_xero_reason, audited. Queued ones are never included."
)


class ExportIn(ExportFiltersIn):
    include_in_xero: bool = Field(False, description=INCLUDE_IN_XERO)
    in_xero_reason: str = ""


class ReexportIn(Schema):
    reason: str
    batch_id: int | None = None
    document_ids: list[int] | None = None
    include_in_xero: bool = Field(False, description=INCLUDE_IN_XERO)
    in_xero_reason: str = ""


class LeftOutOut(Schema):
    document_id: int
    label: str
    kind: str = Field(
        description="in_xero: already in Xero through the API; queued: on its way there "
        "through the API; coding: Xero's import would refuse its coding"
    )
    reasons: list[str]


class ExportFileOut(Schema):
    id: int
    name: str
    kind: str
    document_count: int
    sha256: str


class CurrencyTotalsOut(Schema):
    """Totals of one currency: amounts are never added up across currencies."""

    currency: str = Field(description="ISO 4217 code of the documents added up here")
    net: Decimal
    tax: Decimal
    gross: Decimal

    @staticmethod
    def of(totals: list[CurrencyTotals]) -> list["CurrencyTotalsOut"]:
        return [
            CurrencyTotalsOut(currency=t.currency, net=t.net, tax=t.tax, gross=t.gross)
            for t in totals
        ]


TOTALS = (
    "One entry per currency, by currency code (credit notes count negative); "
    "there is no total across currencies."
)


class ExportBatchOut(Schema):
    id: int
    number: int
    status: str
    document_count: int
    progress: int
    totals: list[CurrencyTotalsOut] = Field(description=TOTALS)
    filters: dict[str, Any]
    reexport_reason: str
    in_xero_reason: str
    left_out: list[LeftOutOut]
    error: str
    created_at: dt.datetime
    created_by: str
    files: list[ExportFileOut]
    download_url: str | None

    @staticmethod
    def of(batch: ExportBatch) -> "ExportBatchOut":
        ready = batch.status == "ready"
        return ExportBatchOut(
            id=batch.pk,
            number=batch.number,
            status=batch.status,
            document_count=batch.document_count,
            progress=batch.progress,
            totals=CurrencyTotalsOut.of(batch.currency_totals),
            filters=batch.filters,
            reexport_reason=batch.reexport_reason,
            in_xero_reason=batch.in_xero_reason,
            left_out=[LeftOutOut(**item) for item in batch.left_out],
            error=batch.error,
            created_at=batch.created_at,
            created_by=batch.created_by_label,
            files=[
                ExportFileOut(
                    id=f.pk,
                    name=f.name,
                    kind=f.kind,
                    document_count=f.document_count,
                    sha256=f.sha256,
                )
                for f in batch.files.all()
            ]
            if ready
            else [],
            download_url=f"/api/exports/{batch.pk}/download" if ready else None,
        )


class ExportCreatedOut(Schema):
    batch: ExportBatchOut
    left_out: list[LeftOutOut]


class PreviewOut(Schema):
    included_count: int
    totals: list[CurrencyTotalsOut] = Field(description=TOTALS)
    included_ids: list[int]
    left_out: list[LeftOutOut]


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _filters(payload: ExportFiltersIn) -> exports.ExportFilters:
    return exports.ExportFilters(**payload.dict(include=set(ExportFiltersIn.model_fields)))


def _left_out(items: list[exports.LeftOut]) -> list[LeftOutOut]:
    return [LeftOutOut(**item.as_json()) for item in items]


def _created(actor: Actor, result: exports.ExportResult) -> Any:
    batch = exports.export_batch_get(actor=actor, batch_id=result.batch.pk)
    return Status(
        201, ExportCreatedOut(batch=ExportBatchOut.of(batch), left_out=_left_out(result.left_out))
    )


@router.get("", response=list[ExportBatchOut])
def export_list(request: HttpRequest) -> Any:
    return [ExportBatchOut.of(b) for b in exports.export_batch_list(actor=_actor(request))[:200]]


@router.get("/preview", response={200: PreviewOut, 403: ErrorOut, 422: Any})
def export_preview(request: HttpRequest, filters: Query[ExportFiltersIn]) -> Any:
    selection = exports.export_preview(actor=_actor(request), filters=_filters(filters), sample=0)
    return PreviewOut(
        included_count=selection.included_count,
        totals=CurrencyTotalsOut.of(selection.totals),
        included_ids=selection.included_ids,
        left_out=_left_out(selection.left_out),
    )


@router.post("", response={201: ExportCreatedOut, 400: ErrorOut, 403: ErrorOut, 422: Any})
def export_create(request: HttpRequest, payload: ExportIn) -> Any:
    actor = _actor(request)
    result = exports.export_batch_create(
        actor=actor,
        filters=_filters(payload),
        include_in_xero=payload.include_in_xero,
        in_xero_reason=payload.in_xero_reason,
    )
    return _created(actor, result)


@router.post(
    "/reexport",
    response={201: ExportCreatedOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: Any},
)
def export_reexport(request: HttpRequest, payload: ReexportIn) -> Any:
    actor = _actor(request)
    result = exports.export_reexport(
        actor=actor,
        reason=payload.reason,
        batch_id=payload.batch_id,
        document_ids=payload.document_ids,
        include_in_xero=payload.include_in_xero,
        in_xero_reason=payload.in_xero_reason,
    )
    return _created(actor, result)


@router.get("/{batch_id}", response={200: ExportBatchOut, 404: ErrorOut})
def export_get(request: HttpRequest, batch_id: int) -> Any:
    return ExportBatchOut.of(exports.export_batch_get(actor=_actor(request), batch_id=batch_id))


@router.get("/{batch_id}/download", response={200: None, 400: ErrorOut, 404: ErrorOut})
def export_download(request: HttpRequest, batch_id: int) -> Any:
    download = exports.export_batch_download(actor=_actor(request), batch_id=batch_id)
    response = HttpResponse(download.content, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response
