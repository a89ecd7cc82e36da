"""Organisations, apps and users: creating them, and the demo data set.

The demo organisation imitates Xero's "Demo Company (UK)": GBP, UK VAT rates
with Xero's TaxType codes, and a chart of accounts whose revenue and direct
cost accounts suit a road-haulage company, so the TMS demo has somewhere to map
freight, fuel surcharge, subcontractor, fuel and toll lines.
"""

from __future__ import annotations

import secrets
import string
import uuid
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock
from .dates import ms_date, ms_timestamp
from .store import Json, Store

DEMO_TENANT_ID = "5a1c0d6e-8b3f-4e2a-9c7d-1f0e2b3a4c5d"
DEMO_ORG_NAME = "Demo Company (UK)"
DEMO_CLIENT_ID = "LEDGERBRIDGE-DEMO-CLIENT"
DEMO_CLIENT_SECRET = "sandbox-demo-secret"
DEMO_WEBHOOK_KEY = "sandbox-demo-webhook-key"
DEMO_WEBHOOK_URL = "http://127.0.0.1:8000/webhooks/xero"
DEMO_REDIRECT_URIS = (
    "http://127.0.0.1:8000/configuration/accounting/xero/callback",
    "http://localhost:8000/configuration/accounting/xero/callback",
)
DEMO_USER_EMAIL = "demo@xero.sandbox"
DEMO_USER_PASSWORD = "sandbox"

# (Code, Name, Type, TaxType, extra)
_UK_ACCOUNTS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("090", "Business Bank Account", "BANK", "NONE", {"BankAccountNumber": "20204012345678"}),
    ("091", "Business Savings Account", "BANK", "NONE", {"BankAccountNumber": "20204087654321"}),
    ("200", "Sales - Freight", "SALES", "OUTPUT2", {}),
    ("201", "Fuel surcharge income", "SALES", "OUTPUT2", {}),
    ("202", "Storage and handling income", "SALES", "OUTPUT2", {}),
    ("260", "Other Revenue", "REVENUE", "OUTPUT2", {}),
    ("270", "Interest Income", "OTHERINCOME", "EXEMPTOUTPUT", {}),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT2", {}),
    ("320", "Subcontractor costs", "DIRECTCOSTS", "INPUT2", {}),
    ("330", "Fuel", "DIRECTCOSTS", "INPUT2", {}),
    ("340", "Tolls", "DIRECTCOSTS", "EXEMPTINPUT", {}),
    ("400", "Advertising", "OVERHEADS", "INPUT2", {}),
    ("401", "Audit & Accountancy fees", "OVERHEADS", "INPUT2", {}),
    ("404", "Bank Fees", "OVERHEADS", "EXEMPTINPUT", {}),
    ("408", "Cleaning", "OVERHEADS", "INPUT2", {}),
    ("412", "Consulting", "OVERHEADS", "INPUT2", {}),
    ("416", "Depreciation", "DEPRECIATN", "NONE", {}),
    ("420", "Entertainment-100% business", "OVERHEADS", "INPUT2", {}),
    ("425", "Postage, Freight & Courier", "OVERHEADS", "INPUT2", {}),
    ("429", "General Expenses", "OVERHEADS", "INPUT2", {}),
    ("433", "Insurance", "OVERHEADS", "EXEMPTINPUT", {}),
    ("437", "Interest Paid", "OVERHEADS", "EXEMPTINPUT", {}),
    ("441", "Legal Expenses", "OVERHEADS", "INPUT2", {}),
    ("445", "Light, Power, Heating", "OVERHEADS", "RRINPUT", {}),
    ("449", "Motor Vehicle Expenses", "OVERHEADS", "INPUT2", {}),
    ("453", "Office Expenses", "OVERHEADS", "INPUT2", {}),
    ("461", "Printing & Stationery", "OVERHEADS", "INPUT2", {}),
    ("469", "Rent", "OVERHEADS", "EXEMPTINPUT", {}),
    ("473", "Repairs & Maintenance", "OVERHEADS", "INPUT2", {}),
    ("477", "Salaries", "OVERHEADS", "NONE", {}),
    ("485", "Subscriptions", "OVERHEADS", "INPUT2", {}),
    ("489", "Telephone & Internet", "OVERHEADS", "INPUT2", {}),
    ("493", "Travel - National", "OVERHEADS", "INPUT2", {}),
    ("494", "Travel - International", "OVERHEADS", "ZERORATEDINPUT", {}),
    ("610", "Accounts Receivable", "CURRENT", "NONE", {"SystemAccount": "DEBTORS"}),
    ("710", "Office Equipment", "FIXED", "INPUT2", {}),
    ("720", "Computer Equipment", "FIXED", "INPUT2", {}),
    ("740", "Heavy Goods Vehicles", "FIXED", "INPUT2", {}),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", {"SystemAccount": "CREDITORS"}),
    ("820", "VAT", "CURRLIAB", "NONE", {"SystemAccount": "GST"}),
    ("960", "Retained Earnings", "EQUITY", "NONE", {"SystemAccount": "RETAINEDEARNINGS"}),
    ("970", "Owner A Funds Introduced", "EQUITY", "NONE", {}),
)

