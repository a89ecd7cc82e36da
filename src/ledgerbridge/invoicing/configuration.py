"""Super Admin configuration of invoicing: nominal codes, tax rates, number series,
dimensions, their values and rules. Every change is audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction

from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import ApplicationError, NotFoundError

from . import bounds
from .dimensions import conditions_validate
from .models import (
    AccountType,
    Dimension,
    DimensionRule,
    DimensionValue,
    NominalCode,
    NumberSeries,
    TaxRate,
)

M = TypeVar("M", bound=models.Model)


def _save_audited(actor: Actor, obj: M, fields: dict[str, Any], *, label: str) -> M:
    created = obj.pk is None
    changes = {}
    for name, value in fields.items():
        if created:
            changes[name] = value
            setattr(obj, name, value)
            continue
        old = getattr(obj, name)
        if old != value:
            changes[name] = [old, value]
            setattr(obj, name, value)
    with transaction.atomic():
        obj.save()
        if changes:
            audit_record(
                actor=actor,
                company=actor.company,
                action=f"{label} {'created' if created else 'changed'}",
                target=str(obj),
                changes={k: _jsonable(v) for k, v in changes.items()},
            )
    return obj


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal | models.Model):
        return str(value)
    return value


def _get(actor: Actor, model: type[M], pk: int | None, **scope: Any) -> M | None:
    if pk is None:
        return None
    obj = model._default_manager.filter(pk=pk, **scope).first()
    if obj is None:
        raise NotFoundError(f"No such {model._meta.verbose_name}.")
    return obj


def _required(value: Any, field: str, label: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise ApplicationError(f"Enter the {label}.", field=field)
    return text


def nominal_code_save(
    *, actor: Actor, pk: int | None = None, code: str, name: str, type: str, active: bool = True
) -> NominalCode:
    require(actor, Permission.CONFIGURE)
    obj = _get(actor, NominalCode, pk, company=actor.company) or NominalCode(company=actor.company)
    code = _required(code, "code", "code")
    if type not in AccountType.values:
        raise ApplicationError("Type must be revenue or expense.", field="type")
    if NominalCode.objects.filter(company=actor.company, code=code).exclude(pk=obj.pk).exists():
        raise ApplicationError(f"Nominal code {code} already exists.", field="code")
    fields = {"code": code, "name": _required(name, "name", "name"), "type": type, "active": active}
    return _save_audited(actor, obj, fields, label="nominal code")


def tax_rate_save(
    *,
    actor: Actor,
    pk: int | None = None,
    code: str,
    name: str,
    rate: Any,
    applies_to_sales: bool,
    applies_to_purchases: bool,
    active: bool = True,
) -> TaxRate:
    require(actor, Permission.CONFIGURE)
    obj = _get(actor, TaxRate, pk, company=actor.company) or TaxRate(company=actor.company)
    code = _required(code, "code", "code")
    rate_value = bounds.clean_field(bounds.TAX_RATE_PERCENT, rate, field="rate")
    if not (applies_to_sales or applies_to_purchases):
        raise ApplicationError(
            "A tax rate must apply to sales, purchases or both.", field="applies_to_sales"
        )
    if TaxRate.objects.filter(company=actor.company, code=code).exclude(pk=obj.pk).exists():
        raise ApplicationError(f"Tax rate code {code} already exists.", field="code")
    fields = {
        "code": code,
        "name": _required(name, "name", "name"),
        "rate": rate_value,
        "applies_to_sales": applies_to_sales,
        "applies_to_purchases": applies_to_purchases,
        "active": active,
    }
    return _save_audited(actor, obj, fields, label="tax rate")


def number_series_save(
    *, actor: Actor, pk: int, prefix: str, padding: int, reset_yearly: bool, next_number: int
) -> NumberSeries:
    require(actor, Permission.CONFIGURE)
    with transaction.atomic():
        obj = NumberSeries.objects.select_for_update().filter(company=actor.company, pk=pk).first()
        if obj is None:
            raise NotFoundError("No such number series.")
        padding = bounds.clean_int_field(bounds.NUMBER_PADDING, padding, field="padding")
        next_number = bounds.clean_int_field(bounds.NEXT_NUMBER, next_number, field="next_number")
        # A series stored past its last number never issued those numbers (finalising
        # refused), so it may come back down into range.
        stuck = obj.next_number > bounds.NEXT_NUMBER.maximum
        if next_number < obj.next_number and not stuck:
            raise ApplicationError(
                f"The next number can only go up (it is {obj.next_number}); lowering it would "
                "reuse numbers.",
                field="next_number",
            )
        if len(prefix) > 20:
            raise ApplicationError("The prefix can be at most 20 characters.", field="prefix")
        fields = {
            "prefix": prefix.strip(),
            "padding": padding,
            "reset_yearly": reset_yearly,
            "next_number": next_number,
        }
        return _save_audited(actor, obj, fields, label="number series")


def dimension_save(
    *,
    actor: Actor,
    pk: int | None = None,
    name: str,
    position: int = 0,
    active: bool = True,
    default_value_id: int | None = None,
) -> Dimension:
    require(actor, Permission.CONFIGURE)
    obj = _get(actor, Dimension, pk, company=actor.company) or Dimension(company=actor.company)
    name = _required(name, "name", "name")
    position = bounds.clean_int_field(bounds.POSITION, position, field="position")
    if Dimension.objects.filter(company=actor.company, name=name).exclude(pk=obj.pk).exists():
        raise ApplicationError(f"A dimension named {name} already exists.", field="name")
    default = None
    if default_value_id is not None:
        default = (
            DimensionValue.objects.filter(pk=default_value_id, dimension=obj).first()
            if obj.pk
            else None
        )
        if default is None:
            raise ApplicationError(
                "The default must be one of this dimension's values.", field="default_value_id"
            )
    fields = {
        "name": name,
        "position": position,
        "active": active,
        "default_value": default,
    }
    return _save_audited(actor, obj, fields, label="dimension")


def dimension_value_save(
    *,
    actor: Actor,
    dimension_id: int,
    pk: int | None = None,
    code: str,
    name: str,
    active: bool = True,
) -> DimensionValue:
    require(actor, Permission.CONFIGURE)
    dimension = _get(actor, Dimension, dimension_id, company=actor.company)
    assert dimension is not None
    obj = _get(actor, DimensionValue, pk, dimension=dimension) or DimensionValue(
        dimension=dimension
    )
    code = _required(code, "code", "code")
    if DimensionValue.objects.filter(dimension=dimension, code=code).exclude(pk=obj.pk).exists():
        raise ApplicationError(f"Value code {code} already exists in {dimension}.", field="code")
    fields = {"code": code, "name": _required(name, "name", "name"), "active": active}
    return _save_audited(actor, obj, fields, label=f"{dimension.name} value")


def dimension_rule_save(
    *,
    actor: Actor,
    dimension_id: int,
    pk: int | None = None,
    position: int,
    conditions: list[dict[str, Any]],
    value_id: int,
) -> DimensionRule:
    require(actor, Permission.CONFIGURE)
    dimension = _get(actor, Dimension, dimension_id, company=actor.company)
    assert dimension is not None
    obj = _get(actor, DimensionRule, pk, dimension=dimension) or DimensionRule(dimension=dimension)
    position = bounds.clean_int_field(bounds.POSITION, position, field="position")
    conditions_validate(conditions)
    value = DimensionValue.objects.filter(pk=value_id, dimension=dimension).first()
    if value is None:
        raise ApplicationError("Choose one of this dimension's values.", field="value_id")
    fields = {"position": position, "conditions": conditions, "value": value}
    return _save_audited(actor, obj, fields, label=f"{dimension.name} rule")


def dimension_rule_delete(*, actor: Actor, dimension_id: int, pk: int) -> None:
    require(actor, Permission.CONFIGURE)
    rule = DimensionRule.objects.filter(
        pk=pk, dimension_id=dimension_id, dimension__company=actor.company
    ).first()
    if rule is None:
        raise NotFoundError("No such rule.")
    with transaction.atomic():
        audit_record(
            actor=actor,
            company=actor.company,
            action="dimension rule deleted",
            target=str(rule),
            changes={"conditions": rule.conditions},
        )
        rule.delete()
