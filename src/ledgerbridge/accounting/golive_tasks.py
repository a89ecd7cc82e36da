"""Going live's background job: matching what the package holds (``golive.py``)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from ledgerbridge.companies.models import Company

from .golive import golive_match


@db_task(retries=3, retry_delay=60)
def golive_match_task(company_id: int) -> None:
    # A passing problem reading the package raises and is retried; posting stays
    # held meanwhile, and the page says why.
    company = Company.objects.filter(pk=company_id).first()
    if company is not None:
        golive_match(company=company)