# (TaxType, Name, rate, ReportTaxType, revenue, expenses)
_UK_TAX_RATES: tuple[tuple[str, str, str, str, bool, bool], ...] = (
    ("OUTPUT2", "20% (VAT on Income)", "20.0000", "OUTPUT", True, False),
    ("INPUT2", "20% (VAT on Expenses)", "20.0000", "INPUT", False, True),
    ("RROUTPUT", "5% (VAT on Income)", "5.0000", "OUTPUT", True, False),
    ("RRINPUT", "5% (VAT on Expenses)", "5.0000", "INPUT", False, True),
    ("ZERORATEDOUTPUT", "Zero Rated Income", "0.0000", "ZERORATEDOUTPUT", True, False),
    ("ZERORATEDINPUT", "Zero Rated Expenses", "0.0000", "ZERORATEDINPUT", False, True),
    ("EXEMPTOUTPUT", "Exempt Income", "0.0000", "EXEMPTOUTPUT", True, False),
    ("EXEMPTINPUT", "Exempt Expenses", "0.0000", "EXEMPTINPUT", False, True),
    ("NONE", "No VAT", "0.0000", "NONE", True, True),
    ("CAPEXINPUT2", "20% (VAT on Capital Purchases)", "20.0000", "CAPEXINPUT", False, True),
    ("ECZROUTPUT", "Zero Rated EC Goods Income", "0.0000", "ECOUTPUT", True, False),
    ("ECZROUTPUTSERVICES", "Zero Rated EC Services", "0.0000", "ECOUTPUTSERVICES", True, False),
    ("ECACQUISITIONS", "EC Acquisitions (20%)", "20.0000", "ECACQUISITIONS", False, True),
    ("REVERSECHARGES", "Reverse Charge Expenses (20%)", "20.0000", "REVERSECHARGES", False, True),
)

_DEMO_TRACKING: tuple[tuple[str, tuple[str, ...]], ...] = (
    # The TMS demo's dimensions, so its setup check passes against this org.
    ("Business unit", ("Domestic", "International", "Warehousing")),
    ("Vehicle type", ("Articulated", "Rigid", "Van")),
)

_CLASS_BY_TYPE = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "EQUITY": "EQUITY",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "DEPRECIATN": "EXPENSE",
}

ACCOUNT_TYPES = frozenset(_CLASS_BY_TYPE)


def new_id() -> str:
    return str(uuid.uuid4())


def account_doc(
    *, code: str, name: str, type_: str, tax_type: str, now: float, extra: Json | None = None
) -> Json:
    """An Account as Xero returns it."""
    doc: Json = {
        "AccountID": new_id(),
        "Code": code,
        "Name": name,
        "Status": "ACTIVE",
        "Type": type_,
        "TaxType": tax_type,
        "Class": _CLASS_BY_TYPE.get(type_, "EXPENSE"),
        "EnablePaymentsToAccount": False,
        "ShowInExpenseClaims": type_ in {"OVERHEADS", "EXPENSE", "DIRECTCOSTS"},
        "HasAttachments": False,
        "UpdatedDateUTC": ms_date(now),
        "AddToWatchlist": False,
    }
    if type_ == "BANK":
        doc.update({"BankAccountType": "BANK", "CurrencyCode": "GBP"})
    doc.update(extra or {})
    return doc


