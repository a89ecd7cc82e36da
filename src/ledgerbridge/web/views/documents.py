"""Invoices and credit notes: list, detail, draft form, finalise, credit, PDF, tasks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ledgerbridge import paging
from ledgerbridge.accounting.changes import remote_change_latest
from ledgerbridge.accounting.connector import company_package_name
from ledgerbridge.accounting.exports import export_history, export_history_prefetch
from ledgerbridge.accounting.models import AccountingPackage
from ledgerbridge.accounting.outbox import sync_record_retry
from ledgerbridge.accounting.payments import documents_filter_by_payment
from ledgerbridge.accounting.reconcile import document_gone_actions
from ledgerbridge.accounting.reconcile_read import (
    class_words,
    document_reconcile_latest,
    document_reconcile_since,
    documents_reconcile_open,
    is_open,
)
from ledgerbridge.accounting.selectors import (
    documents_filter_by_sync,
    sync_attempts,
    sync_record_for,
)
from ledgerbridge.accounting.services import accounting_settings_get, documents_send
from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.errors import ApplicationError, NotFoundError, PermissionDeniedError, errors_of
from ledgerbridge.invoicing.bounds import id_or_none
from ledgerbridge.invoicing.figures import document_figure_problems
from ledgerbridge.invoicing.models import (
    CREDIT_NOTE_FOR,
    AccountType,
    ChargeType,
    Document,
    DocumentType,
    PartnerKind,
    TaskStatus,
)
from ledgerbridge.invoicing.pdf import tax_summary
from ledgerbridge.invoicing.selectors import (
    document_detail_get,
    document_get,
    document_list_with_tasks,
    document_pdf_get,
    lines_left_to_credit,
    nominal_code_list,
    partner_list,
    supplier_document_duplicate,
    tax_rate_default,
    tax_rate_list,
)
from ledgerbridge.invoicing.services import (
    MIN_OVERRIDE_REASON,
    DocumentInput,
    DuplicateDocumentError,
    LineInput,
    credit_note_create_from_invoice,
    document_create,
    document_delete_draft,
    document_finalise,
    document_lines_check,
    document_update,
)
from ledgerbridge.invoicing.starter import DEFAULT_CODING
from ledgerbridge.invoicing.workflow import document_tasks, task_complete
from ledgerbridge.words import counted
from ledgerbridge.xero.problems import record_advice
from ledgerbridge.xero.status import BLOCKED, posting_status

from ..forms import CreditForm, DocumentFilterForm, DocumentHeaderForm, lines_from_post
from .common import actor_view, int_or_none, paginate_ids_first, redirect_back


@actor_view()
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    return redirect("invoice_list")


@actor_view()
def invoice_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = DocumentFilterForm(request.GET or None, partners=partner_list(actor=actor))
    documents = document_list_with_tasks(actor=actor, filters=form.filters())
    documents = documents_filter_by_sync(documents, form.sync_status(), company=actor.company)
    documents = (
        documents_filter_by_payment(documents, form.payment_status(), company=actor.company)
        .select_related("sync_record", "sync_record__payment")
        .prefetch_related(export_history_prefetch())
    )
    # Xero and payment filters join each document to its sync record: their count is
    # capped rather than joining the whole ledger (about 100 ms at 100,000). A search
    # for a common word (a town) matches a fifth of the ledger: capped too.
    count_cap = None
    if form.filters().search or form.sync_status() or form.payment_status():
        count_cap = paging.COUNT_CAP
    page = paginate_ids_first(request, documents, count_cap=count_cap)
    uses_xero = accounting_settings_get(company=actor.company).package == AccountingPackage.XERO_API
    # One query for the page: which of its documents reconciliation says to look at.
    to_look_at = documents_reconcile_open(
        company_id=actor.company.pk, document_ids=[d.pk for d in page.object_list]
    )
    for document in page.object_list:
        document.reconcile_row = to_look_at.get(document.pk)
    context = {
        "form": form,
        "page": page,
        "document_types": DocumentType.choices,
        "uses_xero": uses_xero,
        "package_name": company_package_name(actor.company.pk) if to_look_at else "",
        "status": posting_status(actor=actor, count_posted=False) if uses_xero else None,
    }
    if getattr(request, "htmx", False):
        return render(request, "web/documents/_results.html", context)
    return render(request, "web/documents/list.html", context)


@actor_view()
def document_detail(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    return _render_detail(request, actor, pk)


def _render_detail(request: HttpRequest, actor: Actor, pk: int, **extra: Any) -> HttpResponse:
    document = document_detail_get(actor=actor, document_id=pk)
    lines = list(document.lines.all())
    record = sync_record_for(actor=actor, document_id=document.pk)
    reconciled = document_reconcile_latest(actor=actor, document_id=document.pk)
    package = company_package_name(actor.company.pk)
    return render(
        request,
        "web/documents/detail.html",
        {
            "sync": record,
            "remote_change": remote_change_latest(record),
            "gone_actions": document_gone_actions(document, actor=actor)
            if not document.is_draft
            else None,
            "reconcile_row": reconciled,
            "reconcile_open": reconciled is not None and is_open(reconciled),
            "reconcile_since": document_reconcile_since(reconciled),
            "reconcile_label": class_words(reconciled.outcome, package)
            if reconciled is not None
            else "",
            "package_name": package,
            "sync_attempts": sync_attempts(record=record) if record else [],
            "status": posting_status(actor=actor, record=record, document_id=document.pk)
            if not document.is_draft
            else None,
            "problems": record_advice(record.problems, actor=actor) if record else [],
            "document": document,
            "lines": lines,
            "figure_problems": document_figure_problems(document),
            "tax_summary": tax_summary(document),
            "tasks": document_tasks(document=document),
            "credit_notes": list(document.credit_notes.all()),
            "exports": export_history(document),
            "can_credit": not document.is_draft and document.type in CREDIT_NOTE_FOR,
            # A draft that would be refused as a duplicate says so before anyone clicks.
            "duplicate": (
                supplier_document_duplicate(document=document) if document.is_draft else None
            ),
            "min_override_reason": MIN_OVERRIDE_REASON,
            **extra,
        },
    )


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def documents_post_bulk(request: HttpRequest, actor: Actor) -> HttpResponse:
    ids = [i for i in (id_or_none(v) for v in request.POST.getlist("document")) if i is not None]
    try:
        count = documents_send(actor=actor, document_ids=ids)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if count:
            _say_where_posting_stands(
                request, actor, f"{counted(count, 'document')} queued for Xero."
            )
        else:
            messages.info(request, "None of the chosen documents was waiting to be posted.")
    return redirect_back(request, reverse("invoice_list"))


@actor_view()
def xero_progress(request: HttpRequest, actor: Actor) -> HttpResponse:
    status = posting_status(actor=actor, count_posted=False)
    return render(request, "web/documents/_progress.html", {"status": status})


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def document_sync_retry(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    reason = request.POST.get("duplicate_override_reason", "")
    try:
        sync_record_retry(actor=actor, document_id=pk, duplicate_override_reason=reason)
    except NotFoundError:
        raise
    except ApplicationError as error:
        if error.field == "duplicate_override_reason":
            return _render_detail(
                request, actor, pk, post_override_error=error.message, override_reason=reason
            )
        messages.error(request, error.message)
    else:
        _say_where_posting_stands(request, actor, "Queued for Xero again.")
    return redirect("document_detail", pk=pk)


def _say_where_posting_stands(request: HttpRequest, actor: Actor, done: str) -> None:
    """A queued document goes nowhere while posting is blocked: say so, and who must act."""
    status = posting_status(actor=actor, count_posted=False)
    if status is not None and status.state == BLOCKED:
        messages.warning(request, f"{done} {status.headline} {status.who}")
    else:
        messages.success(request, done)


@actor_view()
def document_pdf(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    pdf = document_pdf_get(actor=actor, document_id=pk)
    response = HttpResponse(bytes(pdf.content), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf.filename}"'
    return response


# ---------------------------------------------------------------- draft form


def _line_rows_from_document(document: Document) -> list[dict[str, Any]]:
    return [
        {
            "description": line.description,
            "charge_type": line.charge_type,
            "quantity": f"{line.quantity.normalize():f}",
            "unit_price": f"{line.unit_price.normalize():f}",
            "discount_percent": f"{line.discount_percent.normalize():f}",
            "nominal_code": line.nominal_code.code,
            "tax_rate": line.tax_rate.code,
            "credited_line_id": str(line.credited_line_id or ""),
        }
        for line in document.lines.select_related("nominal_code", "tax_rate")
    ]


def _blank_row(actor: Actor, sales: bool) -> dict[str, Any]:
    tax_rate = tax_rate_default(actor=actor, sales=sales)
    return {
        "description": "",
        "charge_type": ChargeType.FREIGHT.value,
        "quantity": "1",
        "unit_price": "",
        "discount_percent": "0",
        "nominal_code": DEFAULT_CODING["freight"][0 if sales else 1],
        "tax_rate": tax_rate.code if tax_rate else "",
        "credited_line_id": "",
    }


def _line_inputs(rows: list[dict[str, str]]) -> list[LineInput]:
    return [
        LineInput(
            description=row["description"],
            charge_type=row["charge_type"],
            quantity=row["quantity"],
            unit_price=row["unit_price"],
            discount_percent=row["discount_percent"] or "0",
            nominal_code=row["nominal_code"],
            tax_rate=row["tax_rate"],
            credited_line_id=id_or_none(row["credited_line_id"]),
        )
        for row in rows
    ]


def _mark_line_error(rows: list[dict[str, Any]], error: ApplicationError) -> bool:
    """Attach ``lines[2].quantity``-style errors to that row's input."""
    field = error.field or ""
    if not field.startswith("lines["):
        return False
    index_text, _, name = field[len("lines[") :].partition("].")
    index = int_or_none(index_text)
    if index is None or not 0 <= index < len(rows):
        return False
    rows[index].setdefault("errors", {})[name or "description"] = error.message
    return True


