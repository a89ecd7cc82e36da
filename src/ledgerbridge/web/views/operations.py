"""Platform staff's operations page: every company's Xero link, backlog, failures
and rate-limit use, needing-attention first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ledgerbridge.errors import PermissionDeniedError
from ledgerbridge.operations.selectors import FILTERS, operations_overview

from .common import forbidden


@login_required
def platform_operations(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("search", "")[:100]
    show = request.GET.get("show", "")
    try:
        overview = operations_overview(
            user=request.user,  # type: ignore[arg-type]
            now=timezone.now(),
            search=search,
            show=show if show in dict(FILTERS) else "",
            page=request.GET.get("page"),
        )
    except PermissionDeniedError as error:
        return forbidden(request, error.message)
    context = {"overview": overview, "page": overview.page, "search": search, "show": show}
    context["filters"] = FILTERS
    if getattr(request, "htmx", False):
        return render(request, "web/operations/_results.html", context)
    return render(request, "web/operations/page.html", context)
