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


def _dimensions(actor: Actor) -> None:
    unit = config.dimension_save(actor=actor, name="Business unit", position=1)
    domestic = config.dimension_value_save(
        actor=actor, dimension_id=unit.pk, code="DOM", name="Domestic"
    )
    international = config.dimension_value_save(
        actor=actor, dimension_id=unit.pk, code="INT", name="International"
    )
    config.dimension_value_save(actor=actor, dimension_id=unit.pk, code="WHS", name="Warehousing")
    config.dimension_rule_save(
        actor=actor,
        dimension_id=unit.pk,
        position=1,
        value_id=international.pk,
        conditions=[{"field": "partner.country", "op": "not_equals", "value": "GB"}],
    )
    config.dimension_rule_save(
        actor=actor,
        dimension_id=unit.pk,
        position=2,
        value_id=international.pk,
        conditions=[{"field": "document.trip_reference", "op": "starts_with", "value": "INT-"}],
    )
    config.dimension_save(
        actor=actor, pk=unit.pk, name=unit.name, position=1, default_value_id=domestic.pk
    )

    vehicle = config.dimension_save(actor=actor, name="Vehicle type", position=2)
    artic = config.dimension_value_save(
        actor=actor, dimension_id=vehicle.pk, code="ART", name="Articulated"
    )
    rigid = config.dimension_value_save(
        actor=actor, dimension_id=vehicle.pk, code="RIG", name="Rigid"
    )
    van = config.dimension_value_save(actor=actor, dimension_id=vehicle.pk, code="VAN", name="Van")
    config.dimension_rule_save(
        actor=actor,
        dimension_id=vehicle.pk,
        position=1,
        value_id=van.pk,
        conditions=[{"field": "line.description", "op": "contains", "value": "van"}],
    )
    config.dimension_rule_save(
        actor=actor,
        dimension_id=vehicle.pk,
        position=2,
        value_id=rigid.pk,
        conditions=[{"field": "line.description", "op": "contains", "value": "rigid"}],
    )
    config.dimension_save(
        actor=actor, pk=vehicle.pk, name=vehicle.name, position=2, default_value_id=artic.pk
    )
