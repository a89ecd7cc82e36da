"""Going live's background job: matching what the package holds (``golive.py``)."""

from __future__ import annotations

import structlog
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ledgerbridge.companies.models import Company

from .connector import TryLater
from .golive import golive_match, golive_stuck

log = structlog.get_logger(__name__)


# How often matching waits for the package before the sweep takes over.
MAX_WAITS = 10


@db_task(retries=3, retry_delay=60)
def golive_match_task(company_id: int, attempt: int = 1) -> None:
    """Match what the package holds. The package asking to wait (its minute used by
    the link's own calls, say) schedules the next attempt for when it has room,
    since posting is held until matching is done; other passing problems raise and
    are retried. The page says why meanwhile."""
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return
    try:
        golive_match(company=company)
    except TryLater as error:
        if attempt >= MAX_WAITS:
            raise
        wait = min(300.0, max(1.0, error.retry_after or 30.0))
        log.info("golive.match_waits", company_id=company_id, seconds=wait, attempt=attempt)
        golive_match_task.schedule((company_id,), {"attempt": attempt + 1}, delay=wait)


@db_periodic_task(crontab(minute="*/5"))
def golive_sweep() -> None:
    """The safety net: a matching whose job was lost (the queue is only a nudge) or
    whose reading failed is asked for again."""
    for company_id in golive_stuck(now=timezone.now()):
        golive_match_task(company_id)