def tax_rate_doc(
    *, tax_type: str, name: str, rate: str, report: str, revenue: bool, expenses: bool
) -> Json:
    """A TaxRate as Xero returns it."""
    value = float(rate)
    return {
        "Name": name,
        "TaxType": tax_type,
        "ReportTaxType": report,
        "CanApplyToAssets": expenses,
        "CanApplyToEquity": expenses,
        "CanApplyToExpenses": expenses,
        "CanApplyToLiabilities": expenses,
        "CanApplyToRevenue": revenue,
        "DisplayTaxRate": value,
        "EffectiveRate": value,
        "Status": "ACTIVE",
        "TaxComponents": [
            {"Name": "VAT", "Rate": value, "IsCompound": False, "IsNonRecoverable": False}
        ],
    }


def tracking_category_doc(name: str, options: list[str] | tuple[str, ...]) -> Json:
    category_id = new_id()
    return {
        "TrackingCategoryID": category_id,
        "Name": name,
        "Status": "ACTIVE",
        "Options": [
            {
                "TrackingOptionID": new_id(),
                "Name": option,
                "Status": "ACTIVE",
                "TrackingCategoryID": category_id,
            }
            for option in options
        ],
    }


def _short_code() -> str:
    alphabet = string.ascii_letters + string.digits
    return "!" + "".join(secrets.choice(alphabet) for _ in range(5))


@dataclass
class OrgSpec:
    """What the control API (or the demo) asks for when creating an organisation."""

    name: str
    tenant_id: str | None = None
    short_code: str | None = None
    legal_name: str | None = None
    chart: str = "uk"  # "uk" seeds the demo chart, taxes and tracking; "empty" seeds nothing
    accounts: list[Json] = field(default_factory=list)
    tax_rates: list[Json] = field(default_factory=list)
    tracking_categories: list[Json] = field(default_factory=list)
    line_of_business: str = "Road haulage"
    currencies: tuple[str, ...] = ("GBP", "EUR", "USD")
    is_demo: bool = False


def create_org(store: Store, clock: Clock, spec: OrgSpec) -> Json:
    """Create an organisation with its chart of accounts, tax rates and tracking."""
    now = clock.now()
    tenant_id = spec.tenant_id or new_id()
    org: Json = {
        "OrganisationID": tenant_id,
        "Name": spec.name,
        "LegalName": spec.legal_name or spec.name,
        "PaysTax": True,
        "Version": "UK",
        "OrganisationType": "COMPANY",
        "BaseCurrency": "GBP",
        "CountryCode": "GB",
        "IsDemoCompany": spec.is_demo,
        "OrganisationStatus": "ACTIVE",
        "RegistrationNumber": "01234567",
        "TaxNumber": "GB123456789",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3,
        "SalesTaxBasis": "ACCRUALS",
        "SalesTaxPeriod": "QUARTERLY1",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": ms_timestamp(now),  # no +0000 here, as Xero writes it
        "OrganisationEntityType": "COMPANY",
        "Timezone": "GMTSTANDARDTIME",
        "ShortCode": spec.short_code or _short_code(),
        "Edition": "BUSINESS",
        "Class": "STANDARD",
        "LineOfBusiness": spec.line_of_business,
        # Xero returns an organisation's empty address fields as "" (and Phones as []).
        "Addresses": [
            {
                "AddressType": "STREET",
                "AddressLine1": "Unit 4",
                "AddressLine2": "Haulage Park",
                "City": "Birmingham",
                "Region": "",
                "PostalCode": "B1 1AA",
                "Country": "United Kingdom",
                "AttentionTo": "",
            }
        ],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
        # Currencies enabled in the organisation (GET /Currencies).
        "_currencies": list(spec.currencies),
    }
    with store.transaction():
        store.put_org(org)
        accounts = list(spec.accounts)
        tax_rates = list(spec.tax_rates)
        tracking = list(spec.tracking_categories)
        if spec.chart == "uk":
            if not accounts:
                accounts = [
                    {"Code": c, "Name": n, "Type": t, "TaxType": tx, **extra}
                    for c, n, t, tx, extra in _UK_ACCOUNTS
                ]
            if not tax_rates:
                tax_rates = [
                    {
                        "TaxType": tt,
                        "Name": n,
                        "Rate": r,
                        "ReportTaxType": rep,
                        "CanApplyToRevenue": rev,
                        "CanApplyToExpenses": exp,
                    }
                    for tt, n, r, rep, rev, exp in _UK_TAX_RATES
                ]
            if not tracking:
                tracking = [{"Name": n, "Options": list(o)} for n, o in _DEMO_TRACKING]
        for spec_account in accounts:
            extra = {
                k: v
                for k, v in spec_account.items()
                if k not in {"Code", "Name", "Type", "TaxType"}
            }
            doc = account_doc(
                code=str(spec_account["Code"]),
                name=str(spec_account["Name"]),
                type_=str(spec_account.get("Type", "EXPENSE")),
                tax_type=str(spec_account.get("TaxType", "NONE")),
                now=now,
                extra=extra,
            )
            store.put_doc(
                tenant_id, "account", doc["AccountID"], doc, number=doc["Code"], updated=now
            )
        for spec_rate in tax_rates:
            doc = tax_rate_doc(
                tax_type=str(spec_rate["TaxType"]),
                name=str(spec_rate["Name"]),
                rate=str(spec_rate.get("Rate", "0")),
                report=str(spec_rate.get("ReportTaxType", "NONE")),
                revenue=bool(spec_rate.get("CanApplyToRevenue", True)),
                expenses=bool(spec_rate.get("CanApplyToExpenses", True)),
            )
            store.put_doc(
                tenant_id, "taxrate", doc["TaxType"], doc, number=doc["TaxType"], updated=now
            )
        for spec_tracking in tracking:
            doc = tracking_category_doc(
                str(spec_tracking["Name"]), spec_tracking.get("Options", [])
            )
            store.put_doc(
                tenant_id,
                "tracking",
                doc["TrackingCategoryID"],
                doc,
                number=doc["Name"],
                updated=now,
            )
    return org


