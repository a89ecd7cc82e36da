"""The REST API for the TMS and scripts. OpenAPI at /api/docs.

Every endpoint acts as the caller's ``Actor``: an API token belongs to one
company; a browser session acts in the user's current company. Handlers parse,
call one service or selector, and shape the answer.
"""

# No `from __future__ import annotations`: ninja reads these annotations at runtime.
import datetime as dt
from typing import Any

from django.db import DataError, transaction
from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Router, Schema, Status
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.pagination import paginate

from ledgerbridge.accounting.exports import export_history_prefetch
from ledgerbridge.accounting.outbox import sync_record_retry
from ledgerbridge.accounting.selectors import documents_filter_by_sync
from ledgerbridge.accounting.services import documents_send
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    errors_of,
)
from ledgerbridge.invoicing import selectors, services
from ledgerbridge.invoicing.workflow import task_complete
from ledgerbridge.xero.status import posting_status

from .accounting import router as accounting_router
from .auth import ApiTokenAuth, SessionActorAuth
from .errors import about, schema_error
from .exports import router as exports_router
from .golive import router as golive_router
from .outstanding import router as outstanding_router
from .pagination import CursorPages, Pages
from .reconciliation import router as reconciliation_router
from .schemas import (
    CreditIn,
    DocumentIn,
    DocumentOut,
    DocumentSummary,
    DuplicateOut,
    ErrorOut,
    FinaliseIn,
    PartnerIn,
    PartnerOut,
    PartnerPatch,
    PostingStatusOut,
    TaskOut,
    posting_status_out,
)


class LedgerBridgeAPI(NinjaAPI):
    """Ninja's API, its schema refusals in the shape of the services' (``errors.py``)."""

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        errors = []
        for context in error_contexts:
            model = context.model
            where = model.__ninja_param_source__
            body_arg = getattr(model, "__read_from_single_attr__", None) or ""
            flattened = model.__ninja_flatten_map_reverse__
            for error in context.pydantic_validation_error.errors(include_url=False):
                error = {**error, "loc": flattened.get(error["loc"], error["loc"])}
                errors.append(schema_error(error, where=where, body_arg=body_arg))
        return ValidationError(errors)


api = LedgerBridgeAPI(
    title="LedgerBridge API",
    version="1.0",
    description=(
        "Partners and invoicing documents of one company. Authenticate with "
        "`Authorization: Bearer <API token>` (Configuration > API tokens). Money is "
        "returned as decimal strings."
    ),
    urls_namespace="api",
    auth=[ApiTokenAuth(), SessionActorAuth()],
)


@api.exception_handler(NotFoundError)
def _not_found(request: HttpRequest, exc: NotFoundError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message}, status=404)


@api.exception_handler(PermissionDeniedError)
def _forbidden(request: HttpRequest, exc: PermissionDeniedError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message}, status=403)


@api.exception_handler(services.DuplicateDocumentError)
def _duplicate(request: HttpRequest, exc: services.DuplicateDocumentError) -> HttpResponse:
    body = {
        "detail": exc.message,
        "duplicate_id": exc.duplicate.pk,
        "duplicate_number": exc.duplicate.number,
    }
    return api.create_response(request, body, status=409)


def _loc(request: HttpRequest, field: str) -> list[str | int]:
    """``lines[0].unit_price`` as the location list of the schema's 422s: in the body,
    or in the query string for a query parameter (``rows?outcome=…``)."""
    name = field.split(".")[0].split("[")[0]
    where = "query" if request.method == "GET" or name in request.GET else "body"
    loc: list[str | int] = [where]
    for part in field.replace("]", "").split("."):
        name, _, index = part.partition("[")
        loc.append(name)
        if index:
            loc.append(int(index) if index.isdigit() else index)
    return loc


def _field_error(request: HttpRequest, error: ApplicationError) -> dict[str, Any]:
    loc = _loc(request, error.field) if error.field else ["body"]
    return {
        "loc": loc,
        "field": error.field or "",
        # A query parameter is named: its message was written for a form's field.
        "msg": about(f"Query parameter {error.field}", error.message)
        if loc[0] == "query"
        else error.message,
        "type": "invalid",
    }


