"""What management commands take from their arguments."""

from __future__ import annotations

from django.core.management.base import CommandError

from ledgerbridge.companies.models import Company


def company_argument(value: str) -> Company:
    """``--company``: a company's id, or its exact legal name."""
    company = (
        Company.objects.filter(pk=int(value)).first()
        if value.isdigit()
        else Company.objects.filter(legal_name=value).first()
    )
    if company is None:
        raise CommandError(f"No company {value!r}.")
    return company
