"""How our codes become Xero's: tax rate code → TaxType, dimension → tracking category.

A company maps explicitly where codes differ; otherwise the defaults below
(for the starter UK VAT codes) or the code itself are used.
"""

from __future__ import annotations

from ledgerbridge.companies.models import Company
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
    if mapping is not None:
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


def tracking_category_for(dimension: Dimension) -> str:
    mapping = XeroTrackingMapping.objects.filter(dimension=dimension).first()
    return mapping.category_name if mapping is not None else dimension.name