@api.exception_handler(ApplicationError)
def _invalid(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    errors = errors_of(exc)
    if any(error.field for error in errors):
        body: dict[str, Any] = {"detail": [_field_error(request, error) for error in errors]}
        return api.create_response(request, body, status=422)
    return api.create_response(request, {"detail": exc.message}, status=400)


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def _out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    # An id or page number beyond the database's 64-bit integers (found by fuzzing):
    # SQLite raises OverflowError, PostgreSQL a DataError.
    return api.create_response(
        request, {"detail": "A number in the request is out of range."}, status=400
    )


def actor_of(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


# ------------------------------------------------------------------ partners

partners = Router(tags=["partners"])


class PartnerFilters(Schema):
    kind: str | None = None
    search: str | None = None


@partners.get("", response=list[PartnerOut])
@paginate(Pages, page_size=100)
def partner_list(request: HttpRequest, filters: Query[PartnerFilters]) -> Any:
    qs = selectors.partner_list(actor=actor_of(request), kind=filters.kind)
    if filters.search:
        qs = qs.filter(name__icontains=filters.search)
    return qs


@partners.post("", response={201: PartnerOut, 403: ErrorOut, 422: Any})
def partner_create(request: HttpRequest, payload: PartnerIn) -> Any:
    data = payload.dict()
    if data.get("currency") is None:
        data.pop("currency")
    return Status(201, services.partner_create(actor=actor_of(request), **data))


@partners.get("/{partner_id}", response={200: PartnerOut, 404: ErrorOut})
def partner_get(request: HttpRequest, partner_id: int) -> Any:
    return selectors.partner_get(actor=actor_of(request), partner_id=partner_id)


@partners.patch("/{partner_id}", response={200: PartnerOut, 403: ErrorOut, 404: ErrorOut, 422: Any})
def partner_update(request: HttpRequest, partner_id: int, payload: PartnerPatch) -> Any:
    data = payload.dict(exclude_unset=True)
    return services.partner_update(actor=actor_of(request), partner_id=partner_id, **data)


# ------------------------------------------------------------------ documents

documents = Router(tags=["documents"])


class DocumentQuery(Schema):
    xero: str | None = Field(
        None, description="not_sent, pending, posting, posted, failed, needs_attention"
    )
    type: str | None = None
    status: str | None = None
    partner_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    search: str | None = None


def _input(payload: DocumentIn) -> services.DocumentInput:
    data = payload.dict()
    lines = [services.LineInput(**line) for line in data.pop("lines")]
    return services.DocumentInput(lines=lines, **data)


@documents.get("", response=list[DocumentSummary])
@paginate(CursorPages, date_field="issue_date", page_size=50)
def document_list(request: HttpRequest, filters: Query[DocumentQuery]) -> Any:
    """Newest first. Walk the whole list with `after` (each answer's `next`): a deep
    page then costs what the first does, where `page=N` reads every document before it."""
    data = filters.dict()
    xero = data.pop("xero")
    actor = actor_of(request)
    documents = selectors.document_list(actor=actor, filters=selectors.DocumentFilters(**data))
    # Read ids first by the pagination: a deep page reads an index, not every joined document.
    return documents_filter_by_sync(documents, xero, company=actor.company).prefetch_related(
        export_history_prefetch()
    )


@documents.post("", response={201: DocumentOut, 403: ErrorOut, 422: Any})
@transaction.atomic
def document_create(request: HttpRequest, payload: DocumentIn) -> Any:
    # The answer is read back inside the write's transaction: if it cannot be
    # built, nothing is kept (the client sees an error, not a half-made draft).
    document = services.document_create(actor=actor_of(request), data=_input(payload))
    return Status(201, DocumentOut.from_document(document, actor_of(request)))


# Before the /{document_id} routes, which would otherwise take the path.
class QueuedOut(Schema):
    queued: int


class DocumentIds(Schema):
    document_ids: list[int]


@documents.post("/post-to-xero", response={200: QueuedOut, 403: ErrorOut})
def documents_post(request: HttpRequest, payload: DocumentIds) -> Any:
    """Complete the open or failed "Post to Xero" task of each document."""
    return {"queued": documents_send(actor=actor_of(request), document_ids=payload.document_ids)}


@documents.get("/xero-status", response={200: PostingStatusOut, 404: ErrorOut})
def documents_xero_status(request: HttpRequest) -> Any:
    """Where posting to Xero stands for the company: the invoice list's banner."""
    status = posting_status(actor=actor_of(request))
    if status is None:
        raise NotFoundError("This company does not post to Xero through the API.")
    return posting_status_out(status)


@documents.get("/{document_id}", response={200: DocumentOut, 404: ErrorOut})
def document_get(request: HttpRequest, document_id: int) -> Any:
    actor = actor_of(request)
    return DocumentOut.from_document(
        selectors.document_get(actor=actor, document_id=document_id), actor
    )


@documents.put(
    "/{document_id}",
    response={200: DocumentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: Any},
)
@transaction.atomic
def document_update(request: HttpRequest, document_id: int, payload: DocumentIn) -> Any:
    document = services.document_update(
        actor=actor_of(request), document_id=document_id, data=_input(payload)
    )
    return DocumentOut.from_document(document, actor_of(request))


@documents.delete(
    "/{document_id}", response={204: None, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def document_delete(request: HttpRequest, document_id: int) -> Any:
    services.document_delete_draft(actor=actor_of(request), document_id=document_id)
    return Status(204, None)


@documents.post(
    "/{document_id}/finalise",
    response={
        200: DocumentOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: DuplicateOut,
        422: Any,
    },
)
@transaction.atomic
def document_finalise(
    request: HttpRequest, document_id: int, payload: FinaliseIn | None = None
) -> Any:
    document = services.document_finalise(
        actor=actor_of(request),
        document_id=document_id,
        duplicate_override_reason=payload.duplicate_override_reason if payload else "",
    )
    return DocumentOut.from_document(document, actor_of(request))


@documents.post(
    "/{document_id}/credit-notes",
    response={201: DocumentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: Any},
)
@transaction.atomic
def document_credit(request: HttpRequest, document_id: int, payload: CreditIn) -> Any:
    credit = services.credit_note_create_from_invoice(
        actor=actor_of(request), invoice_id=document_id, **payload.dict()
    )
    return Status(201, DocumentOut.from_document(credit, actor_of(request)))


@documents.get("/{document_id}/pdf", response={200: None, 404: ErrorOut})
def document_pdf(request: HttpRequest, document_id: int) -> Any:
    pdf = selectors.document_pdf_get(actor=actor_of(request), document_id=document_id)
    response = HttpResponse(bytes(pdf.content), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf.filename}"'
    response["ETag"] = f'"{pdf.sha256}"'
    return response


@documents.post(
    "/{document_id}/xero/retry",
    response={200: DocumentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: Any},
)
def document_xero_retry(
    request: HttpRequest, document_id: int, payload: FinaliseIn | None = None
) -> Any:
    sync_record_retry(
        actor=actor_of(request),
        document_id=document_id,
        duplicate_override_reason=payload.duplicate_override_reason if payload else "",
    )
    actor = actor_of(request)
    return DocumentOut.from_document(
        selectors.document_get(actor=actor, document_id=document_id), actor
    )


# ------------------------------------------------------------------ tasks

tasks = Router(tags=["tasks"])


@tasks.post(
    "/{task_id}/complete", response={200: TaskOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def task_complete_endpoint(request: HttpRequest, task_id: int) -> Any:
    return task_complete(actor=actor_of(request), task_id=task_id)


api.add_router("/partners", partners)
api.add_router("/documents", documents)
api.add_router("/tasks", tasks)
api.add_router("/accounting", accounting_router)
api.add_router("/accounting/go-live", golive_router)
api.add_router("/exports", exports_router)
api.add_router("/outstanding", outstanding_router)
api.add_router("/reconciliation", reconciliation_router)
