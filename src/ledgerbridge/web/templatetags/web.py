"""Template helpers of the web UI: permissions, money, menus, task labels."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.template.defaultfilters import floatformat
from django.urls import NoReverseMatch, reverse

from ledgerbridge.companies.permissions import Permission
from ledgerbridge.companies.selectors import companies_for_user
from ledgerbridge.invoicing.workflow import task_type_get

register = template.Library()

# The Configuration menu. An item shows only when its URL exists, so another
# part of the product (e.g. accounting) adds its page by naming a URL here.
CONFIG_MENU: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Company",
        [
            ("Company details", "config_company"),
            ("API tokens", "config_api_tokens"),
            ("Audit log", "config_audit"),
        ],
    ),
    (
        "Invoicing",
        [
            ("Nominal codes", "config_nominal_codes"),
            ("Tax rates", "config_tax_rates"),
            ("Number series", "config_number_series"),
            ("Dimensions", "config_dimensions"),
        ],
    ),
    ("Accounting", [("Accounting package", "config_accounting")]),
]


@register.filter
def can(actor: Any, permission: str) -> bool:
    """``{% if actor|can:"WORK_DOCUMENTS" %}`` — decides what to show, nothing more."""
    return bool(actor) and actor.can(Permission[permission])


@register.filter
def money(value: Any) -> str:
    if value is None or value == "":
        return ""
    return floatformat(Decimal(value), "2g")


@register.filter
def quantity(value: Any) -> str:
    if value is None:
        return ""
    text = f"{Decimal(value).normalize():f}"
    return text


@register.filter
def task_label(task: Any) -> str:
    task_type = task_type_get(task.type)
    return task_type.label if task_type else task.type.replace("_", " ").capitalize()


@register.filter
def task_action(task: Any) -> str:
    task_type = task_type_get(task.type)
    if task.status == "failed":
        return "Retry"
    return task_type.action_label if task_type else "Complete"


@register.simple_tag(takes_context=True)
def user_companies(context: template.Context) -> Any:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    # Names only: platform staff see every company here, and logos are blobs.
    return companies_for_user(user=request.user).only("pk", "legal_name").order_by("legal_name")


@register.simple_tag
def config_menu() -> list[dict[str, Any]]:
    groups = []
    for title, items in CONFIG_MENU:
        links = []
        for label, name in items:
            try:
                links.append({"label": label, "name": name, "url": reverse(name)})
            except NoReverseMatch:
                continue
        if links:
            groups.append({"title": title, "links": links})
    return groups


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def audit_change(value: Any) -> str:
    """An audit entry's change: ``[old, new]`` reads "old → new"."""
    if isinstance(value, list) and len(value) == 2:
        old, new = value
        return f"{'—' if old in (None, '') else old} → {'—' if new in (None, '') else new}"
    return str(value)
