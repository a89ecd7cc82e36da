"""Configuration pages for Super Admins (and platform staff).

Every page checks the CONFIGURE permission up front so that others get a 403
page; the services check it again on every change.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.companies.selectors import api_token_get, api_token_list, audit_entries
from ledgerbridge.companies.services import (
    api_token_create,
    api_token_revoke,
    company_logo_set,
    company_update,
)
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing import configuration as config
from ledgerbridge.invoicing.dimensions import FIELDS, OPERATORS, conditions_validate
from ledgerbridge.invoicing.selectors import (
    dimension_get,
    dimension_list,
    nominal_code_get,
    nominal_code_list,
    number_series_get,
    number_series_list,
    tax_rate_get,
    tax_rate_list,
)

from ..forms import (
    ApiTokenForm,
    CompanyForm,
    DimensionForm,
    DimensionRuleForm,
    DimensionValueForm,
    NominalCodeForm,
    NumberSeriesForm,
    TaxRateForm,
    conditions_from_post,
)
from .common import actor_view, apply_error, int_or_none, paginate

configure = actor_view(Permission.CONFIGURE)


def _page(request: HttpRequest, template: str, section: str, **context: Any) -> HttpResponse:
    return render(request, f"web/config/{template}", {"section": section, **context})


@configure
def config_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    return redirect("config_company")


@configure
def config_company(request: HttpRequest, actor: Actor) -> HttpResponse:
    company = actor.company
    if request.method == "POST":
        form = CompanyForm(request.POST, request.FILES)
        if form.is_valid():
            details = dict(form.cleaned_data)
            logo, remove_logo = details.pop("logo"), details.pop("remove_logo")
            try:
                with transaction.atomic():
                    company_update(actor=actor, **details)
                    if logo is not None:
                        company_logo_set(actor=actor, content=logo.read())
                    elif remove_logo:
                        company_logo_set(actor=actor, content=None)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, "Company details saved.")
                return redirect("config_company")
    else:
        form = CompanyForm(
            initial={
                name: getattr(company, name)
                for name in CompanyForm.base_fields
                if name not in ("logo", "remove_logo")
            }
        )
    return _page(
        request,
        "company.html",
        "config_company",
        form=form,
        has_logo=bool(company.logo),
        payment_fields=[name for name in CompanyForm.base_fields if name.startswith("bank_")]
        + ["payment_terms"],
    )


# ---------------------------------------------------------------- nominal codes


@configure
def config_nominal_codes(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _nominal_code_form(request, actor, obj=None)


@configure
def config_nominal_code_edit(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    return _nominal_code_form(request, actor, obj=nominal_code_get(actor=actor, pk=pk))


def _nominal_code_form(request: HttpRequest, actor: Actor, *, obj: Any) -> HttpResponse:
    if request.method == "POST":
        form = NominalCodeForm(request.POST)
        if form.is_valid():
            try:
                saved = config.nominal_code_save(
                    actor=actor, pk=obj.pk if obj else None, **form.cleaned_data
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"Nominal code {saved.code} saved.")
                return redirect("config_nominal_codes")
    elif obj is not None:
        form = NominalCodeForm(initial={n: getattr(obj, n) for n in NominalCodeForm.base_fields})
    else:
        form = NominalCodeForm()
    return _page(
        request,
        "nominal_codes.html",
        "config_nominal_codes",
        form=form,
        obj=obj,
        items=nominal_code_list(actor=actor),
    )


# ---------------------------------------------------------------- tax rates


@configure
def config_tax_rates(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _tax_rate_form(request, actor, obj=None)


@configure
def config_tax_rate_edit(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    return _tax_rate_form(request, actor, obj=tax_rate_get(actor=actor, pk=pk))


def _tax_rate_form(request: HttpRequest, actor: Actor, *, obj: Any) -> HttpResponse:
    if request.method == "POST":
        form = TaxRateForm(request.POST)
        if form.is_valid():
            try:
                saved = config.tax_rate_save(
                    actor=actor, pk=obj.pk if obj else None, **form.cleaned_data
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"Tax rate {saved.code} saved.")
                return redirect("config_tax_rates")
    elif obj is not None:
        initial = {n: getattr(obj, n) for n in TaxRateForm.base_fields}
        initial["rate"] = f"{obj.rate.normalize():f}"
        form = TaxRateForm(initial=initial)
    else:
        form = TaxRateForm(initial={"applies_to_sales": True})
    return _page(
        request,
        "tax_rates.html",
        "config_tax_rates",
        form=form,
        obj=obj,
        items=tax_rate_list(actor=actor),
    )


# ---------------------------------------------------------------- number series


@configure
def config_number_series(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(
        request, "number_series.html", "config_number_series", items=number_series_list(actor=actor)
    )


@configure
def config_number_series_edit(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    obj = number_series_get(actor=actor, pk=pk)
    if request.method == "POST":
        form = NumberSeriesForm(request.POST)
        if form.is_valid():
            try:
                config.number_series_save(actor=actor, pk=obj.pk, **form.cleaned_data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(
                    request, f"Number series for {obj.get_document_type_display()} saved."
                )
                return redirect("config_number_series")
    else:
        form = NumberSeriesForm(initial={n: getattr(obj, n) for n in NumberSeriesForm.base_fields})
    return _page(request, "number_series_form.html", "config_number_series", form=form, obj=obj)


# ---------------------------------------------------------------- dimensions


@configure
def config_dimensions(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        form = DimensionForm(request.POST)
        if form.is_valid():
            try:
                dimension = config.dimension_save(actor=actor, **form.cleaned_data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"Dimension {dimension.name} created; add its values.")
                return redirect("config_dimension", pk=dimension.pk)
    else:
        form = DimensionForm()
    return _page(
        request,
        "dimensions.html",
        "config_dimensions",
        form=form,
        items=dimension_list(actor=actor),
    )


def _rule_rows(rule: Any) -> list[dict[str, Any]]:
    described = conditions_validate(rule.conditions)
    return [{"text": c.describe()} for c in described]


@configure
def config_dimension(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    dimension = dimension_get(actor=actor, pk=pk)
    values = list(dimension.values.all())
    value_form = DimensionValueForm(label_suffix="", prefix="value")
    if request.method == "POST":
        form = DimensionForm(request.POST, values=values)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["default_value_id"] = int_or_none(data.get("default_value_id"))
            try:
                config.dimension_save(actor=actor, pk=dimension.pk, **data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"Dimension {data['name']} saved.")
                return redirect("config_dimension", pk=dimension.pk)
    else:
        form = DimensionForm(
            values=values,
            initial={
                "name": dimension.name,
                "position": dimension.position,
                "active": dimension.active,
                "default_value_id": str(dimension.default_value_id or ""),
            },
        )
    rules = [{"rule": rule, "conditions": _rule_rows(rule)} for rule in dimension.rules.all()]
    return _page(
        request,
        "dimension.html",
        "config_dimensions",
        dimension=dimension,
        form=form,
        values=values,
        value_form=value_form,
        rules=rules,
    )


@configure
def config_dimension_value(
    request: HttpRequest, actor: Actor, pk: int, value_id: int | None = None
) -> HttpResponse:
    dimension = dimension_get(actor=actor, pk=pk)
    obj = None
    if value_id is not None:
        obj = next((v for v in dimension.values.all() if v.pk == value_id), None)
        if obj is None:
            raise Http404("No such value.")
    if request.method == "POST":
        form = DimensionValueForm(request.POST, label_suffix="", prefix="value")
        if form.is_valid():
            try:
                saved = config.dimension_value_save(
                    actor=actor,
                    dimension_id=dimension.pk,
                    pk=obj.pk if obj else None,
                    **form.cleaned_data,
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"Value {saved.name} saved.")
                return redirect("config_dimension", pk=dimension.pk)
    elif obj is not None:
        form = DimensionValueForm(
            prefix="value", initial={"code": obj.code, "name": obj.name, "active": obj.active}
        )
    else:
        form = DimensionValueForm(label_suffix="", prefix="value")
    return _page(
        request,
        "dimension_value_form.html",
        "config_dimensions",
        dimension=dimension,
        form=form,
        obj=obj,
    )


@configure
def config_dimension_rule(
    request: HttpRequest, actor: Actor, pk: int, rule_id: int | None = None
) -> HttpResponse:
    dimension = dimension_get(actor=actor, pk=pk)
    rules = list(dimension.rules.all())
    rule = None
    if rule_id is not None:
        rule = next((r for r in rules if r.pk == rule_id), None)
        if rule is None:
            raise Http404("No such rule.")
    values = list(dimension.values.all())
    if request.method == "POST":
        form = DimensionRuleForm(request.POST, values=values)
        conditions = conditions_from_post(request.POST)
        if form.is_valid():
            try:
                config.dimension_rule_save(
                    actor=actor,
                    dimension_id=dimension.pk,
                    pk=rule.pk if rule else None,
                    position=form.cleaned_data["position"],
                    conditions=conditions,
                    value_id=int(form.cleaned_data["value_id"]),
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, "Rule saved.")
                return redirect("config_dimension", pk=dimension.pk)
    elif rule is not None:
        form = DimensionRuleForm(
            values=values, initial={"position": rule.position, "value_id": str(rule.value_id)}
        )
        conditions = list(rule.conditions)
    else:
        next_position = max((r.position for r in rules), default=0) + 10
        form = DimensionRuleForm(values=values, initial={"position": next_position})
        conditions = []
    if not conditions:
        conditions = [{"field": "", "op": "equals", "value": ""}]
    return _page(
        request,
        "dimension_rule_form.html",
        "config_dimensions",
        dimension=dimension,
        form=form,
        rule=rule,
        conditions=conditions,
        fields=FIELDS.items(),
        operators=[(key, label) for key, (label, _) in OPERATORS.items()],
    )


@require_POST
@configure
def config_dimension_rule_delete(
    request: HttpRequest, actor: Actor, pk: int, rule_id: int
) -> HttpResponse:
    config.dimension_rule_delete(actor=actor, dimension_id=pk, pk=rule_id)
    messages.success(request, "Rule deleted.")
    return redirect("config_dimension", pk=pk)


# ---------------------------------------------------------------- audit log, API tokens


@configure
def config_audit(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(
        request, "audit.html", "config_audit", page=paginate(request, audit_entries(actor=actor))
    )


@configure
def config_api_tokens(request: HttpRequest, actor: Actor) -> HttpResponse:
    raw_token = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, raw_token = api_token_create(actor=actor, **form.cleaned_data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                # Rendered, not redirected: the raw token is shown this once only.
                messages.success(request, f"API token {token.name} created.")
                form = ApiTokenForm()
    else:
        form = ApiTokenForm()
    return _page(
        request,
        "api_tokens.html",
        "config_api_tokens",
        form=form,
        raw_token=raw_token,
        items=api_token_list(actor=actor),
    )


@require_POST
@configure
def config_api_token_revoke(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    # The service says "no such token" as a plain error; look it up first so
    # another company's token is a 404 like every other object.
    token = api_token_get(actor=actor, token_id=pk)
    try:
        api_token_revoke(actor=actor, token_id=token.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"API token {token.name} revoked.")
    return redirect("config_api_tokens")
