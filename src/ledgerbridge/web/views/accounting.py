"""Configuration > Accounting: the accounting package, the Xero link, setup check, mapping.

Super Admins (and platform staff) only; the package itself only platform staff change.
"""

from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ledgerbridge.accounting.connector import company_package_name
from ledgerbridge.accounting.golive import go_live_of
from ledgerbridge.accounting.models import AccountingPackage
from ledgerbridge.accounting.services import (
    accounting_package_set,
    accounting_settings_get,
    posting_settings_set,
)
from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.errors import ApplicationError, PermissionDeniedError
from ledgerbridge.invoicing.models import Dimension, TaxRate
from ledgerbridge.words import counted
from ledgerbridge.xero import connection
from ledgerbridge.xero.coding import (
    explicit_tax_names,
    tax_names_for_company,
    tax_types_for_company,
    tracking_category_for,
    xero_tax_mapping_set,
    xero_tax_name_set,
    xero_tracking_mapping_set,
)
from ledgerbridge.xero.setup_check import (
    setup_check_current,
    setup_check_fixes,
    xero_setup_check_run,
    xero_tracking_options_create,
)

from .common import actor_view
from .golive import go_live_state_label

configure = actor_view(Permission.CONFIGURE)
SESSION_KEY = "xero_authorisation"


def _back() -> HttpResponse:
    return redirect("config_accounting")


@configure
def config_accounting(request: HttpRequest, actor: Actor) -> HttpResponse:
    settings = accounting_settings_get(company=actor.company)
    link = connection.xero_link_get(company=actor.company)
    check = setup_check_current(link=link)
    tax_types = tax_types_for_company(actor.company)
    tax_names = tax_names_for_company(actor.company)
    explicit_names = explicit_tax_names(actor.company)
    go_live = go_live_of(actor.company)
    package = company_package_name(actor.company.pk)
    return render(
        request,
        "web/config/accounting.html",
        {
            "section": "config_accounting",
            "settings": settings,
            "packages": AccountingPackage.choices,
            "can_change_package": actor.is_platform_staff,
            "posting_flags": [
                (name, label, getattr(settings, name)) for name, label in POSTING_FLAGS
            ],
            "is_api": settings.package == AccountingPackage.XERO_API,
            "link": link,
            "go_live": go_live,
            "go_live_state": go_live_state_label(go_live, package) if go_live else "",
            "check": check,
            "check_fixes": setup_check_fixes(check),
            "tax_rows": [
                (
                    rate,
                    tax_types[rate.code],
                    tax_names.get(rate.pk, ""),
                    explicit_names.get(rate.pk, ""),
                )
                for rate in TaxRate.objects.filter(company=actor.company, active=True)
            ],
            "dimension_rows": [
                (dimension, tracking_category_for(dimension))
                for dimension in Dimension.objects.filter(company=actor.company, active=True)
            ],
        },
    )


POSTING_FLAGS = [
    ("auto_post_sales_invoice", "Sales invoices"),
    ("auto_post_sales_credit_note", "Sales credit notes"),
    ("auto_post_purchase_invoice", "Purchase invoices"),
    ("auto_post_purchase_credit_note", "Purchase credit notes"),
]


