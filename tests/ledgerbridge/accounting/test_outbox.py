"""The outbox's state machine, against the fake package: claiming, batches, retries and
backoff, unknown outcomes settled by lookup, pauses, refusals, exactly once.

What only Xero can show (its HTTP, OAuth, its own refusals and limits) is tested
against the sandbox in ``tests/ledgerbridge/xero/``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ledgerbridge.accounting.connector import Problem, connector_for
from ledgerbridge.accounting.models import (
    AccountingSettings,
    StepStatus,
    SyncRecord,
    SyncStatus,
    WaitReason,
)
from ledgerbridge.accounting.outbox import (
    MAX_TRANSIENT_ATTEMPTS,
    sync_company_run,
    sync_record_retry,
    sync_records_resume,
)
from ledgerbridge.invoicing.models import Task, TaskStatus
from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise
from ledgerbridge.invoicing.workflow import task_complete
from tests.ledgerbridge.factories import line, make_document, store_stand_in_pdf
from tests.ledgerbridge.figures.conftest import store_raw

from .conftest import final, post_all, queue

pytestmark = pytest.mark.django_db


def _task(document) -> Task:
    return Task.objects.get(document=document, type="post_to_xero")


def _statuses(company) -> set[str]:
    return set(SyncRecord.objects.filter(company=company).values_list("status", flat=True))


# ------------------------------------------------------------------ requesting and claiming


def test_a_final_document_is_posted_attached_and_its_task_done(
    package, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(admin, finalise=True)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED, record.message
    assert record.attachment_status == StepStatus.DONE
    [held] = package.holds(admin.company)
    assert (held.external_id, held.number) == (record.external_id, document.number)
    assert held.attachments == [f"{document.number}.pdf"]
    task = _task(document)
    assert task.status == TaskStatus.DONE and "Posted to Xero" in task.message


def test_manual_mode_leaves_the_task_open_until_a_user_completes_it(package, manual):
    document = final(manual)
    task = _task(document)
    assert task.status == TaskStatus.OPEN
    assert not SyncRecord.objects.filter(document=document).exists()
    task_complete(actor=manual, task_id=task.pk)
    post_all(manual.company)
    assert SyncRecord.objects.get(document=document).status == SyncStatus.POSTED


def test_the_task_is_in_progress_until_the_document_is_in_the_package(package, manual):
    document = final(manual)
    task = task_complete(actor=manual, task_id=_task(document).pk)
    assert task.status == TaskStatus.IN_PROGRESS and task.message == "Queued for Xero."
    assert SyncRecord.objects.get(document=document).status == SyncStatus.PENDING
    post_all(manual.company, runs=1)
    task = _task(document)
    assert task.status == TaskStatus.DONE
    assert task.message.startswith("Posted to Xero as ")


def test_documents_go_in_batches_of_the_packages_size(package, manual):
    package.batch_size = 3
    documents = queue(manual, 7)
    post_all(manual.company, runs=1)
    assert [len(c.record_ids) for c in package.calls_of("post")] == [3, 3, 1]
    assert package.numbers(manual.company) == sorted(d.number for d in documents)


def test_a_run_posts_only_its_own_company(package, manual):
    from tests.ledgerbridge.factories import make_actor, make_company

    other_company = make_company("Other Haulage Ltd")
    AccountingSettings.objects.create(
        company=other_company, package="xero_api", auto_post_sales_invoice=False
    )
    other = make_actor(other_company, "super_admin")
    [mine], [theirs] = queue(manual, 1), queue(other, 1)
    post_all(manual.company, runs=1)
    assert package.numbers(manual.company) == [mine.number]
    assert SyncRecord.objects.get(document=theirs).status == SyncStatus.PENDING


def test_a_retried_document_goes_first_in_a_request_of_its_own(package, manual):
    [refused] = queue(manual, 1)
    package.refuse(refused.number)
    post_all(manual.company, runs=1)
    package.accept(refused.number)
    more = queue(manual, 2)  # the backlog, queued before the retry
    package.calls.clear()

    sync_record_retry(actor=manual, document_id=refused.pk)
    record = SyncRecord.objects.get(document=refused)
    assert record.wanted_at is not None
    sync_company_run(company_id=manual.company.pk, now=timezone.now())

    first, second = package.calls_of("post")
    assert (first.record_ids, first.interactive) == ((record.pk,), True)
    assert second.interactive is False
    assert set(second.record_ids) == set(
        SyncRecord.objects.filter(document__in=more).values_list("pk", flat=True)
    )
    record.refresh_from_db()
    assert record.status == SyncStatus.POSTED and record.wanted_at is None
    assert _statuses(manual.company) == {SyncStatus.POSTED}


# ------------------------------------------------------------------ refusals


def test_one_refused_document_in_a_batch_fails_alone_and_posts_after_the_fix(package, manual):
    documents = queue(manual, 4)
    [bad] = queue(manual, 1)
    package.refuse(
        bad.number, Problem(kind="lock_date", detail="The period is locked up to 30 Jun 2026.")
    )
    post_all(manual.company, runs=1)
    records = {r.document_id: r for r in SyncRecord.objects.filter(company=manual.company)}
    assert sum(r.status == SyncStatus.POSTED for r in records.values()) == 4
    assert records[bad.pk].status == SyncStatus.FAILED
    assert "locked" in records[bad.pk].message
    assert records[bad.pk].problems[0]["kind"] == "lock_date"
    task = _task(bad)
    assert task.status == TaskStatus.FAILED and "Xero refused it" in task.message

    package.accept(bad.number)
    sync_record_retry(actor=manual, document_id=bad.pk)
    assert _task(bad).status == TaskStatus.IN_PROGRESS
    assert SyncRecord.objects.get(document=bad).problems == []
    post_all(manual.company, runs=1)
    assert SyncRecord.objects.get(document=bad).status == SyncStatus.POSTED
    assert _task(bad).status == TaskStatus.DONE
    assert package.numbers(manual.company) == sorted(d.number for d in [*documents, bad])


def test_a_document_with_a_figure_out_of_range_fails_unsent_and_the_others_post(package, manual):
    good, bad = queue(manual, 2)
    store_raw(bad.lines.first(), "discount_percent", "150")
    post_all(manual.company, runs=2)

    record = SyncRecord.objects.get(document=bad)
    assert record.status == SyncStatus.FAILED
    assert "Line 1: discount 150 must be between 0 and 100" in record.message
    task = _task(bad)
    assert task.status == TaskStatus.FAILED
    assert task.message.startswith("Not sent to Xero.")
    assert SyncRecord.objects.get(document=good).status == SyncStatus.POSTED
    assert package.numbers(manual.company) == [good.number]
    assert all(record.pk not in call.record_ids for call in package.calls)


# ------------------------------------------------------------------ passing failures


def test_a_lost_answer_is_settled_by_lookup_and_posts_exactly_once(package, manual):
    documents = queue(manual, 3)
    package.lose_answer("post")
    post_all(manual.company, runs=3)
    assert _statuses(manual.company) == {SyncStatus.POSTED}
    assert package.numbers(manual.company) == sorted(d.number for d in documents)
    assert len(package.calls_of("post")) == 1  # the lookup found them: not sent again
    assert len(package.calls_of("find")) == 1


def test_a_lost_answer_keeps_the_request_key_and_waits(package, manual):
    [document] = queue(manual, 1)
    package.lose_answer("post")
    post_all(manual.company, runs=1)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.PENDING
    assert record.request_key  # evidence that the outcome must be settled by lookup
    assert record.waiting_for == WaitReason.UNAVAILABLE
    assert record.next_attempt_at > timezone.now()
    assert record.message == "Will try again: The answer was lost."


def test_a_failure_before_sending_drops_the_key_and_sends_again(package, manual):
    [document] = queue(manual, 1)
    package.try_later("post", maybe_sent=False)
    post_all(manual.company, runs=1)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.PENDING and record.request_key == ""
    post_all(manual.company, runs=1)
    assert SyncRecord.objects.get(document=document).status == SyncStatus.POSTED
    assert not package.calls_of("find")  # nothing to settle
    assert len(package.calls_of("post")) == 2


def test_server_errors_then_success_post_exactly_once(package, manual):
    documents = queue(manual, 2)
    package.try_later("post", times=2, maybe_sent=True, message="503 Service Unavailable")
    post_all(manual.company, runs=4)
    assert _statuses(manual.company) == {SyncStatus.POSTED}
    assert package.numbers(manual.company) == sorted(d.number for d in documents)


def test_a_rate_limit_storm_posts_everything_exactly_once(package, manual):
    documents = queue(manual, 5)
    package.try_later("post", times=4, retry_after=1)
    post_all(manual.company, runs=6)
    assert _statuses(manual.company) == {SyncStatus.POSTED}
    assert package.numbers(manual.company) == sorted(d.number for d in documents)


def test_a_rate_limit_wait_is_the_packages_and_marked_so(package, manual):
    [document] = queue(manual, 1)
    package.try_later("post", retry_after=50)
    now = timezone.now()
    report = sync_company_run(company_id=manual.company.pk, now=now)
    record = SyncRecord.objects.get(document=document)
    assert record.waiting_for == WaitReason.RATE_LIMIT
    assert record.next_attempt_at == now + dt.timedelta(seconds=50)
    assert report.retry_in == 50
    assert _task(document).status == TaskStatus.IN_PROGRESS


def test_backoff_grows_with_each_failed_attempt(package, manual):
    [document] = queue(manual, 1)
    package.try_later("post", times=3)
    waits = []
    for _ in range(3):
        now = timezone.now()
        SyncRecord.objects.filter(document=document).update(next_attempt_at=None)
        sync_company_run(company_id=manual.company.pk, now=now)
        waits.append(SyncRecord.objects.get(document=document).next_attempt_at - now)
    # 30 s, 60 s, 120 s, each with up to a quarter of jitter either way.
    for wait, base in zip(waits, (30, 60, 120), strict=True):
        assert base * 0.75 <= wait.total_seconds() <= base * 1.25


def test_a_document_not_yet_due_is_not_claimed(package, manual):
    [document] = queue(manual, 1)
    later = timezone.now() + dt.timedelta(minutes=5)
    SyncRecord.objects.filter(document=document).update(next_attempt_at=later)
    sync_company_run(company_id=manual.company.pk, now=timezone.now())
    assert not package.calls
    sync_company_run(company_id=manual.company.pk, now=later)
    assert SyncRecord.objects.get(document=document).status == SyncStatus.POSTED


def test_more_rate_limit_waits_than_attempts_still_post_the_document(package, manual):
    [document] = queue(manual, 1)
    storm = MAX_TRANSIENT_ATTEMPTS + 2
    package.try_later("post", times=storm, retry_after=1)
    post_all(manual.company, runs=storm + 1)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED, record.message
    assert record.attempts == 1
    assert package.numbers(manual.company) == [document.number]


def test_passing_failures_count_towards_giving_up(package, manual):
    [document] = queue(manual, 1)
    package.try_later("post", times=MAX_TRANSIENT_ATTEMPTS + 2, maybe_sent=True)
    package.try_later("find", times=MAX_TRANSIENT_ATTEMPTS + 2)
    post_all(manual.company, runs=MAX_TRANSIENT_ATTEMPTS + 1)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.NEEDS_ATTENTION
    assert record.attempts == MAX_TRANSIENT_ATTEMPTS
    assert record.message.startswith(f"Still failing after {MAX_TRANSIENT_ATTEMPTS} attempts")
    task = _task(document)
    assert task.status == TaskStatus.FAILED and "Retry when Xero is reachable" in task.message


def test_a_worker_killed_after_sending_leaves_a_record_that_is_settled_by_lookup(package, manual):
    [document] = queue(manual, 1)
    # The worker claimed it, stored its key and sent it... then died before saving the answer.
    record = SyncRecord.objects.get(document=document)
    record.status, record.attempts, record.request_key = SyncStatus.POSTING, 1, "lb-test-key"
    record.claimed_at = timezone.now() - dt.timedelta(hours=1)
    record.save()
    connector_for("xero_api").post(manual.company, [record], request_key="lb-test-key")
    package.calls.clear()
    post_all(manual.company, runs=2)
    record.refresh_from_db()
    assert record.status == SyncStatus.POSTED
    assert package.numbers(manual.company) == [document.number]
    assert not package.calls_of("post")
    assert [c.record_ids for c in package.calls_of("find")] == [(record.pk,)]


def test_a_key_not_found_in_the_package_is_sent_again(package, manual):
    [document] = queue(manual, 1)
    # Sent by a worker that died before the request left: the package never saw it.
    record = SyncRecord.objects.get(document=document)
    record.status, record.attempts, record.request_key = SyncStatus.POSTING, 1, "lb-lost-key"
    record.claimed_at = timezone.now() - dt.timedelta(hours=1)
    record.save()
    post_all(manual.company, runs=1)
    record.refresh_from_db()
    assert record.status == SyncStatus.POSTED
    assert package.numbers(manual.company) == [document.number]
    assert "did not go through" in record.attempt_log.filter(action="lookup").get().message


# ------------------------------------------------------------------ blocked: link and pause


def test_documents_wait_while_the_link_is_not_usable_and_go_when_it_works(
    package, admin, django_capture_on_commit_callbacks
):
    package.unlink("This company is not connected to Xero.")
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(admin, finalise=True)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.PENDING
    assert record.message == "This company is not connected to Xero."
    assert record.request_key == "" and record.attempts == 0
    assert _task(document).message == "Waiting: This company is not connected to Xero."
    package.link()
    with django_capture_on_commit_callbacks(execute=True):
        sync_records_resume(company_id=admin.company.pk)
    record.refresh_from_db()
    assert record.status == SyncStatus.POSTED


def test_the_daily_limit_pauses_posting_until_the_package_says(package, manual):
    queue(manual, 2)
    until = timezone.now() + dt.timedelta(hours=2)
    package.pause(until)
    post_all(manual.company, runs=1)
    settings_row = AccountingSettings.objects.get(company=manual.company)
    assert settings_row.paused_until == until
    records = SyncRecord.objects.filter(company=manual.company)
    assert {r.status for r in records} == {SyncStatus.PENDING}
    assert all("daily limit" in r.message for r in records)
    assert all(r.next_attempt_at == until for r in records)
    post_all(manual.company, runs=2)
    assert len(package.calls) == 1  # asked once, then waited: no retry storm


# ------------------------------------------------------------------ attachments


def test_an_attachment_that_fails_for_now_is_tried_on_the_next_run(package, manual):
    [document] = queue(manual, 1)
    package.try_later("attach")
    post_all(manual.company, runs=1)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED
    assert record.attachment_status == StepStatus.PENDING
    assert record.attachment_message.startswith("Will try again")
    post_all(manual.company, runs=1)
    record.refresh_from_db()
    assert record.attachment_status == StepStatus.DONE and record.attachment_message == ""


# ------------------------------------------------------------------ credit notes


def _posted_invoice(actor, amount: str = "100"):
    """A sales invoice (auto-posted: its record waits), posted by a run."""
    invoice = final(actor, lines=[line("freight", unit_price=amount)])
    post_all(actor.company, runs=1)
    return invoice


def _credit_note_for(actor, invoice):
    """Its credit note, finalised (auto-posted: its record waits), with its PDF stored."""
    credit = credit_note_create_from_invoice(actor=actor, invoice_id=invoice.pk)
    document_finalise(actor=actor, document_id=credit.pk)
    store_stand_in_pdf(credit)
    return credit


def test_a_credit_note_is_allocated_to_its_posted_invoice(package, admin):
    invoice = _posted_invoice(admin)
    credit = _credit_note_for(admin, invoice)
    post_all(admin.company, runs=1)
    record = SyncRecord.objects.get(document=credit)
    assert record.status == SyncStatus.POSTED, record.message
    assert record.allocation_status == StepStatus.DONE, record.allocation_message
    invoice_record = SyncRecord.objects.get(document=invoice)
    held = package.books[admin.company.pk][invoice_record.external_id]
    assert held.amount_due == 0
    assert held.credits == {record.external_id: credit.gross_total}


def test_a_credit_note_waits_for_its_invoice_to_be_posted(package, admin):
    invoice = final(admin, lines=[line("freight", unit_price="100")])
    package.refuse(invoice.number)
    post_all(admin.company, runs=1)
    assert SyncRecord.objects.get(document=invoice).status == SyncStatus.FAILED
    credit = _credit_note_for(admin, invoice)
    post_all(admin.company, runs=1)
    record = SyncRecord.objects.get(document=credit)
    assert record.status == SyncStatus.POSTED
    assert record.allocation_status == StepStatus.WAITING
    assert record.allocation_message == "Waiting for the invoice to be posted."


def test_a_credit_note_for_a_paid_invoice_stays_unallocated_with_a_note(package, admin):
    invoice = _posted_invoice(admin)
    package.record_payment(admin.company, SyncRecord.objects.get(document=invoice).external_id)
    credit = _credit_note_for(admin, invoice)
    post_all(admin.company, runs=1)
    record = SyncRecord.objects.get(document=credit)
    assert record.allocation_status == StepStatus.SKIPPED
    assert "already paid" in record.allocation_message


def test_a_lost_allocation_answer_is_settled_as_allocated_once(package, admin):
    invoice = _posted_invoice(admin)
    package.lose_answer("allocate")
    credit = _credit_note_for(admin, invoice)
    post_all(admin.company, runs=1)
    record = SyncRecord.objects.get(document=credit)
    assert record.allocation_status == StepStatus.WAITING  # the answer was lost

    post_all(admin.company, runs=1)

    record.refresh_from_db()
    assert record.allocation_status == StepStatus.DONE, record.allocation_message
    assert record.allocation_message == ""
    held = package.books[admin.company.pk][SyncRecord.objects.get(document=invoice).external_id]
    assert held.credits == {record.external_id: credit.gross_total}
    assert len(package.calls_of("allocate")) == 2


# ------------------------------------------------------------------ the REST API and settings


def test_the_api_posts_documents_and_shows_their_xero_status(
    client, package, manual, django_capture_on_commit_callbacks
):
    from ledgerbridge.companies.models import Role
    from ledgerbridge.companies.services import api_token_create

    _, raw = api_token_create(actor=manual, name="TMS", role=Role.FINANCE)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    document = make_document(manual, finalise=True)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/api/documents/post-to-xero",
            {"document_ids": [document.pk]},
            content_type="application/json",
        )
    assert answer.json() == {"queued": 1}
    body = client.get(f"/api/documents/{document.pk}").json()
    assert body["xero"]["status"] == "posted"
    assert body["xero"]["xero_number"] == document.number
    listing = client.get("/api/documents", {"xero": "posted"}).json()
    assert [item["id"] for item in listing["items"]] == [document.pk]


def test_switching_away_from_the_api_hides_post_tasks_and_keeps_their_history(manual):
    from ledgerbridge.accounting.services import accounting_package_set
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.invoicing.workflow import document_tasks

    document = make_document(manual, finalise=True)
    staff = Actor(company=manual.company, role="", user=manual.user, is_platform_staff=True)
    accounting_package_set(actor=staff, package="xero_file")
    assert document_tasks(document=document) == []
    assert Task.objects.filter(document=document, type="post_to_xero", hidden=True).exists()
    later = make_document(manual, finalise=True)
    assert not Task.objects.filter(document=later).exists()
    accounting_package_set(actor=staff, package="xero_api")
    assert [t.type for t in document_tasks(document=document)] == ["post_to_xero"]
