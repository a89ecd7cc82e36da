"""Invoices > Invoices Exports: batches, "Export to Xero" with a preview, a batch's page,
re-export, download."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_POST

from ledgerbridge.accounting import exports
from ledgerbridge.accounting.models import ExportBatchStatus
from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.errors import ApplicationError, NotFoundError, PermissionDeniedError
from ledgerbridge.invoicing.models import DocumentType
from ledgerbridge.invoicing.selectors import partner_list

from ..forms import DATE, PartnerChoiceField, partner_picker
from .common import actor_view, paginate


class ExportFilterForm(forms.Form):
    document_type = forms.ChoiceField(
        required=False, choices=[("", "All types"), *DocumentType.choices], label="Type"
    )
    date_from = forms.DateField(required=False, widget=DATE, label="Issued from")
    date_to = forms.DateField(required=False, widget=DATE, label="to")
    partner = PartnerChoiceField(required=False, label="Partner")

    def __init__(self, *args: Any, partners: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        partner_picker(self, "partner", partners, "All partners")

    def filters(self) -> exports.ExportFilters:
        if not self.is_bound:
            return exports.ExportFilters()
        self.is_valid()
        data = self.cleaned_data
        return exports.ExportFilters(
            document_type=data.get("document_type") or None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            partner_id=int(data["partner"]) if data.get("partner") else None,
        )


def _batches_context(actor: Actor) -> dict[str, Any]:
    batches = list(exports.export_batch_list(actor=actor)[:100])
    return {
        "batches": batches,
        "building": any(b.status == ExportBatchStatus.BUILDING for b in batches),
    }


@actor_view()
def exports_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = ExportFilterForm(request.GET or None, partners=partner_list(actor=actor))
    context: dict[str, Any] = {"form": form, **_batches_context(actor)}
    if "preview" in request.GET and actor.can(Permission.WORK_DOCUMENTS):
        try:
            context["preview"] = exports.export_preview(actor=actor, filters=form.filters())
        except ApplicationError as error:
            if isinstance(error, PermissionDeniedError | NotFoundError):
                raise
            form.add_error(error.field if error.field in form.fields else None, error.message)
        if getattr(request, "htmx", False):
            return render(request, "web/exports/_preview.html", context)
    return render(request, "web/exports/page.html", context)


@actor_view()
def exports_batches(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The batch table alone: polled while a large export is being built."""
    return render(request, "web/exports/_batches.html", _batches_context(actor))


@actor_view()
def exports_batch(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """One batch: its documents with links, and what it left out and why."""
    batch = exports.export_batch_get(actor=actor, batch_id=pk)
    through_api = (exports.LEFT_OUT_IN_XERO, exports.LEFT_OUT_QUEUED)
    return render(
        request,
        "web/exports/batch.html",
        {
            "batch": batch,
            "page": paginate(request, exports.export_batch_entries(batch=batch)),
            "left_out_api": [i for i in batch.left_out if i["kind"] in through_api],
            "left_out_coding": [i for i in batch.left_out if i["kind"] not in through_api],
        },
    )


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def exports_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = ExportFilterForm(request.POST, partners=partner_list(actor=actor))
    try:
        result = exports.export_batch_create(
            actor=actor,
            filters=form.filters(),
            include_in_xero=bool(request.POST.get("include_in_xero")),
            in_xero_reason=request.POST.get("in_xero_reason", ""),
        )
    except ApplicationError as error:
        return _back_with(request, error)
    _report(request, result)
    return redirect("exports_batch", pk=result.batch.pk)


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def exports_reexport(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    try:
        result = exports.export_reexport(
            actor=actor, batch_id=pk, reason=request.POST.get("reason", "")
        )
    except ApplicationError as error:
        return _back_with(request, error)
    _report(request, result)
    return redirect("exports_batch", pk=result.batch.pk)


def _back_with(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    """Back to the page with the service's message; 403/404 stay what they are."""
    if isinstance(error, PermissionDeniedError | NotFoundError):
        raise error
    messages.error(request, error.message)
    return redirect("exports_page")


def _report(request: HttpRequest, result: exports.ExportResult) -> None:
    batch = result.batch
    documents = f"{batch.document_count} document{pluralize(batch.document_count)}"
    if batch.status == ExportBatchStatus.BUILDING:
        text = f"Export {batch.number}: {documents} being written."
    else:
        text = f"Export {batch.number}: {documents} exported."
    if result.left_out:
        text += f" {len(result.left_out)} left out (listed below with the reasons)."
    messages.success(request, text)


@actor_view()
def exports_download(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    try:
        download = exports.export_batch_download(actor=actor, batch_id=pk)
    except ApplicationError as error:
        return _back_with(request, error)
    response = HttpResponse(download.content, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response
