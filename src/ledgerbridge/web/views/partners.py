"""Customers and suppliers."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.models import Partner, PartnerKind
from ledgerbridge.invoicing.selectors import partner_get, partner_search
from ledgerbridge.invoicing.services import partner_create, partner_update

from ..forms import PICKER_LISTED, PartnerForm
from .common import (
    actor_view,
    apply_error,
    denied_message,
    forbidden,
    int_or_none,
    paginate,
)


@actor_view()
def partner_list_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    kind = request.GET.get("kind") or ""
    if kind not in PartnerKind.values:
        kind = ""
    search = request.GET.get("search", "")
    page = paginate(request, partner_search(actor=actor, kind=kind or None, search=search))
    return render(
        request,
        "web/partners/list.html",
        {"page": page, "kind": kind, "search": search, "kinds": PartnerKind.choices},
    )


@actor_view(Permission.WORK_DOCUMENTS)
def partner_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    kind = request.GET.get("kind") or PartnerKind.CUSTOMER
    if request.method == "POST":
        form = PartnerForm(request.POST, creating=True)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                partner = partner_create(actor=actor, **data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"{partner.get_kind_display()} {partner.name} created.")
                return redirect("partner_list")
    else:
        form = PartnerForm(
            creating=True,
            initial={
                "kind": kind,
                "currency": actor.company.base_currency,
                "country": actor.company.country,
            },
        )
    return render(request, "web/partners/form.html", {"form": form, "partner": None})


@actor_view()
def partner_detail(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """Finance edits the partner here; a Viewer sees the same page read-only."""
    partner = partner_get(actor=actor, partner_id=pk)
    editable = actor.can(Permission.WORK_DOCUMENTS)
    if request.method == "POST":
        if not editable:
            return forbidden(request, denied_message(actor, Permission.WORK_DOCUMENTS))
        form = PartnerForm(request.POST, creating=False)
        if form.is_valid():
            try:
                partner = partner_update(actor=actor, partner_id=partner.pk, **form.cleaned_data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"{partner.name} saved.")
                return redirect("partner_list")
    else:
        form = PartnerForm(
            creating=False,
            initial={name: getattr(partner, name) for name in PartnerForm.base_fields},
        )
    return render(
        request,
        "web/partners/form.html",
        {"form": form, "partner": partner, "editable": editable},
    )


@actor_view()
def partner_options(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The options of a partner picker: the chosen partner, then those matching ``find``.

    Only the current company's partners, of the asked kind (customers or suppliers)
    and, for a document's own partner, only active ones.
    """
    kind = request.GET.get("kind") or ""
    kind_or_any = kind if kind in PartnerKind.values else None
    active = bool(request.GET.get("active"))

    def partners(search: str = "") -> QuerySet[Partner]:
        found = partner_search(actor=actor, kind=kind_or_any, search=search)
        return found.filter(active=True) if active else found

    chosen_id = int_or_none(request.GET.get("partner") or request.GET.get("partner_id"))
    chosen = partners().filter(pk=chosen_id).first() if chosen_id else None
    find = (request.GET.get("find_partner") or "").strip()
    matches = list(partners(find).order_by("name", "pk")[:PICKER_LISTED])
    if chosen is not None:
        matches = [chosen] + [p for p in matches if p.pk != chosen.pk]
    return render(
        request,
        "web/partners/_options.html",
        {
            "empty_label": request.GET.get("empty") or "",
            "partners": matches,
            "chosen": chosen,
            "more": len(matches) >= PICKER_LISTED,
            "find": find,
        },
    )
