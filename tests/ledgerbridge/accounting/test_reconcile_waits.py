"""A run in the background that the package asks to wait (its per-minute limit, used
by a backlog's posting first) stays running, says until when, and goes on by itself
after the wait; only the daily allowance, a broken link or too many waits end it
failed, in words saying what to do. Nothing is counted twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ledgerbridge.accounting import reconcile
from ledgerbridge.accounting.models import ReconcileRunStatus, ReconciliationRow, ReconciliationRun
from ledgerbridge.accounting.reconcile import WAITS, reconciliation_run_continue

from .test_reconcile import FROM, TO, later, posted, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    """What the run asked the queue for: (run id, attempt, delay)."""
    calls: list[tuple[int, int, dt.timedelta | None]] = []
    monkeypatch.setattr(
        reconcile,
        "_enqueue",
        lambda run_id, *, attempt=1, delay=None: calls.append((run_id, attempt, delay)),
    )
    return calls


def started(actor) -> ReconciliationRun:
    return ReconciliationRun.objects.create(
        company=actor.company, period_from=FROM, period_to=TO, started_at=later(100)
    )


def go_on(the_run, attempt, django_capture_on_commit_callbacks, minutes=120):
    with django_capture_on_commit_callbacks(execute=True):
        reconciliation_run_continue(run_id=the_run.pk, now=later(minutes), attempt=attempt)
    the_run.refresh_from_db()
    return the_run


def test_the_per_minute_limit_keeps_the_run_running_and_it_goes_on_after_the_wait(
    books, admin, enqueued, django_capture_on_commit_callbacks
):
    posted(admin, 2)
    books.try_later("documents_read", retry_after=32, message="it goes on in 32 s")
    the_run = go_on(started(admin), 1, django_capture_on_commit_callbacks)
    assert the_run.status == ReconcileRunStatus.RUNNING
    at = timezone.localtime(later(120) + dt.timedelta(seconds=32))
    assert the_run.error == f"Waiting for Xero's per-minute limit: goes on at {at:%H:%M}."
    assert enqueued == [(the_run.pk, 2, dt.timedelta(seconds=32))]
    the_run = go_on(the_run, 2, django_capture_on_commit_callbacks, minutes=121)
    assert the_run.status == ReconcileRunStatus.DONE
    assert the_run.error == ""
    assert ReconciliationRow.objects.filter(run=the_run).count() == 2
    assert the_run.counts["agrees"] == 2


def test_the_calls_of_a_wait_are_counted_once_and_the_rows_stored_once(
    books, admin, enqueued, django_capture_on_commit_callbacks
):
    _kept, gone = posted(admin, 2)
    books.forget(admin.company, record(gone).external_id)  # read again in detail
    books.try_later("documents_detail", retry_after=10)
    the_run = go_on(started(admin), 1, django_capture_on_commit_callbacks)
    waited = the_run.calls
    assert the_run.status == ReconcileRunStatus.RUNNING and waited >= 1
    the_run = go_on(the_run, 2, django_capture_on_commit_callbacks, minutes=121)
    assert the_run.status == ReconcileRunStatus.DONE
    assert the_run.calls == 2 * waited + 1  # the read again, and the detail this time
    assert ReconciliationRow.objects.filter(run=the_run).count() == 2
    # A late second delivery of the same attempt changes nothing.
    go_on(the_run, 2, django_capture_on_commit_callbacks, minutes=122)
    assert ReconciliationRow.objects.filter(run=the_run).count() == 2


def test_a_run_waits_a_bounded_number_of_times_then_fails_in_words(
    books, admin, enqueued, django_capture_on_commit_callbacks
):
    posted(admin)
    books.try_later("documents_read", retry_after=32)
    the_run = go_on(started(admin), WAITS + 1, django_capture_on_commit_callbacks)
    assert the_run.status == ReconcileRunStatus.FAILED
    assert f"asked the reconciliation to wait {WAITS} times" in the_run.error
    assert "start it again" in the_run.error
    assert enqueued == []


def test_the_daily_allowance_ends_the_run_failed_at_once(
    books, admin, enqueued, django_capture_on_commit_callbacks
):
    posted(admin)
    books.pause(later(600))
    the_run = go_on(started(admin), 1, django_capture_on_commit_callbacks)
    assert the_run.status == ReconcileRunStatus.FAILED
    assert enqueued == []


def test_a_broken_link_ends_the_run_failed_at_once(
    books, admin, enqueued, django_capture_on_commit_callbacks
):
    posted(admin)
    books.unlink("Xero's link has expired: connect the company again.")
    the_run = go_on(started(admin), 1, django_capture_on_commit_callbacks)
    assert the_run.status == ReconcileRunStatus.FAILED
    assert the_run.error == "Xero's link has expired: connect the company again."
    assert enqueued == []


def test_the_queue_is_asked_to_go_on_after_the_wait(admin):
    from huey.contrib.djhuey import HUEY

    the_run = started(admin)
    before = len(HUEY.scheduled())
    reconcile._enqueue(the_run.pk, attempt=2, delay=dt.timedelta(seconds=32))
    scheduled = HUEY.scheduled()
    assert len(scheduled) == before + 1
    task = scheduled[-1]
    assert (task.args, task.kwargs) == ((the_run.pk,), {"attempt": 2})
    HUEY.storage.flush_schedule()