def register_app(
    store: Store,
    clock: Clock,
    *,
    client_id: str,
    client_secret: str | None,
    name: str = "LedgerBridge",
    redirect_uris: list[str] | tuple[str, ...] = (),
    webhook_url: str | None = None,
    webhook_key: str | None = None,
    legacy_scopes: bool = False,
) -> Json:
    """Register (or replace) an OAuth app. ``client_secret=None`` makes a PKCE-only app."""
    app: Json = {
        "client_id": client_id,
        "client_secret": client_secret,
        "name": name,
        "redirect_uris": list(redirect_uris),
        "webhook_url": webhook_url,
        "webhook_key": webhook_key,
        "webhook_status": "UNVERIFIED",
        "legacy_scopes": legacy_scopes,
        "created": clock.now(),
    }
    store.put_app(app)
    return app


def create_user(
    store: Store,
    *,
    email: str,
    password: str,
    first_name: str = "Demo",
    last_name: str = "User",
    tenant_ids: list[str] | tuple[str, ...] = (),
    user_id: str | None = None,
) -> Json:
    existing = store.get_user_by_email(email)
    user: Json = {
        "user_id": user_id or (existing["user_id"] if existing else new_id()),
        "email": email,
        "password": password,
        "first_name": first_name,
        "last_name": last_name,
    }
    store.put_user(user)
    for tenant_id in tenant_ids:
        store.add_membership(user["user_id"], tenant_id)
    return user


@dataclass
class DemoSettings:
    """The demo app, user and organisation the server starts with."""

    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = DEMO_REDIRECT_URIS
    webhook_url: str | None = DEMO_WEBHOOK_URL
    webhook_key: str = DEMO_WEBHOOK_KEY
    legacy_scopes: bool = False
    user_email: str = DEMO_USER_EMAIL
    user_password: str = DEMO_USER_PASSWORD
    tenant_id: str = DEMO_TENANT_ID
    org_name: str = DEMO_ORG_NAME


def seed_demo(store: Store, clock: Clock, demo: DemoSettings) -> Json:
    """The state the server comes up in: one app, one user, the demo organisation."""
    register_app(
        store,
        clock,
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        name="LedgerBridge (demo)",
        redirect_uris=demo.redirect_uris,
        webhook_url=demo.webhook_url,
        webhook_key=demo.webhook_key,
        legacy_scopes=demo.legacy_scopes,
    )
    org = create_org(
        store,
        clock,
        OrgSpec(
            name=demo.org_name,
            tenant_id=demo.tenant_id,
            short_code="!Demo1",
            legal_name="Demo Company (UK) Haulage Limited",
            is_demo=True,
        ),
    )
    create_user(
        store,
        email=demo.user_email,
        password=demo.user_password,
        first_name="Demo",
        last_name="User",
        tenant_ids=[demo.tenant_id],
    )
    return org
