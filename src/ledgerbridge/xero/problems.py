"""Xero's refusals in our words: which of our codes, where it is fixed, who can fix it.

Xero refuses a document with messages such as "The TaxType code 'RRINPUTX'
does not exist…", which name Xero's codes, not ours. They are read once, here,
into neutral facts (``accounting.connector.Problem``) kept on the document's
outbox record; ``problem_text`` says each in our words, and ``problem_advice``
says where it is fixed and by whom, for the person reading the page. The
vocabulary is the setup check's (``setup_check.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from ledgerbridge.accounting.connector import Problem
from ledgerbridge.companies.models import Membership, Role
from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.invoicing.models import Document
from ledgerbridge.invoicing.money import format_date

# Xero's validation messages, most specific first; the sandbox says the same.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("account_archived", re.compile(r"Account code '(?P<code>[^']*)' has been archived")),
    ("account", re.compile(r"Account code '(?P<code>[^']*)' is not a valid code")),
    ("tax_rate", re.compile(r"TaxType code '(?P<code>[^']*)' does not exist")),
    (
        "tracking_option",
        re.compile(
            r"tracking option '(?P<code>[^']*)' does not exist for the tracking category "
            r"'(?P<category>[^']*)'"
        ),
    ),
    ("tracking_category", re.compile(r"tracking category '(?P<category>[^']*)' does not exist")),
    ("contact", re.compile(r"contact with ContactID (?P<code>\S+) does not exist", re.I)),
    ("contact", re.compile(r"contact .*(archived|could not be created)", re.I)),
    ("currency", re.compile(r"not subscribed to currency (?P<code>\w+)", re.I)),
    ("number", re.compile(r"# must be unique|number .*already", re.I)),
    ("lock_date", re.compile(r"lock date", re.I)),
]


def problems_from_refusal(
    document: Document,
    messages: Iterable[str],
    *,
    tax_types: Mapping[str, str],
    categories: Mapping[int, str],
) -> list[Problem]:
    """Xero's messages about one document, each tied to the code of ours it is about.

    ``tax_types``: our tax code → the TaxType sent; ``categories``: dimension id →
    the tracking category sent (as the payload was built). The document's lines
    come prefetched with their codes and dimensions.
    """
    problems: list[Problem] = []
    for message in dict.fromkeys(messages):
        problem = _problem(document, message, tax_types, categories)
        if problem not in problems:
            problems.append(problem)
    return problems


def _problem(
    document: Document, message: str, tax_types: Mapping[str, str], categories: Mapping[int, str]
) -> Problem:
    for kind, pattern in _PATTERNS:
        match = pattern.search(message)
        if match is None:
            continue
        found = match.groupdict()
        lines = list(document.lines.all())
        if kind in ("account", "account_archived"):
            code = found["code"]
            nominal = next(
                (ln.nominal_code for ln in lines if ln.nominal_code.code.upper() == code.upper()),
                None,
            )
            return Problem(
                kind,
                code=nominal.code if nominal else code,
                external_code=code,
                subject=nominal.name if nominal else "",
                object_id=nominal.pk if nominal else None,
                detail=message,
            )
        if kind == "tax_rate":
            tax_type = found["code"]
            rate = next(
                (
                    ln.tax_rate
                    for ln in lines
                    if tax_types.get(ln.tax_rate.code, "").upper() == tax_type.upper()
                ),
                None,
            )
            return Problem(
                kind,
                code=rate.code if rate else "",
                external_code=tax_type,
                subject=rate.name if rate else "",
                object_id=rate.pk if rate else None,
                detail=message,
            )
        if kind in ("tracking_category", "tracking_option"):
            category = found["category"]
            dimension_ids = [
                pk for pk, name in categories.items() if name.lower() == category.lower()
            ]
            value = next(
                (
                    ld
                    for ln in lines
                    for ld in ln.dimensions.all()
                    if ld.dimension_id in dimension_ids
                    and (kind == "tracking_category" or ld.value.name == found["code"])
                ),
                None,
            )
            dimension_id = value.dimension_id if value else next(iter(dimension_ids), None)
            dimension_name = value.dimension.name if value else category
            if kind == "tracking_category":
                return Problem(
                    kind,
                    code=dimension_name,
                    external_code=category,
                    object_id=dimension_id,
                    detail=message,
                )
            return Problem(
                kind,
                code=found["code"],
                external_code=category,
                subject=dimension_name,
                object_id=dimension_id,
                detail=message,
            )
        if kind == "contact":
            partner = document.partner
            return Problem(
                kind,
                code=partner.number,
                subject=partner.name,
                object_id=partner.pk,
                detail=message,
            )
        if kind == "currency":
            return Problem(kind, code=found["code"], external_code=found["code"], detail=message)
        if kind == "number":
            return Problem(kind, code=document.number, detail=message)
        if kind == "lock_date":
            return Problem(kind, code=format_date(document.issue_date), detail=message)
    return Problem("other", detail=message)


def problem_text(problem: Problem) -> str:
    """What is wrong, in our words, naming our code and what it became in Xero."""
    p = problem
    texts = {
        "account": f"Nominal code {p.code} is not an account code Xero accepts for this "
        f"document (Xero has no active account {p.external_code}).",
        "account_archived": f"Nominal code {p.code}: Xero's account {p.external_code} is archived.",
        "tax_rate": f"Tax rate {p.code or '?'} → Xero TaxType {p.external_code}: Xero has no "
        "such tax rate for this kind of document.",
        "tracking_category": f"Dimension {p.code} → Xero tracking category “{p.external_code}”, "
        "which Xero does not have.",
        "tracking_option": f"Dimension {p.subject} value “{p.code}” is not an option of Xero's "
        f"tracking category “{p.external_code}”.",
        "contact": f"The contact for {p.subject} ({p.code}) is not usable in Xero.",
        "currency": f"Currency {p.code} is not enabled in Xero.",
        "number": f"Number {p.code} is already used in Xero.",
        "lock_date": f"The date {p.code} is before Xero's lock date.",
    }
    return texts.get(p.kind, f"Xero refused it: {p.detail}")


@dataclass(frozen=True)
class Advice:
    """What to do about a problem, for one reader."""

    text: str  # what is wrong, in our words
    fix: str  # what to do, and where
    url: str  # where to do it, for a reader who can; else ""
    ask: str  # for a reader who cannot: whom to ask, with the exact item; else ""
    detail: str  # Xero's own words


def _fix(problem: Problem) -> tuple[str, Permission, str]:
    """The fix, the permission it needs, and the page where it is done."""
    p = problem
    accounting = reverse("config_accounting")
    if p.kind in ("account", "account_archived"):
        url = (
            reverse("config_nominal_code_edit", args=[p.object_id])
            if p.object_id
            else reverse("config_nominal_codes")
        )
        verb = "restore" if p.kind == "account_archived" else "create"
        return (
            f"{verb} account {p.external_code} in Xero's chart of accounts, or correct nominal "
            f"code {p.code} in Configuration > Nominal codes; then retry",
            Permission.CONFIGURE,
            url,
        )
    if p.kind == "tax_rate":
        anchor = f"#map-tax-{p.object_id}" if p.object_id else "#mapping"
        return (
            f"map tax rate {p.code or '(the one on this document)'} to the right Xero tax rate "
            f"(it is {p.external_code} now) in Configuration > Accounting > Mapping to Xero; "
            "then retry",
            Permission.CONFIGURE,
            accounting + anchor,
        )
    if p.kind == "tracking_category":
        anchor = f"#map-dimension-{p.object_id}" if p.object_id else "#mapping"
        return (
            f"map dimension {p.code} to an existing Xero tracking category in Configuration > "
            f"Accounting > Mapping to Xero, or create “{p.external_code}” in Xero (Settings > "
            "Tracking categories); then retry",
            Permission.CONFIGURE,
            accounting + anchor,
        )
    if p.kind == "tracking_option":
        return (
            f"create the option “{p.code}” in Xero's tracking category “{p.external_code}” "
            "(Configuration > Accounting: Check setup, then Create missing tracking options); "
            "then retry",
            Permission.CONFIGURE,
            accounting + "#setup-check",
        )
    if p.kind == "contact":
        url = reverse("partner_detail", args=[p.object_id]) if p.object_id else ""
        return (
            f"check {p.subject} ({p.code}) in Partners, then retry: LedgerBridge looks the "
            "contact up in Xero again, or creates it",
            Permission.WORK_DOCUMENTS,
            url,
        )
    if p.kind == "currency":
        return (
            f"enable {p.code} in Xero (Settings > Currencies); then retry",
            Permission.CONFIGURE,
            accounting + "#setup-check",
        )
    if p.kind == "number":
        return (
            f"check {p.code} in Xero: void it there if it is a stray copy, or credit this "
            "document and issue a new one; raise the next number in Configuration > Number "
            "series above the highest one used in Xero",
            Permission.CONFIGURE,
            reverse("config_number_series"),
        )
    if p.kind == "lock_date":
        return (
            "move the lock date in Xero (Settings > Financial settings), or credit this "
            "document and issue it again with a date Xero accepts; then retry",
            Permission.CONFIGURE,
            "",
        )
    return (
        "read Xero's words below, correct the setup (Configuration > Accounting: Check setup "
        "shows what does not match); then retry",
        Permission.CONFIGURE,
        accounting + "#setup-check",
    )


def super_admin_names(company_id: int) -> list[str]:
    """Who to ask: the company's Super Admins by name."""
    memberships = Membership.objects.filter(company_id=company_id, role=Role.SUPER_ADMIN)
    return sorted(str(m.user) for m in memberships.select_related("user"))


