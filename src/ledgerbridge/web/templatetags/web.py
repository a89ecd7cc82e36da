"""Template helpers of the web UI: permissions, menus, task labels, and the one way
every page shows money, counts, dates, plurals and labels.

Dates use ``date:"j M Y"`` (``1 Dec 2026``) and ``date:"j M Y H:i"``; messages
built in Python use ``invoicing.money.format_date`` and ``format_money`` alike.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.urls import NoReverseMatch, reverse

from ledgerbridge.accounting.connector import UNNAMED
from ledgerbridge.companies.permissions import Permission
from ledgerbridge.companies.selectors import companies_for_user
from ledgerbridge.invoicing.workflow import task_type_get
from ledgerbridge.words import counted as counted_words

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
    (
        "Accounting",
        [("Accounting package", "config_accounting"), ("Going live", "config_go_live")],
    ),
]


@register.filter
def can(actor: Any, permission: str) -> bool:
    """``{% if actor|can:"WORK_DOCUMENTS" %}`` — decides what to show, nothing more."""
    return bool(actor) and actor.can(Permission[permission])


@register.filter
def money(value: Any, currency: str = "") -> str:
    """``1,234.50``; with a currency, ``1,234.50 GBP``."""
    if value is None or value == "":
        return ""
    text = _two_places(Decimal(value))
    return f"{text} {currency}" if currency else text


CENT = Decimal("0.01")


def _two_places(number: Decimal) -> str:
    # What floatformat(number, "2g") gives, without its per-call locale lookups: a
    # list page shows 150 figures and floatformat was a fifth of its rendering.
    try:
        rounded = number.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # not finite, or more digits than a Decimal context holds
        return str(floatformat(number, "2g"))
    if not rounded:
        rounded = abs(rounded)
    return f"{rounded:,.2f}"


@register.filter
def period(start: Any, end: Any) -> str:
    """``1 Dec – 31 Dec 2026``; the first year too when the years differ
    (``1 Jan 2016 – 31 Dec 2026``), so a long period never reads as one year."""
    if not start or not end:
        return ""
    first = date_filter(start, "j M" if start.year == end.year else "j M Y")
    return f"{first} – {date_filter(end, 'j M Y')}"


@register.filter
def package_words(text: Any, package: str) -> str:
    """Reconciliation's stored words name "the package" (the port's neutral name);
    a page names it: "voided in the package" reads "voided in Xero"."""
    text = str(text)
    if not package or package == UNNAMED:
        return text
    return text.replace("the package", package)


@register.filter
def number(value: Any) -> str:
    """A count or limit with thousands separators: ``10,000``."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}"


@register.filter
def counted(count: Any, words: str) -> str:
    """``{{ n|counted:"document" }}`` reads "1 document" or "3 documents";
    ``"entry,entries"`` names an irregular plural."""
    singular, _, plural = words.partition(",")
    return counted_words(int(count or 0), singular, plural)


# Labels from one place: what Xero's payment states and allocation kinds read as.
PAYMENT_LABELS = {
    "unpaid": "Unpaid",
    "partly_paid": "Partly paid",
    "paid": "Paid",
    "voided": "Voided in Xero",
    "deleted": "Deleted in Xero",
}
# A credit note is not paid but allocated (to invoices) or refunded.
CREDIT_NOTE_PAYMENT_LABELS = {
    **PAYMENT_LABELS,
    "unpaid": "Not allocated",
    "partly_paid": "Partly allocated",
    "paid": "Allocated",
}
ALLOCATION_LABELS = {
    "invoice": "Allocated to invoice",
    "credit_note": "Credit note",
    "overpayment": "Overpayment",
    "prepayment": "Prepayment",
}
# A sending attempt's step and outcome (the outbox's log).
ATTEMPT_LABELS = {
    "post": "Post",
    "attach": "Attach PDF",
    "allocate": "Allocate",
    "lookup": "Look up",
    "ok": "Done",
    "retry": "Will retry",
    "unknown": "Unknown",
    "failed": "Failed",
    "needs_attention": "Needs attention",
}
GONE_IN_XERO = ("voided", "deleted")


@register.filter
def payment_label(payment: Any) -> str:
    """A payment state in words, as a credit note or an invoice has it."""
    if payment is None:
        return ""
    document = payment.record.document
    labels = CREDIT_NOTE_PAYMENT_LABELS if document.is_credit_note else PAYMENT_LABELS
    return labels.get(payment.status, payment.status.replace("_", " ").capitalize())


@register.filter
def allocation_label(kind: str) -> str:
    return ALLOCATION_LABELS.get(kind, kind.replace("_", " ").capitalize())


@register.filter
def attempt_label(value: str) -> str:
    return ATTEMPT_LABELS.get(value, value.replace("_", " ").capitalize())


@register.filter
def gone_in_xero(document: Any) -> str:
    """ "voided" or "deleted" when Xero says so of this posted document, else ""."""
    record = getattr(document, "sync_record", None) if document else None
    try:
        payment = record.payment if record is not None else None
    except ObjectDoesNotExist:
        return ""
    if payment is not None and payment.status in GONE_IN_XERO:
        return str(payment.status)
    return ""


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


# Audit keys whose value is a list of things, never an [old, new] pair.
AUDIT_LISTS = {"failed", "options", "documents", "notes", "conditions", "created"}


def _audit_value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return f"{value:,}" if isinstance(value, int) else str(value)
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_audit_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_audit_value(item) for item in value) if value else "none"
    return str(value)


@register.filter
def audit_change(value: Any, key: str = "") -> str:
    """An audit entry's change in words: ``[old, new]`` reads "old → new"; a list
    reads "a; b" (or "none"), never as Python writes it."""
    if isinstance(value, list) and len(value) == 2 and key not in AUDIT_LISTS:
        old, new = value
        return f"{_audit_value(old)} → {_audit_value(new)}"
    return _audit_value(value)


@register.filter
def audit_key(key: str) -> str:
    """``left_out`` reads "Left out"."""
    return key.replace("_", " ").replace("-", " ").capitalize()
