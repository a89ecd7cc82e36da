"""The setup check: does the company's coding exist in its Xero organisation?

Each line of the checklist names what it checked, whether it passed, and how to
fix it. The result is kept and shown on Configuration > Accounting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.models import (
    AccountType,
    Dimension,
    DocumentLine,
    DocumentType,
    NominalCode,
    NumberSeries,
    Partner,
    TaxRate,
)
from ledgerbridge.invoicing.numbering import number_series_ensure

from .client import XeroClient
from .coding import tax_types_for_company, tracking_category_for
from .connection import LinkNotUsable
from .errors import XeroError, XeroNotFound
from .models import XeroConnection, XeroSetupCheck
from .payloads import enum_value

# Xero account classes that fit our account types.
FITTING_CLASSES: dict[str, set[str]] = {
    AccountType.REVENUE: {"REVENUE"},
    AccountType.EXPENSE: {"EXPENSE"},
}
MAX_TRACKING_CATEGORIES = 2
TRACKING_OPTIONS_FIX = "tracking_options"


@dataclass
class CheckItem:
    area: str
    subject: str
    ok: bool
    message: str
    hint: str = ""
    # A fix LedgerBridge can make itself (a button on the page), or "".
    fix: str = ""


def _accounts(client: XeroClient, company_id: int) -> list[CheckItem]:
    accounts = {a.code: a for a in client.call(client.api.get_accounts).accounts or [] if a.code}
    items = []
    for code in NominalCode.objects.filter(company_id=company_id, active=True):
        account = accounts.get(code.code)
        label = f"{code.code} {code.name}"
        if account is None:
            items.append(
                CheckItem(
                    "Accounts",
                    label,
                    False,
                    f"Xero has no account with code {code.code}.",
                    f"Create account {code.code} in Xero's chart of accounts, or deactivate "
                    "this nominal code.",
                )
            )
        elif enum_value(account.status) != "ACTIVE":
            items.append(
                CheckItem(
                    "Accounts",
                    label,
                    False,
                    f"Xero account {code.code} is archived.",
                    f"Restore account {code.code} in Xero, or deactivate this nominal code.",
                )
            )
        else:
            account_class = enum_value(account._class)
            if account_class not in FITTING_CLASSES[code.type]:
                items.append(
                    CheckItem(
                        "Accounts",
                        label,
                        False,
                        f"Xero account {code.code} is of class {account_class}, not {code.get_type_display().lower()}.",
                        f"Use a {code.get_type_display().lower()} account in Xero for {code.code}, or change "
                        "the nominal code's type.",
                    )
                )
            else:
                items.append(
                    CheckItem(
                        "Accounts", label, True, f"Active {account_class.lower()} account in Xero."
                    )
                )
    return items


def _tax_rates(client: XeroClient, company_id: int) -> list[CheckItem]:
    xero_rates = {r.tax_type: r for r in client.call(client.api.get_tax_rates).tax_rates or []}
    tax_types = tax_types_for_company(client.company)
    used = set(
        DocumentLine.objects.filter(document__company_id=client.company.pk).values_list(
            "tax_rate_id", flat=True
        )
    )
    items = []
    for rate in TaxRate.objects.filter(company_id=company_id):
        if not rate.active and rate.pk not in used:
            continue
        tax_type = tax_types[rate.code]
        xero = xero_rates.get(tax_type)
        label = f"{rate.code} {rate.name} ({rate.rate.normalize():f} %)"
        hint_map = f"Map {rate.code} to the right Xero tax rate under Tax rate mapping below."
        if xero is None:
            items.append(
                CheckItem("Tax rates", label, False, f"Xero has no tax rate {tax_type}.", hint_map)
            )
            continue
        status = enum_value(xero.status)
        xero_rate = Decimal(
            str(xero.effective_rate if xero.effective_rate is not None else xero.display_tax_rate)
        )
        if status != "ACTIVE":
            items.append(
                CheckItem(
                    "Tax rates",
                    label,
                    False,
                    f"Xero tax rate {tax_type} is {status.lower()}.",
                    hint_map,
                )
            )
        elif xero_rate != rate.rate:
            items.append(
                CheckItem(
                    "Tax rates",
                    label,
                    False,
                    f"Xero's {tax_type} “{xero.name}” is {xero_rate.normalize():f} %, ours is {rate.rate.normalize():f} %.",
                    hint_map,
                )
            )
        else:
            items.append(CheckItem("Tax rates", label, True, f"Maps to {tax_type} “{xero.name}”."))
    return items


def _tracking(client: XeroClient, company_id: int) -> tuple[list[CheckItem], dict[str, list[str]]]:
    categories = {
        c.name: c for c in client.call(client.api.get_tracking_categories).tracking_categories or []
    }
    items: list[CheckItem] = []
    missing: dict[str, list[str]] = {}
    dimensions = list(
        Dimension.objects.filter(company_id=company_id, active=True).prefetch_related(
            "rules__value", "values"
        )
    )
    mapped = {d.pk: tracking_category_for(d) for d in dimensions}
    if len(set(mapped.values())) > MAX_TRACKING_CATEGORIES:
        items.append(
            CheckItem(
                "Tracking",
                "Dimensions",
                False,
                f"{len(mapped)} dimensions are active; Xero allows at most 2 tracking categories.",
                "Deactivate a dimension or map two dimensions to the same category.",
            )
        )
    for dimension in dimensions:
        name = mapped[dimension.pk]
        category = categories.get(name)
        label = f"{dimension.name} → {name}"
        if category is None or enum_value(category.status) != "ACTIVE":
            items.append(
                CheckItem(
                    "Tracking",
                    label,
                    False,
                    f"Xero has no active tracking category “{name}”.",
                    f"Create “{name}” in Xero (Settings > Tracking categories), or map "
                    "the dimension to an existing category below.",
                )
            )
            continue
        options = {o.name for o in category.options or [] if enum_value(o.status) == "ACTIVE"}
        producible = {rule.value.name for rule in dimension.rules.all()}
        if dimension.default_value_id:
            producible.add(
                next(v.name for v in dimension.values.all() if v.pk == dimension.default_value_id)
            )
        absent = sorted(producible - options)
        if absent:
            missing[name] = absent
            items.append(
                CheckItem(
                    "Tracking",
                    label,
                    False,
                    f"Options missing in Xero: {', '.join(absent)}.",
                    "Click “Create missing tracking options” to add them in Xero.",
                    fix=TRACKING_OPTIONS_FIX,
                )
            )
        else:
            items.append(
                CheckItem(
                    "Tracking",
                    label,
                    True,
                    f"All {len(producible)} values the rules can produce exist as options.",
                )
            )
    return items, missing


def _number_series(client: XeroClient, company_id: int) -> list[CheckItem]:
    number_series_ensure(company=client.company)
    items = []
    for series in NumberSeries.objects.filter(
        company_id=company_id,
        document_type__in=[DocumentType.SALES_INVOICE, DocumentType.SALES_CREDIT_NOTE],
    ):
        number = series.example()
        label = f"{series.get_document_type_display()} next number {number}"
        if series.document_type == DocumentType.SALES_INVOICE:
            found = client.call(client.api.get_invoices, invoice_numbers=[number]).invoices or []
        else:
            found = (
                client.call(
                    client.api.get_credit_notes, where=f'CreditNoteNumber=="{number}"'
                ).credit_notes
                or []
            )
        if found:
            items.append(
                CheckItem(
                    "Number series",
                    label,
                    False,
                    f"{number} already exists in Xero.",
                    "Raise the series' next number (Configuration > Number series) above "
                    "the highest number used in Xero.",
                )
            )
        else:
            items.append(CheckItem("Number series", label, True, "Not used in Xero yet."))
    return items


def _currencies(client: XeroClient, company_id: int) -> list[CheckItem]:
    organisation = (client.call(client.api.get_organisations).organisations or [None])[0]
    base = getattr(getattr(organisation, "base_currency", None), "value", None) or str(
        getattr(organisation, "base_currency", "")
    )
    company = client.company
    items = [
        CheckItem(
            "Currencies",
            f"Base currency {company.base_currency}",
            base == company.base_currency,
            f"Xero's base currency is {base}."
            if base != company.base_currency
            else "Same as Xero's.",
            ""
            if base == company.base_currency
            else "Link the Xero organisation whose base currency matches the company's.",
        )
    ]
    used = set(
        Partner.objects.filter(company_id=company_id, active=True).values_list(
            "currency", flat=True
        )
    )
    foreign = sorted(used - {company.base_currency})
    if foreign:
        try:
            enabled = {
                enum_value(c.code) for c in client.call(client.api.get_currencies).currencies or []
            }
        except XeroNotFound:
            enabled = set()
        for code in foreign:
            ok = code in enabled
            items.append(
                CheckItem(
                    "Currencies",
                    code,
                    ok,
                    "Enabled in Xero." if ok else f"{code} is not enabled in Xero.",
                    "" if ok else f"Add {code} in Xero (Settings > Currencies).",
                )
            )
    return items


def xero_setup_check_run(*, actor: Actor, now: dt.datetime | None = None) -> XeroSetupCheck:
    require(actor, Permission.CONFIGURE)
    now = now or timezone.now()
    company_id = actor.company.pk
    try:
        client = XeroClient(actor.company, interactive=True)
        items = _accounts(client, company_id)
        items += _tax_rates(client, company_id)
        tracking, _ = _tracking(client, company_id)
        items += tracking
        items += _number_series(client, company_id)
        items += _currencies(client, company_id)
    except LinkNotUsable as error:
        raise ApplicationError(error.message) from error
    except XeroError as error:
        raise ApplicationError(f"The setup check could not finish: {error.message}") from error
    ok = all(item.ok for item in items)
    failed = [f"{i.area}: {i.subject}" for i in items if not i.ok]
    with transaction.atomic():
        link = XeroConnection.objects.filter(company=actor.company).first()
        check, _ = XeroSetupCheck.objects.update_or_create(
            company=actor.company,
            defaults={
                "tenant_id": link.tenant_id if link else "",
                "connected_at": link.connected_at if link else None,
                "ran_at": now,
                "ran_by_label": actor.name,
                "ok": ok,
                "items": [asdict(item) for item in items],
            },
        )
        audit_record(
            actor=actor,
            company=actor.company,
            action="Xero setup check run",
            target="passed" if ok else "failed",
            # Only what failed, and nothing when all passed (the target says so).
            changes={"failed": failed} if failed else {},
        )
    return check


def xero_tracking_options_create(*, actor: Actor) -> list[str]:
    """Create in Xero the options the dimension rules can produce but Xero lacks."""
    require(actor, Permission.CONFIGURE)
    from xero_python.accounting import TrackingOption

    created: list[str] = []
    try:
        client = XeroClient(actor.company, interactive=True)
        _, missing = _tracking(client, actor.company.pk)
        categories = {
            c.name: c
            for c in client.call(client.api.get_tracking_categories).tracking_categories or []
        }
        for name, options in missing.items():
            category = categories[name]
            for option in options:
                client.call(
                    client.api.create_tracking_options,
                    category.tracking_category_id,
                    TrackingOption(name=option),
                )
                created.append(f"{name}: {option}")
    except LinkNotUsable as error:
        raise ApplicationError(error.message) from error
    except XeroError as error:
        raise ApplicationError(f"Creating tracking options failed: {error.message}") from error
    audit_record(
        actor=actor,
        company=actor.company,
        action="Xero tracking options created",
        changes={"options": created},
    )
    return created


def setup_check_current(*, link: XeroConnection) -> XeroSetupCheck | None:
    """The company's last setup check if it was run against this connection: the
    same organisation, authorised at the same time. A re-authorisation, another
    organisation or a lost link leaves no result on screen from before."""
    if not link.is_connected:
        return None
    return XeroSetupCheck.objects.filter(
        company_id=link.company_id, tenant_id=link.tenant_id, connected_at=link.connected_at
    ).first()


def setup_check_fixes(check: XeroSetupCheck | None) -> set[str]:
    """The fixes LedgerBridge can make for what failed: ``"tracking_options"`` when
    a dimension's values are missing as options of its Xero tracking category."""
    if check is None or check.ok:
        return set()
    fixes = set()
    for item in check.items:
        if not item["ok"] and item.get("fix"):
            fixes.add(item["fix"])
    return fixes
