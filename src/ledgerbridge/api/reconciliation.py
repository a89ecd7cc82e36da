"""REST endpoints of reconciliation: start a run, list runs, read a run's rows by class,
acknowledge a row with a reason, and the safe actions on a row.

Finance and Super Admin start runs, acknowledge and act; every role reads.
"""

# No `from __future__ import annotations`: ninja reads these annotations at runtime.
import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from ledgerbridge.accounting import reconcile
from ledgerbridge.accounting.models import AccountingSettings, ReconciliationRow, ReconciliationRun
from ledgerbridge.companies.permissions import Actor

from .pagination import Pages
from .schemas import ErrorOut

router = Router(tags=["reconciliation"])

OUTCOME = (
    "agrees, missing, only_in_package, differs, status_differs (rows of that class not "
    "acknowledged), acknowledged, or open (every row that does not agree and is not "
    "acknowledged); all rows when left out"
)


class RunIn(Schema):
    date_from: dt.date
    date_to: dt.date
    incremental: bool = Field(
        False,
        description="Read only what the package changed since the previous run of the same "
        "period and carry the rest over",
    )


class RunOut(Schema):
    id: int
    status: str = Field(description="running, done or failed")
    period_from: dt.date
    period_to: dt.date
    incremental: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    requested_by: str
    counts: dict[str, int] = Field(
        description="Rows per class, and acknowledged (rows a person accepted, counted only there)"
    )
    documents_read: int
    calls: int = Field(description="Calls made to the package")
    bytes_read: int = Field(description="Bytes downloaded from the package")
    error: str

    @staticmethod
    def of(run: ReconciliationRun) -> "RunOut":
        return RunOut(
            id=run.pk,
            status=run.status,
            period_from=run.period_from,
            period_to=run.period_to,
            incremental=run.incremental,
            started_at=run.started_at,
            finished_at=run.finished_at,
            requested_by=run.requested_by_label,
            counts=run.counts,
            documents_read=run.documents_read,
            calls=run.calls,
            bytes_read=run.bytes_read,
            error=run.error,
        )


class AcknowledgementOut(Schema):
    reason: str
    by: str
    at: dt.datetime


class RowOut(Schema):
    id: int
    run_id: int
    outcome: str
    acknowledgement: AcknowledgementOut | None
    document_id: int | None = Field(description="Our document, when there is one")
    external_id: str = Field(description="The package's id, when it holds the document")
    type: str
    number: str
    contact_name: str
    currency: str
    ours: dict[str, str] = Field(description="Our values (as text), side by side with theirs")
    theirs: dict[str, str] = Field(description="The package's values (as text)")
    differences: list[str] = Field(description="What does not agree, in words")
    actions: list[str] = Field(
        description="What the row allows: post, recheck, link, credit, post_again (sent "
        "to /actions), acknowledge (sent to /acknowledge with a reason)"
    )
    not_offered: list[str] = Field(
        description="Actions not offered that one might expect, and why, in words"
    )

    @staticmethod
    def of(row: ReconciliationRow, *, package: str | None = None) -> "RowOut":
        ack = row.acknowledgement
        if package is None:
            package = _package(row.company_id)
        allowed = reconcile.reconciliation_row_actions(row, package=package)
        return RowOut(
            id=row.pk,
            run_id=row.run_id,
            outcome=row.outcome,
            acknowledgement=AcknowledgementOut(reason=ack.reason, by=ack.by_label, at=ack.at)
            if ack is not None
            else None,
            document_id=row.document_id,
            external_id=row.external_id,
            type=row.type,
            number=row.number,
            contact_name=row.contact_name,
            currency=row.currency,
            ours=row.ours,
            theirs=row.theirs,
            differences=row.differences,
            actions=[a.action for a in allowed.actions],
            not_offered=list(allowed.not_offered),
        )


def _package(company_id: int) -> str:
    return str(
        AccountingSettings.objects.filter(company_id=company_id)
        .values_list("package", flat=True)
        .first()
        or ""
    )


class RowQuery(Schema):
    outcome: str | None = Field(None, description=OUTCOME)


class AcknowledgeIn(Schema):
    reason: str


class ActionIn(Schema):
    action: str = Field(
        description="post (missing, never posted: queue it), recheck (read it from the "
        "package again), link (typed in the package with our number, contact and total: "
        "record it as ours there, nothing sent), credit (ours voided or deleted in the "
        "package: draft a credit note of the whole invoice, finalised as usual, not sent), "
        "post_again (ours voided or deleted there, where the package takes its number "
        "again: queue a new copy)"
    )


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


@router.post("/runs", response={201: RunOut, 400: ErrorOut, 403: ErrorOut, 422: Any})
def run_start(request: HttpRequest, payload: RunIn) -> Any:
    """Start a reconciliation of the period; a worker does it (poll the run)."""
    run = reconcile.reconciliation_start(
        actor=_actor(request),
        date_from=payload.date_from,
        date_to=payload.date_to,
        incremental=payload.incremental,
        now=timezone.now(),
    )
    return Status(201, RunOut.of(run))


@router.get("/runs", response=list[RunOut])
def run_list(request: HttpRequest) -> Any:
    return [RunOut.of(run) for run in reconcile.reconciliation_runs(actor=_actor(request))[:200]]


@router.get("/runs/{run_id}", response={200: RunOut, 404: ErrorOut})
def run_get(request: HttpRequest, run_id: int) -> Any:
    return RunOut.of(reconcile.reconciliation_run_get(actor=_actor(request), run_id=run_id))


@router.get("/runs/{run_id}/rows", response=list[RowOut])
@paginate(Pages, page_size=100)
def row_list(request: HttpRequest, run_id: int, query: Query[RowQuery]) -> Any:
    rows = reconcile.reconciliation_rows(
        actor=_actor(request), run_id=run_id, outcome=query.outcome
    )
    return _Rows(rows)


class _Rows:
    """A page of rows shaped for the answer (the paginator slices, then this shapes)."""

    def __init__(self, rows: Any) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return int(self.rows.count())

    def __getitem__(self, item: slice) -> list[RowOut]:
        rows = list(self.rows[item])
        package = _package(rows[0].company_id) if rows else ""
        return [RowOut.of(row, package=package) for row in rows]


@router.post(
    "/rows/{row_id}/acknowledge",
    response={200: RowOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: Any},
)
def row_acknowledge(request: HttpRequest, row_id: int, payload: AcknowledgeIn) -> Any:
    actor = _actor(request)
    row = reconcile.reconciliation_row_get(actor=actor, row_id=row_id)
    row = reconcile.reconciliation_acknowledge(
        row, reason=payload.reason, actor=actor, now=timezone.now()
    )
    return RowOut.of(row)


@router.post(
    "/rows/{row_id}/actions",
    response={200: RowOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: Any},
)
def row_act(request: HttpRequest, row_id: int, payload: ActionIn) -> Any:
    actor = _actor(request)
    row = reconcile.reconciliation_row_get(actor=actor, row_id=row_id)
    row = reconcile.reconciliation_act(row, payload.action, actor=actor, now=timezone.now())
    return RowOut.of(row)
