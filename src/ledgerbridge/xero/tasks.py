"""Background jobs of the Xero adapter (Huey)."""

from __future__ import annotations

import structlog
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task
from huey.exceptions import TaskLockedException

from ledgerbridge.accounting.leases import leased
from ledgerbridge.companies.models import Company

from .connection import xero_links_keep_alive
from .errors import XeroError
from .models import XeroWebhookEvent
from .polling import companies_due_for_poll, xero_payments_poll
from .webhooks import xero_webhook_events_process, xero_webhook_events_prune

DEFERRED_RETRY_SECONDS = 5.0

log = structlog.get_logger(__name__)


@db_periodic_task(crontab(minute="17", hour="3"))
def keep_xero_links_alive() -> None:
    xero_links_keep_alive()


# A nudge that finds another run holding the lock fails and retries soon: its
# events may have arrived just after that run's last look.
@db_task(retries=5, retry_delay=1)
def process_xero_webhooks() -> None:
    """Read the documents named by stored webhook events (one run at a time)."""
    # A nudge arriving while a run is busy finds the lock taken; the running
    # one loops until no event is left, so nothing waits for the next poll.
    with leased("xero-webhooks") as lease:
        if lease is None:
            raise TaskLockedException("Another worker is reading webhook events.")
        while (report := xero_webhook_events_process(now=timezone.now())).events:
            lease.renew()
    if report.deferred:
        # Events for documents still being posted: look again once they are.
        process_xero_webhooks.schedule(delay=DEFERRED_RETRY_SECONDS)


@db_periodic_task(crontab(minute="43", hour="3"))
def prune_xero_webhook_events() -> None:
    xero_webhook_events_prune(now=timezone.now())


@db_periodic_task(crontab(minute="*"))
def process_xero_webhooks_left() -> None:
    """The safety net for a lost nudge: any event still unprocessed gets a run."""
    if XeroWebhookEvent.objects.filter(processed_at__isnull=True).exists():
        process_xero_webhooks()


@db_task(retries=2, retry_delay=30)
def poll_xero_payments(company_id: int, interactive: bool = False) -> None:
    """``interactive``: a person asked for it (Check payments now) and is waiting."""
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return
    with leased(f"xero-poll-{company_id}") as lease:
        if lease is None:  # another worker is polling this company now
            return
        try:
            xero_payments_poll(company=company, now=timezone.now(), interactive=interactive)
        except XeroError as error:
            # Expected weather (the rate limit, Xero down, a link to renew): the poll
            # kept the reason as its last error for the page, and the company stays
            # due, so the next minute's round asks again. Nothing to retry here.
            log.warning(
                "xero.poll_deferred",
                company_id=company_id,
                error=type(error).__name__,
                reason=error.message,
            )


@db_periodic_task(crontab(minute="*"))
def poll_xero_payments_due() -> None:
    """Every minute, poll the companies whose polling interval has passed."""
    for company_id in companies_due_for_poll(now=timezone.now()):
        poll_xero_payments(company_id)
