"""Login page, logout and the company switcher."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ledgerbridge.companies.middleware import SESSION_KEY
from ledgerbridge.companies.selectors import companies_for_user
from ledgerbridge.invoicing.bounds import id_or_none

from .common import redirect_back


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """The login page again, saying why and for how long (django-axes' lockout)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request),
            "locked_out": (
                f"Too many failed logins from this network address. Logging in from it is "
                f"blocked for {minutes} minutes from the last attempt; try again later."
                if getattr(request, "login_locked_out_address", False)
                else f"Too many failed logins for this username. Logging in is blocked for "
                f"{minutes} minutes from the last attempt; try again later or ask a "
                f"Super Admin to check the username."
            ),
        },
        status=429,
    )


@require_POST
@login_required
def company_switch(request: HttpRequest) -> HttpResponse:
    company_id = id_or_none(request.POST.get("company_id"))
    companies = companies_for_user(user=request.user)  # type: ignore[arg-type]
    company = companies.filter(pk=company_id).first() if company_id is not None else None
    if company is None:
        messages.error(request, "You do not have access to that company.")
    else:
        request.session[SESSION_KEY] = company.pk
        messages.success(request, f"Now working in {company.legal_name}.")
    # Objects of the previous company are not visible now: go to the list.
    return redirect_back(request, reverse("invoice_list"))
