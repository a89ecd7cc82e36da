"""Payment status: Xero's webhook endpoint, "Check payments now", the outstanding overview."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ledgerbridge.accounting.payments import outstanding_overview
from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.errors import ApplicationError
from ledgerbridge.xero.polling import xero_payments_check_now
from ledgerbridge.xero.webhooks import (
    InvalidWebhookBody,
    xero_webhook_receive,
    xero_webhook_signature_valid,
)

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
    return render(
        request,
        "web/documents/outstanding.html",
        {"lines": outstanding_overview(actor=actor, today=timezone.localdate())},
    )
