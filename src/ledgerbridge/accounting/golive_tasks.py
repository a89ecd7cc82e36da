"""Going live's background job: matching what the package holds (``golive.py``)."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ledgerbridge.companies.models import Company

from .golive import golive_match, golive_stuck


@db_task(retries=3, retry_delay=60)
def golive_match_task(company_id: int) -> None:
    # A passing problem reading the package raises and is retried; posting stays
    # held meanwhile, and the page says why.
    company = Company.objects.filter(pk=company_id).first()
    if company is not None:
        golive_match(company=company)


@db_periodic_task(crontab(minute="*/5"))
def golive_sweep() -> None:
    """The safety net: a matching whose job was lost (the queue is only a nudge) or
    whose reading failed is asked for again."""
    for company_id in golive_stuck(now=timezone.now()):
        golive_match_task(company_id)
