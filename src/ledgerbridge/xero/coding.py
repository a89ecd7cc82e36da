"""How our codes become Xero's, and the Super Admin's services that set them.

Tax rate code → Xero TaxType (for the API), tax rate → Xero's tax rate name (for
import files), dimension → tracking category. A company maps explicitly where
they differ; otherwise the defaults below (for the starter UK VAT codes) or the
code itself are used.
"""

from __future__ import annotations

from django.db import transaction

from ledgerbridge.companies.models import Company
from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import ApplicationError, NotFoundError
from ledgerbridge.invoicing.models import Dimension, TaxRate

from .models import XeroTaxMapping, XeroTrackingMapping

# Our starter UK VAT codes → Xero UK TaxTypes.
DEFAULT_TAX_TYPES = {
    "S20": "OUTPUT2",
    "Z0S": "ZERORATEDOUTPUT",
    "EXS": "EXEMPTOUTPUT",
    "S20P": "INPUT2",
    "R5P": "RRINPUT",
    "Z0P": "ZERORATEDINPUT",
    "EXP": "EXEMPTINPUT",
    "NOVAT": "NONE",
}


def tax_type_for(tax_rate: TaxRate) -> str:
    mapping = XeroTaxMapping.objects.filter(tax_rate=tax_rate).first()
    if mapping is not None and mapping.tax_type:
        return mapping.tax_type
    return DEFAULT_TAX_TYPES.get(tax_rate.code, tax_rate.code)


def tax_types_for_company(company: Company) -> dict[str, str]:
    """Our tax code → Xero TaxType, for every tax rate of the company."""
    explicit = {
        m.tax_rate.code: m.tax_type
        for m in XeroTaxMapping.objects.filter(tax_rate__company=company).select_related("tax_rate")
    }
    return {
        rate.code: explicit.get(rate.code) or DEFAULT_TAX_TYPES.get(rate.code, rate.code)
        for rate in TaxRate.objects.filter(company=company)
    }


# Xero's display names of its standard UK tax rates, by TaxType: what the
# importer's *TaxType column wants when a company has not named the rate itself.
DEFAULT_TAX_NAMES = {
    "OUTPUT2": "20% (VAT on Income)",
    "INPUT2": "20% (VAT on Expenses)",
    "RROUTPUT": "5% (VAT on Income)",
    "RRINPUT": "5% (VAT on Expenses)",
    "ZERORATEDOUTPUT": "Zero Rated Income",
    "ZERORATEDINPUT": "Zero Rated Expenses",
    "EXEMPTOUTPUT": "Exempt Income",
    "EXEMPTINPUT": "Exempt Expenses",
    "NONE": "No VAT",
    "CAPEXINPUT2": "20% (VAT on Capital Purchases)",
    "ECZROUTPUT": "Zero Rated EC Goods Income",
    "ECZROUTPUTSERVICES": "Zero Rated EC Services",
    "ECACQUISITIONS": "EC Acquisitions (20%)",
    "REVERSECHARGES": "Reverse Charge Expenses (20%)",
}


def explicit_tax_names(company: Company) -> dict[int, str]:
    """Tax rate id → the name the company gave it for Xero's import files (named ones only)."""
    return {
        m.tax_rate_id: m.tax_name
        for m in XeroTaxMapping.objects.filter(tax_rate__company=company).exclude(tax_name="")
    }


def tax_names_for_company(company: Company) -> dict[int, str]:
    """Tax rate id → the name Xero's importer knows it by ('' when unknown)."""
    types = tax_types_for_company(company)
    named = explicit_tax_names(company)
    return {
        rate_id: named.get(rate_id) or DEFAULT_TAX_NAMES.get(types.get(code, ""), "")
        for rate_id, code in TaxRate.objects.filter(company=company).values_list("id", "code")
    }


def tracking_category_for(dimension: Dimension) -> str:
    mapping = XeroTrackingMapping.objects.filter(dimension=dimension).first()
    return mapping.category_name if mapping is not None else dimension.name


def xero_tax_name_set(*, actor: Actor, tax_rate_id: int, tax_name: str) -> None:
    """The name Xero's import files use for this tax rate; blank means Xero's standard name."""
    require(actor, Permission.CONFIGURE)
    tax_rate = TaxRate.objects.filter(company=actor.company, pk=tax_rate_id).first()
    if tax_rate is None:
        raise NotFoundError("No such tax rate.")
    tax_name = tax_name.strip()[:100]
    with transaction.atomic():
        mapping = XeroTaxMapping.objects.filter(tax_rate=tax_rate).first()
        old = mapping.tax_name if mapping else ""
        if old == tax_name:
            return
        XeroTaxMapping.objects.update_or_create(tax_rate=tax_rate, defaults={"tax_name": tax_name})
        XeroTaxMapping.objects.filter(tax_rate=tax_rate, tax_type="", tax_name="").delete()
        audit_record(
            actor=actor,
            company=actor.company,
            action="Xero tax name changed",
            target=tax_rate.code,
            changes={"tax_name": [old, tax_name]},
        )


def xero_tax_mapping_set(*, actor: Actor, tax_rate_id: int, tax_type: str) -> None:
    """Map our tax code to a Xero TaxType; blank returns it to the default."""
    require(actor, Permission.CONFIGURE)
    tax_rate = TaxRate.objects.filter(company=actor.company, pk=tax_rate_id).first()
    if tax_rate is None:
        raise NotFoundError("No such tax rate.")
    tax_type = tax_type.strip().upper()
    if tax_type and not tax_type.replace("_", "").isalnum():
        raise ApplicationError(
            "A Xero TaxType is letters and digits, e.g. OUTPUT2.", field="tax_type"
        )
    old = tax_type_for(tax_rate)
    with transaction.atomic():
        XeroTaxMapping.objects.update_or_create(tax_rate=tax_rate, defaults={"tax_type": tax_type})
        # A row with nothing in it is the same as no mapping.
        XeroTaxMapping.objects.filter(tax_rate=tax_rate, tax_type="", tax_name="").delete()
        new = tax_type_for(tax_rate)
        if new != old:
            audit_record(
                actor=actor,
                company=actor.company,
                action="Xero tax mapping changed",
                target=tax_rate.code,
                changes={"tax_type": [old, new]},
            )


def xero_tracking_mapping_set(*, actor: Actor, dimension_id: int, category_name: str) -> None:
    """Map a dimension to a Xero tracking category; blank means "same name"."""
    require(actor, Permission.CONFIGURE)
    dimension = Dimension.objects.filter(company=actor.company, pk=dimension_id).first()
    if dimension is None:
        raise NotFoundError("No such dimension.")
    category_name = category_name.strip()
    old = tracking_category_for(dimension)
    with transaction.atomic():
        if category_name and category_name != dimension.name:
            XeroTrackingMapping.objects.update_or_create(
                dimension=dimension, defaults={"category_name": category_name[:100]}
            )
        else:
            XeroTrackingMapping.objects.filter(dimension=dimension).delete()
        new = tracking_category_for(dimension)
        if new != old:
            audit_record(
                actor=actor,
                company=actor.company,
                action="Xero tracking mapping changed",
                target=dimension.name,
                changes={"category": [old, new]},
            )
