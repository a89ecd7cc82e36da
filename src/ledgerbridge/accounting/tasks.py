"""Background jobs of the outbox (Huey). Jobs are nudges; the records are the truth."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .outbox import companies_with_due_work, sync_company_run


@db_task(retries=2, retry_delay=30)
def sync_company(company_id: int) -> None:
    # One run per company at a time (a lease, see leases.py): a nudge that finds
    # the company taken does nothing; the run holding it looks for new work
    # before it lets go, and the sweep catches anything left.
    report = sync_company_run(company_id=company_id)
    if report.more:
        sync_company(company_id)  # behind the jobs already queued
    elif report.retry_in is not None:
        sync_company.schedule((company_id,), delay=max(1.0, report.retry_in))


@db_periodic_task(crontab(minute="*"))
def sweep() -> None:
    """The safety net: wake every company with due work, in case a nudge was lost."""
    for company_id in companies_with_due_work():
        sync_company(company_id)


# Invoices Exports' job lives in its own module; imported here so the worker knows it.
from .export_tasks import build_export_batch  # noqa: E402, F401
from .golive_tasks import golive_match_task  # noqa: E402, F401
from .reconcile_tasks import reconcile  # noqa: E402, F401