def _show_errors(
    form: DocumentHeaderForm, rows: list[dict[str, Any]], errors: list[ApplicationError]
) -> str | None:
    """Every error next to its line input or header field; the rest above the form."""
    page_errors = []
    for error in errors:
        if isinstance(error, NotFoundError | PermissionDeniedError):
            raise error
        if _mark_line_error(rows, error):
            continue
        if error.field in form.fields:
            form.add_error(error.field, error.message)
        else:
            page_errors.append(error.message)
    return " ".join(page_errors) or None


@actor_view(Permission.WORK_DOCUMENTS)
def document_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    doc_type = request.GET.get("type") or DocumentType.SALES_INVOICE
    if doc_type not in DocumentType.values:
        raise Http404("Unknown document type.")
    return _document_form(request, actor, doc_type=doc_type, document=None)


@actor_view(Permission.WORK_DOCUMENTS)
def document_edit(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    document = document_get(actor=actor, document_id=pk)
    if not document.is_draft:
        messages.error(request, f"{document} is final; correct it with a credit note.")
        return redirect("document_detail", pk=document.pk)
    return _document_form(request, actor, doc_type=document.type, document=document)


def _document_form(
    request: HttpRequest, actor: Actor, *, doc_type: str, document: Document | None
) -> HttpResponse:
    sales = doc_type in (DocumentType.SALES_INVOICE, DocumentType.SALES_CREDIT_NOTE)
    partners = partner_list(
        actor=actor, kind=PartnerKind.CUSTOMER if sales else PartnerKind.SUPPLIER
    ).filter(active=True)
    form_kwargs: dict[str, Any] = {"partners": partners, "purchase": not sales}
    page_error = None
    if request.method == "POST":
        form = DocumentHeaderForm(request.POST, **form_kwargs)
        rows: list[dict[str, Any]] = [dict(row) for row in lines_from_post(request.POST)]
        if form.is_valid():
            data = form.cleaned_data
            document_input = DocumentInput(
                type=doc_type,
                partner_id=int(data["partner_id"]),
                issue_date=data["issue_date"],
                due_date=data["due_date"],
                currency=data["currency"] or None,
                exchange_rate=data["exchange_rate"].strip() or None,
                exchange_rate_source=data["exchange_rate_source"],
                reference=data["reference"],
                order_reference=data["order_reference"],
                trip_reference=data["trip_reference"],
                supplier_reference=data.get("supplier_reference", ""),
                notes=data["notes"],
                original_id=document.original_id if document else None,
                lines=_line_inputs(rows),
            )
            try:
                if document is None:
                    saved = document_create(actor=actor, data=document_input)
                else:
                    saved = document_update(
                        actor=actor, document_id=document.pk, data=document_input
                    )
            except ApplicationError as exc:
                page_error = _show_errors(form, rows, errors_of(exc))
            else:
                messages.success(request, f"Draft saved: {saved.get_type_display().lower()}.")
                return redirect("document_detail", pk=saved.pk)
        elif rows:
            # The header could not be read; still say everything wrong with the lines.
            line_errors = document_lines_check(actor=actor, type=doc_type, lines=_line_inputs(rows))
            page_error = _show_errors(form, rows, line_errors)
        if not rows:
            rows = [_blank_row(actor, sales)]
    elif document is not None:
        form = DocumentHeaderForm(
            initial={
                "partner_id": str(document.partner_id),
                "issue_date": document.issue_date,
                "due_date": document.due_date,
                "currency": document.currency,
                "exchange_rate": document.exchange_rate_text,
                "exchange_rate_source": document.exchange_rate_source,
                "reference": document.reference,
                "order_reference": document.order_reference,
                "trip_reference": document.trip_reference,
                "supplier_reference": document.supplier_reference,
                "notes": document.notes,
            },
            **form_kwargs,
        )
        rows = _line_rows_from_document(document)
    else:
        from django.utils import timezone

        form = DocumentHeaderForm(initial={"issue_date": timezone.localdate()}, **form_kwargs)
        rows = [_blank_row(actor, sales)]
    side_type = AccountType.REVENUE if sales else AccountType.EXPENSE
    return render(
        request,
        "web/documents/form.html",
        {
            "form": form,
            "document": document,
            "doc_type": doc_type,
            "doc_type_label": DocumentType(doc_type).label,
            "rows": rows,
            "blank_row": _blank_row(actor, sales),
            "page_error": page_error,
            "charge_types": ChargeType.choices,
            # The side's own codes first (revenue on sales, expense on purchases);
            # the others are offered behind "Show all nominal codes".
            "nominal_codes": sorted(
                nominal_code_list(actor=actor, active_only=True),
                key=lambda code: (code.type != side_type, code.code),
            ),
            "side_type": side_type,
            "tax_rates": tax_rate_list(actor=actor, active_only=True, sales=sales),
            "default_coding": {k: v[0 if sales else 1] for k, v in DEFAULT_CODING.items()},
            "cancel_url": (
                reverse("document_detail", args=[document.pk])
                if document
                else reverse("invoice_list")
            ),
        },
    )


# ---------------------------------------------------------------- actions


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def document_finalise_view(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    reason = request.POST.get("duplicate_override_reason", "")
    try:
        document = document_finalise(actor=actor, document_id=pk, duplicate_override_reason=reason)
    except (NotFoundError, PermissionDeniedError):
        raise
    except DuplicateDocumentError as exc:
        # Shown on the page with the "Finalise anyway" form, not as a passing flash.
        return _render_detail(request, actor, pk, duplicate_refusal=exc.message)
    except ApplicationError as exc:
        if exc.field == "duplicate_override_reason":
            return _render_detail(
                request, actor, pk, override_error=exc.message, override_reason=reason
            )
        messages.error(request, f"Not finalised: {exc.message}")
    else:
        messages.success(
            request, f"Finalised as {document.get_type_display().lower()} {document.number}."
        )
    return redirect("document_detail", pk=pk)


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def document_delete(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    try:
        document_delete_draft(actor=actor, document_id=pk)
    except (NotFoundError, PermissionDeniedError):
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("document_detail", pk=pk)
    messages.success(request, "Draft deleted.")
    return redirect("invoice_list")


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def task_complete_view(request: HttpRequest, actor: Actor, pk: int, task_id: int) -> HttpResponse:
    document = document_get(actor=actor, document_id=pk)
    if task_id not in {task.pk for task in document_tasks(document=document)}:
        raise Http404("No such task on this document.")
    try:
        task = task_complete(actor=actor, task_id=task_id)
    except (NotFoundError, PermissionDeniedError):
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if task.status == TaskStatus.IN_PROGRESS:
            _say_where_posting_stands(request, actor, task.message)
        elif task.status == TaskStatus.FAILED:
            messages.error(request, task.message)
        else:
            messages.success(request, f"Task done{': ' + task.message if task.message else '.'}")
    return redirect("document_detail", pk=pk)


@actor_view(Permission.WORK_DOCUMENTS)
def document_credit(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    invoice = document_detail_get(actor=actor, document_id=pk)
    if invoice.is_draft or invoice.type not in CREDIT_NOTE_FOR:
        messages.error(request, "Only a final invoice can be credited.")
        return redirect("document_detail", pk=pk)
    lines = list(invoice.lines.all())
    left = lines_left_to_credit(invoice=invoice)
    quantities: dict[int, str] = {pk: f"{qty.normalize():f}" for pk, qty in left.items()}
    line_errors: dict[int, str] = {}
    page_error = None
    if request.method == "POST":
        form = CreditForm(request.POST)
        quantities = {line.pk: request.POST.get(f"qty_{line.pk}", "").strip() for line in lines}
        if form.is_valid():
            try:
                credit_note = credit_note_create_from_invoice(
                    actor=actor,
                    invoice_id=invoice.pk,
                    quantities={k: (v or "0") for k, v in quantities.items()},
                    issue_date=form.cleaned_data["issue_date"],
                    reference=form.cleaned_data["reference"],
                    supplier_reference=form.cleaned_data.get("supplier_reference", ""),
                )
            except (NotFoundError, PermissionDeniedError):
                raise
            except ApplicationError as exc:
                field = exc.field or ""
                line_id = int_or_none(field[len("quantities[") : -1]) if field else None
                if field.startswith("quantities[") and line_id in quantities:
                    line_errors[line_id] = exc.message  # type: ignore[index]
                elif exc.field in form.fields:
                    form.add_error(exc.field, exc.message)
                else:
                    page_error = exc.message
            else:
                messages.success(
                    request,
                    "Credit note drafted. Check it, then finalise it to give it a number.",
                )
                return redirect("document_detail", pk=credit_note.pk)
    else:
        form = CreditForm()
    if invoice.is_sales:
        form.fields.pop("supplier_reference", None)
    credit_notes = list(invoice.credit_notes.all())
    credited = sum((cn.gross_total for cn in credit_notes if not cn.is_draft), Decimal("0.00"))
    return render(
        request,
        "web/documents/credit.html",
        {
            "invoice": invoice,
            "form": form,
            "rows": [
                {
                    "line": line,
                    "left": left[line.pk],
                    "quantity": quantities.get(line.pk, ""),
                    "error": line_errors.get(line.pk),
                }
                for line in lines
            ],
            "page_error": page_error,
            "credit_notes": credit_notes,
            "credited": credited,
            "remaining": invoice.gross_total - credited,
        },
    )
