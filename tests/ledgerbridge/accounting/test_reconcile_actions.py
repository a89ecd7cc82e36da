"""What a person can do from a reconciliation row: post what was never posted, read a
document again, link a document typed in the package to ours; and what is refused.
Also the background job and the ``reconcile`` command."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledgerbridge.accounting.models import (
    AccountingSettings,
    PaymentState,
    PaymentStatus,
    ReconcileOutcome,
    ReconcileRunStatus,
    ReconciliationRow,
    StepStatus,
    SyncRecord,
    SyncStatus,
)
from ledgerbridge.accounting.reconcile import (
    ReconciliationError,
    reconciliation_act,
    reconciliation_start,
)
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.errors import PermissionDeniedError
from ledgerbridge.invoicing.models import Task, TaskStatus
from tests.ledgerbridge.factories import make_actor

from .conftest import final, post_all
from .test_reconcile import FROM, TO, later, posted, record, row_of, run

pytestmark = pytest.mark.django_db


def test_post_queues_a_missing_document_that_was_never_posted(books, manual):
    document = final(manual)
    row = row_of(run(manual, books), document)
    reconciliation_act(row, "post", actor=manual, now=later(130))
    assert record(document).status == SyncStatus.PENDING
    post_all(manual.company)
    assert books.numbers(manual.company) == [document.number]
    assert AuditEntry.objects.filter(action="reconciliation: document posted").exists()


def test_post_is_refused_for_a_document_posted_and_gone_from_the_package(books, admin):
    [document] = posted(admin)
    external_id = record(document).external_id
    books.void(admin.company, external_id, at=later())
    PaymentState.objects.create(
        record=record(document), company=admin.company, status=PaymentStatus.VOIDED
    )
    row = row_of(run(admin, books), document)
    assert row.outcome == ReconcileOutcome.MISSING
    with pytest.raises(ReconciliationError, match="twice"):
        reconciliation_act(row, "post", actor=admin, now=later(130))
    assert not books.calls_of("post")[1:]


def test_post_is_refused_for_a_row_that_is_not_missing(books, admin):
    [document] = posted(admin)
    row = row_of(run(admin, books), document)
    with pytest.raises(ReconciliationError, match="Only a document missing"):
        reconciliation_act(row, "post", actor=admin, now=later(130))


def test_an_unknown_action_is_refused(books, admin):
    [document] = posted(admin)
    row = row_of(run(admin, books), document)
    with pytest.raises(ReconciliationError, match="Unknown action"):
        reconciliation_act(row, "delete", actor=admin, now=later(130))


def test_a_viewer_may_not_act(books, admin):
    [document] = posted(admin)
    row = row_of(run(admin, books), document)
    with pytest.raises(PermissionDeniedError):
        reconciliation_act(
            row, "recheck", actor=make_actor(admin.company, Role.VIEWER), now=later(130)
        )


def test_recheck_reads_the_document_again_and_updates_the_row_and_counts(books, admin):
    [document] = posted(admin)
    the_run = run(admin, books)
    row = row_of(the_run, document)
    assert row.outcome == ReconcileOutcome.AGREES
    books.edit(admin.company, record(document).external_id, reference="edited", at=later(125))
    row = reconciliation_act(row, "recheck", actor=admin, now=later(130))
    assert row.outcome == ReconcileOutcome.DIFFERS
    assert row.theirs["line_count"] == "1"  # read in detail
    the_run.refresh_from_db()
    assert (the_run.counts["agrees"], the_run.counts["differs"]) == (0, 1)


def _typed_copy(actor, books, **overrides):
    document = final(actor)
    fields = {
        "type": document.type,
        "number": document.number,
        "partner_id": document.partner_id,
        "total": document.gross_total,
        "tax": document.tax_total,
        "date": document.issue_date,
    }
    held = books.enter(actor.company, **{**fields, **overrides})
    return document, held


def test_link_records_a_typed_copy_as_ours_without_posting_it(books, manual):
    document, held = _typed_copy(manual, books)
    row = row_of(run(manual, books), document)
    row = reconciliation_act(row, "link", actor=manual, now=later(130))
    linked = record(document)
    assert (linked.status, linked.external_id) == (SyncStatus.POSTED, held.external_id)
    assert linked.attachment_status == StepStatus.SKIPPED
    assert row.outcome == ReconcileOutcome.AGREES
    post_all(manual.company)
    assert not books.calls_of("post") and not books.calls_of("attach")
    task = Task.objects.get(document=document, type="post_to_xero")
    assert task.status == TaskStatus.DONE
    # The next run sees our posted document there.
    again = run(manual, books, minutes=140)
    assert row_of(again, document).outcome == ReconcileOutcome.AGREES


def test_link_is_refused_when_the_totals_differ(books, manual):
    document, _ = _typed_copy(manual, books, total=Decimal("1.00"))
    row = row_of(run(manual, books), document)
    assert row.outcome == ReconcileOutcome.ONLY_IN_PACKAGE
    with pytest.raises(ReconciliationError, match="number and total"):
        reconciliation_act(row, "link", actor=manual, now=later(130))
    assert not SyncRecord.objects.filter(document=document).exists()


def test_link_is_refused_for_a_row_with_nothing_of_ours(books, admin):
    [document] = posted(admin)
    held = books.enter(
        admin.company,
        type="sales_invoice",
        number="INV-2026-09999",
        partner_id=document.partner_id,
        total=Decimal("5"),
        date=FROM,
    )
    row = ReconciliationRow.objects.get(run=run(admin, books), external_id=held.external_id)
    with pytest.raises(ReconciliationError, match="matches one of ours"):
        reconciliation_act(row, "link", actor=admin, now=later(130))


# ------------------------------------------------------------------ the job and the command


def test_a_started_run_is_done_by_the_worker(books, admin, django_capture_on_commit_callbacks):
    posted(admin, 2)
    with django_capture_on_commit_callbacks(execute=True):
        the_run = reconciliation_start(actor=admin, date_from=FROM, date_to=TO, now=later())
    assert the_run.status == ReconcileRunStatus.RUNNING
    the_run.refresh_from_db()
    assert the_run.status == ReconcileRunStatus.DONE
    assert the_run.counts["agrees"] == 2
    assert the_run.requested_by_label == admin.name


def test_a_run_that_breaks_is_left_failed_not_running(books, admin, monkeypatch):
    from ledgerbridge.accounting import reconcile

    the_run = reconciliation_start(actor=admin, date_from=FROM, date_to=TO, now=later())

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(reconcile, "_read", broken)
    with pytest.raises(RuntimeError):
        reconcile.reconciliation_run_continue(run_id=the_run.pk, now=later())
    the_run.refresh_from_db()
    assert the_run.status == ReconcileRunStatus.FAILED
    assert "start it again" in the_run.error


def test_starting_needs_a_package_to_read(admin):
    AccountingSettings.objects.filter(company=admin.company).update(package="none")
    with pytest.raises(ReconciliationError, match="nothing to reconcile"):
        reconciliation_start(actor=admin, date_from=FROM, date_to=TO, now=later())


def test_a_period_that_ends_before_it_starts_is_refused(books, admin):
    with pytest.raises(ReconciliationError, match="ends before"):
        reconciliation_start(actor=admin, date_from=TO, date_to=FROM, now=later())


def test_the_command_prints_counts_cost_and_what_does_not_agree(books, admin):
    [document, edited] = posted(admin, 2)
    books.edit(admin.company, record(edited).external_id, reference="typed", at=later())
    out = StringIO()
    call_command(
        "reconcile",
        "--company",
        str(admin.company.pk),
        "--from",
        FROM.isoformat(),
        "--to",
        TO.isoformat(),
        stdout=out,
    )
    text = out.getvalue()
    assert "full reconciliation" in text
    assert "Agrees" in text and "Differs" in text
    assert "in 1 call," in text  # the page, with its lines
    assert f"Differs: {edited.number}" in text
    assert f"{document.number}" not in text.split("bytes", 1)[1]


def test_the_command_says_when_the_package_cannot_be_read(books, admin):
    books.try_later("documents_read", message="The package is not answering.")
    with pytest.raises(CommandError, match="not answering"):
        call_command(
            "reconcile",
            "--company",
            str(admin.company.pk),
            "--from",
            "2026-11-01",
            stdout=StringIO(),
        )
