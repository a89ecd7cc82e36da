"""Payment status: Xero's webhook endpoint, "Check payments now", the outstanding overview."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ledgerbridge.accounting.outstanding import (
    BUCKETS,
    RECEIVABLES,
    SIDES,
    AgedAmounts,
    OutstandingFilters,
    outstanding_currencies,
    outstanding_documents,
    outstanding_get,
    outstanding_partner_choices,
)
from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.models import PartnerKind
from ledgerbridge.spreadsheet import SafeCsvWriter
from ledgerbridge.xero.polling import xero_payments_check_now
from ledgerbridge.xero.webhooks import (
    InvalidWebhookBody,
    xero_webhook_receive,
    xero_webhook_signature_valid,
)

from ..forms import OutstandingFilterForm
from .common import actor_view, redirect_back


@csrf_exempt
@require_POST
def xero_webhook(request: HttpRequest) -> HttpResponse:
    """Xero's deliveries: 401 (empty) unless signed with our key, else store and 200 (empty).

    Xero's intent-to-receive check expects exactly these answers, and it
    gives up on answers slower than 5 s, so nothing here calls Xero.
    """
    body = request.body
    if not xero_webhook_signature_valid(
        body=body, signature=request.headers.get("x-xero-signature", "")
    ):
        return HttpResponse(status=401)
    try:
        xero_webhook_receive(body=body, now=timezone.now())
    except InvalidWebhookBody:
        return HttpResponse(status=400)
    return HttpResponse(status=200)


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def payments_check_now(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        xero_payments_check_now(actor=actor)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Checking payments in Xero now.")
    return redirect_back(request, reverse("invoice_list"))


@actor_view()
def outstanding(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Invoices > Outstanding: receivables or payables per currency, aged, with drill-down."""
    side = request.GET.get("side", "")
    side = side if side in SIDES else RECEIVABLES
    label, kind, _, _ = SIDES[side]
    today = timezone.localdate()
    data = request.GET.copy()
    data["side"] = side
    data.setdefault("as_of", today.isoformat())  # shown in the form, not left blank
    form = OutstandingFilterForm(
        data,
        partners=outstanding_partner_choices(actor=actor, side=side),
        partner_label=PartnerKind(kind).label,
        currencies=outstanding_currencies(actor=actor),
    )
    filters = form.filters(today=today)
    if request.GET.get("format") == "csv":
        return _outstanding_csv(actor, filters)
    overview = outstanding_get(actor=actor, filters=filters)
    drill = bool(filters.partner_id or filters.bucket)
    documents = (
        outstanding_documents(actor=actor, filters=filters, limit=DOCUMENTS_SHOWN + 1)
        if drill
        else []
    )
    query = _query(filters)
    return render(
        request,
        "web/documents/outstanding.html",
        {
            "form": form,
            "overview": overview,
            "side": side,
            "label": label,
            "partner_label": PartnerKind(kind).label,
            "sides": [(key, SIDES[key][0]) for key in SIDES],
            "buckets": BUCKETS,
            "charts": [_chart(amounts) for amounts in overview.currencies],
            "currency_rows": [_with_links(row, query) for row in overview.currencies],
            "partner_rows": [_with_links(row, query) for row in overview.partners],
            "documents": documents[:DOCUMENTS_SHOWN],
            "more_documents": len(documents) > DOCUMENTS_SHOWN,
            "drill": drill,
            "as_of_iso": overview.as_of.isoformat(),
            "csv_query": urlencode({**query, "format": "csv"}),
        },
    )


DOCUMENTS_SHOWN = 200
CHART_WIDTH = 220  # the longest bar, in SVG user units
CHART_ROW = 22


def _query(filters: OutstandingFilters) -> dict[str, str]:
    query = {"side": filters.side, "as_of": filters.as_of.isoformat() if filters.as_of else ""}
    if filters.partner_id:
        query["partner"] = str(filters.partner_id)
    if filters.currency:
        query["currency"] = filters.currency
    if filters.bucket:
        query["bucket"] = filters.bucket
    return query


def _with_links(row: AgedAmounts, query: dict[str, str]) -> dict[str, Any]:
    """A row and the URL of its documents (all, and per bucket)."""
    base = {**query, "currency": row.currency}
    if row.partner_id:
        base["partner"] = str(row.partner_id)
    base.pop("bucket", None)
    return {
        "row": row,
        "link": "?" + urlencode(base),
        "cells": [
            (key, amount, "?" + urlencode({**base, "bucket": key}))
            for key, _, amount in row.bucket_list
        ],
    }


def _chart(amounts: AgedAmounts) -> dict[str, Any]:
    """An ageing chart of one currency: a bar per bucket, scaled to the largest."""
    largest = max((abs(v) for v in amounts.buckets.values()), default=Decimal(0)) or Decimal(1)
    bars = []
    for i, (key, label, value) in enumerate(amounts.bucket_list):
        length = int((abs(value) / largest * CHART_WIDTH).to_integral_value())
        bars.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "y": i * CHART_ROW,
                "text_y": i * CHART_ROW + 13,
                "width": max(length, 2) if value else 0,
                "value_x": 100 + max(length, 2) + 6 if value else 106,
                "credit": value < 0,  # more unused credit than due: drawn apart, not as debt
            }
        )
    return {
        "currency": amounts.currency,
        "total": amounts.total,
        "bars": bars,
        "height": len(bars) * CHART_ROW,
        "has_credit": any(bar["credit"] for bar in bars),
    }


def _outstanding_csv(actor: Actor, filters: OutstandingFilters) -> HttpResponse:
    kind = SIDES[filters.side][1]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    as_of = filters.as_of.isoformat() if filters.as_of else ""
    response["Content-Disposition"] = f'attachment; filename="{filters.side}-{as_of}.csv"'
    writer = SafeCsvWriter(response)
    writer.writerow(
        [
            PartnerKind(kind).label,
            "Type",
            "Number",
            "Issue date",
            "Due date",
            "Days overdue",
            "Age",
            "Currency",
            "Total",
            "Amount due",
            "Last payment date",
            "Last payment amount",
            "Checked in Xero at",
        ]
    )
    for document in outstanding_documents(actor=actor, filters=filters):
        writer.writerow(
            [
                document.partner_name,
                document.type_label,
                document.number,
                document.issue_date.isoformat(),
                document.due_date.isoformat(),
                document.days_overdue,
                document.bucket_label,
                document.currency,
                f"{document.total:.2f}",
                f"{document.amount_due:.2f}",
                document.last_payment_date.isoformat() if document.last_payment_date else "",
                f"{document.last_payment_amount:.2f}"
                if document.last_payment_amount is not None
                else "",
                timezone.localtime(document.last_checked_at).strftime("%Y-%m-%d %H:%M")
                if document.last_checked_at
                else "",
            ]
        )
    return response