def ask_super_admin(company_id: int, what: str) -> str:
    names = super_admin_names(company_id)
    who = f"your Super Admin ({', '.join(names)})" if names else "a Super Admin of the company"
    return f"Ask {who} to {what}."


def _ask(company_id: int, what: str, permission: Permission) -> str:
    if permission == Permission.WORK_DOCUMENTS:
        return f"Ask a Finance user or Super Admin of the company to {what}."
    return ask_super_admin(company_id, what)


def problem_advice(problem: Problem, *, actor: Actor) -> Advice:
    fix, permission, url = _fix(problem)
    if actor.can(permission):
        return Advice(
            problem_text(problem), fix[0].upper() + fix[1:] + ".", url, "", problem.detail
        )
    return Advice(
        problem_text(problem),
        "",
        "",
        _ask(actor.company.pk, fix, permission),
        problem.detail,
    )


def problems_of(stored: Sequence[dict[str, Any]]) -> list[Problem]:
    """The problems kept on an outbox record (as JSON) back as values."""
    fields = set(Problem.__dataclass_fields__)
    return [Problem(**{k: v for k, v in item.items() if k in fields}) for item in stored or []]


def record_advice(problems: Sequence[dict[str, Any]], *, actor: Actor) -> list[Advice]:
    return [problem_advice(p, actor=actor) for p in problems_of(problems)]