@require_POST
@configure
def accounting_posting(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Auto-complete or manual "Post to Xero" per document type; drafts or approved.

    Switching auto-posting on runs the setup check first: documents would
    otherwise fail one by one on what the check finds at once.
    """
    current = accounting_settings_get(company=actor.company)
    flags = {name: request.POST.get(name) == "on" for name, _ in POSTING_FLAGS}
    flags["post_as_draft"] = request.POST.get("post_as_draft") == "on"
    switching_on = [name for name, _ in POSTING_FLAGS if flags[name] and not getattr(current, name)]
    if switching_on:
        try:
            check = xero_setup_check_run(actor=actor)
        except ApplicationError as error:
            messages.error(request, f"Auto-posting stays off: {error.message}")
            return _back()
        if not check.ok:
            messages.error(
                request,
                "Auto-posting stays off until the setup check passes; fix the lines marked below.",
            )
            return _back()
    try:
        posting_settings_set(actor=actor, **flags)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Posting settings saved.")
    return _back()


@require_POST
@configure
def accounting_package(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        settings = accounting_package_set(actor=actor, package=request.POST.get("package", ""))
    except PermissionDeniedError:
        raise  # a 403 page, like every other refusal
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Accounting package: {settings.get_package_display()}.")
    return _back()


def _redirect_uri(request: HttpRequest) -> str:
    # Xero only redirects to URIs registered with the app, so this is built from
    # the configured public URL, never from the request's Host header.
    return f"{django_settings.PUBLIC_URL.rstrip('/')}{reverse('xero_callback')}"


@require_POST
@configure
def xero_authorise(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        auth = connection.xero_authorise_start(actor=actor, redirect_uri=_redirect_uri(request))
    except ApplicationError as error:
        messages.error(request, error.message)
        return _back()
    except connection.oauth.IdentityError as error:
        messages.error(request, error.message)
        return _back()
    request.session[SESSION_KEY] = {
        "state": auth.state,
        "verifier": auth.code_verifier,
        "company_id": actor.company.pk,
    }
    return redirect(auth.url)


@configure
def xero_callback(request: HttpRequest, actor: Actor) -> HttpResponse:
    pending = request.session.pop(SESSION_KEY, None)
    if request.GET.get("error"):
        messages.error(request, f"Xero did not authorise the link: {request.GET['error']}.")
        return _back()
    if (
        not pending
        or pending.get("state") != request.GET.get("state")
        or pending.get("company_id") != actor.company.pk
    ):
        messages.error(
            request,
            "This authorisation was not started here or has expired; click Authorise API again.",
        )
        return _back()
    try:
        link = connection.xero_authorise_complete(
            actor=actor,
            code=request.GET.get("code", ""),
            redirect_uri=_redirect_uri(request),
            code_verifier=pending["verifier"],
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return _back()
    if link.is_connected:
        messages.success(request, f"Connected to {link.tenant_name}.")
    else:
        messages.info(request, "Choose the Xero organisation for this company.")
    return _back()


@require_POST
@configure
def xero_choose(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        link = connection.xero_tenant_choose(
            actor=actor,
            tenant_id=request.POST.get("tenant_id", ""),
            confirm_other_organisation=request.POST.get("confirm") == "yes",
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Connected to {link.tenant_name}.")
    return _back()


@require_POST
@configure
def xero_reset(request: HttpRequest, actor: Actor) -> HttpResponse:
    link = connection.xero_link_reset(actor=actor)
    if link.last_error:
        messages.warning(request, f"Link reset, with a note: {link.last_error}")
    else:
        messages.success(request, "The Xero link was reset: Not connected.")
    return _back()


@require_POST
@configure
def xero_check(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        check = xero_setup_check_run(actor=actor)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        failed = sum(1 for item in check.items if not item["ok"])
        if failed:
            messages.warning(
                request,
                f"Setup check: {counted(failed, 'line')} need{'s' if failed == 1 else ''} attention.",
            )
        else:
            messages.success(request, "Setup check passed.")
    return _back()


@require_POST
@configure
def xero_tracking_options(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        created = xero_tracking_options_create(actor=actor)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Created in Xero: {', '.join(created) or 'nothing was missing'}."
        )
    return _back()


@require_POST
@configure
def xero_mapping(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        for key in request.POST:
            value = request.POST.get(key, "")
            if key.startswith("taxname_"):
                xero_tax_name_set(actor=actor, tax_rate_id=int(key[8:]), tax_name=value)
            elif key.startswith("tax_"):
                xero_tax_mapping_set(actor=actor, tax_rate_id=int(key[4:]), tax_type=value)
            elif key.startswith("dimension_"):
                xero_tracking_mapping_set(
                    actor=actor, dimension_id=int(key[10:]), category_name=value
                )
    except ApplicationError as error:
        messages.error(request, error.message)
    except ValueError:
        messages.error(request, "The mapping form was not understood; reload the page.")
    else:
        messages.success(request, "Mapping saved. Run the setup check to verify it.")
    return _back()
