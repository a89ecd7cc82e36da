"""A starter configuration for a UK road-haulage company.

Used by the demo and offered to new companies: UK VAT codes, haulage nominal
codes, default number series and two dimensions with rules.
"""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.companies.permissions import Actor

from . import configuration as config
from .models import AccountType, Dimension, NominalCode, TaxRate
from .numbering import number_series_ensure

# Codes follow the numbering of Xero's UK chart of accounts, so the same codes
# can be used on both sides.
NOMINAL_CODES = [
    ("200", "Sales - Freight", AccountType.REVENUE),
    ("201", "Fuel surcharge income", AccountType.REVENUE),
    ("202", "Storage and handling income", AccountType.REVENUE),
    ("260", "Other Revenue", AccountType.REVENUE),
    ("320", "Subcontractor costs", AccountType.EXPENSE),
    ("330", "Fuel", AccountType.EXPENSE),
    ("340", "Tolls", AccountType.EXPENSE),
    ("473", "Repairs & Maintenance", AccountType.EXPENSE),
]

# (code, name, rate, sales, purchases)
TAX_RATES = [
    ("S20", "Standard rate sales", Decimal("20"), True, False),
    ("Z0S", "Zero rated sales (exports)", Decimal("0"), True, False),
    ("EXS", "Exempt sales", Decimal("0"), True, False),
    ("S20P", "Standard rate purchases", Decimal("20"), False, True),
    ("R5P", "Reduced rate purchases", Decimal("5"), False, True),
    ("Z0P", "Zero rated purchases", Decimal("0"), False, True),
    ("EXP", "Exempt purchases", Decimal("0"), False, True),
    ("NOVAT", "Outside the scope of VAT", Decimal("0"), True, True),
]

# Charge type -> (sales nominal code, purchase nominal code): what the demo and
# the line form suggest first.
DEFAULT_CODING = {
    "freight": ("200", "320"),
    "fuel_surcharge": ("201", "330"),
    "waiting_time": ("200", "320"),
    "tolls": ("260", "340"),
    "subcontracting": ("200", "320"),
    "fuel": ("201", "330"),
    "other": ("260", "473"),
}


def starter_configuration_load(*, actor: Actor) -> None:
    """Create what is missing; existing codes are left as they are."""
    company = actor.company
    existing_codes = set(NominalCode.objects.filter(company=company).values_list("code", flat=True))
    for code, name, type_ in NOMINAL_CODES:
        if code not in existing_codes:
            config.nominal_code_save(actor=actor, code=code, name=name, type=type_)
    existing_taxes = set(TaxRate.objects.filter(company=company).values_list("code", flat=True))
    for code, name, rate, sales, purchases in TAX_RATES:
        if code not in existing_taxes:
            config.tax_rate_save(
                actor=actor,
                code=code,
                name=name,
                rate=rate,
                applies_to_sales=sales,
                applies_to_purchases=purchases,
            )
    number_series_ensure(company=company)
    if not Dimension.objects.filter(company=company).exists():
        _dimensions(actor)


# name -> (values (code, name), default code, rules (value code, field, op, value))
DIMENSIONS = {
    "Business unit": (
        [("DOM", "Domestic"), ("INT", "International"), ("WHS", "Warehousing")],
        "DOM",
        [
            ("INT", "partner.country", "not_equals", "GB"),
            ("INT", "document.trip_reference", "starts_with", "INT-"),
        ],
    ),
    "Vehicle type": (
        [("ART", "Articulated"), ("RIG", "Rigid"), ("VAN", "Van")],
        "ART",
        [
            ("VAN", "line.description", "contains", "van"),
            ("RIG", "line.description", "contains", "rigid"),
        ],
    ),
}


def _dimensions(actor: Actor) -> None:
    for position, (name, (values, default, rules)) in enumerate(DIMENSIONS.items(), start=1):
        dimension = config.dimension_save(actor=actor, name=name, position=position)
        by_code = {
            code: config.dimension_value_save(
                actor=actor, dimension_id=dimension.pk, code=code, name=value_name
            )
            for code, value_name in values
        }
        for rule_position, (code, field, op, value) in enumerate(rules, start=1):
            config.dimension_rule_save(
                actor=actor,
                dimension_id=dimension.pk,
                position=rule_position,
                value_id=by_code[code].pk,
                conditions=[{"field": field, "op": op, "value": value}],
            )
        config.dimension_save(
            actor=actor,
            pk=dimension.pk,
            name=name,
            position=position,
            default_value_id=by_code[default].pk,
        )
