"""The background job of reconciliation (Huey); ``tasks`` imports it for the worker."""

from __future__ import annotations

from django.utils import timezone
from huey.contrib.djhuey import db_task

from .reconcile import reconciliation_run_continue


@db_task()
def reconcile(run_id: int, attempt: int = 1) -> None:
    """Do a reconciliation a person started; the run row holds its state and outcome
    (``attempt``: the package made it wait ``attempt - 1`` times; it goes on here)."""
    reconciliation_run_continue(run_id=run_id, now=timezone.now(), attempt=attempt)
