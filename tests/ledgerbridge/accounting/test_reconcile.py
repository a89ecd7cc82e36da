"""Reconciliation against the fake package: every class, acknowledgements, incremental
runs, rounding, and what reading costs.

The fake holds what the outbox posted to it; a simulated user of the package edits,
voids, deletes, pays and types documents there, each stamped later than the posting.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ledgerbridge.accounting.fake import FakeConnector, fake_contact_id
from ledgerbridge.accounting.models import (
    PaymentState,
    PaymentStatus,
    ReconcileOutcome,
    ReconcileRunStatus,
    ReconciliationRow,
    SyncRecord,
    SyncStatus,
)
from ledgerbridge.accounting.reconcile import (
    ReconciliationError,
    reconciliation_acknowledge,
    reconciliation_run,
)
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.errors import PermissionDeniedError
from tests.ledgerbridge.factories import line, make_actor, make_document, make_partner

from .conftest import final, post_all

pytestmark = pytest.mark.django_db

FROM, TO = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
OUTCOMES = ReconcileOutcome


def later(minutes: int = 60) -> dt.datetime:
    """A time well after the postings of the test: a person's edit, or a run."""
    return timezone.now() + dt.timedelta(minutes=minutes)


def run(actor, books: FakeConnector, *, incremental: bool = False, minutes: int = 120):
    return reconciliation_run(
        actor.company,
        date_from=FROM,
        date_to=TO,
        incremental=incremental,
        reader=books,
        now=later(minutes),
        actor=actor,
    )


def posted(actor, count: int = 1, **kwargs):
    documents = [final(actor, **kwargs) for _ in range(count)]
    post_all(actor.company)
    return documents


def record(document) -> SyncRecord:
    return SyncRecord.objects.get(document=document)


def row_of(the_run, document) -> ReconciliationRow:
    return ReconciliationRow.objects.get(run=the_run, document=document)


def row_of_external(the_run, external_id: str) -> ReconciliationRow:
    return ReconciliationRow.objects.get(run=the_run, external_id=external_id)


def the_calls(books: FakeConnector, operation: str) -> int:
    return len(books.calls_of(operation))


def open_counts(the_run) -> dict[str, int]:
    return {k: v for k, v in the_run.counts.items() if v}


# ------------------------------------------------------------------ agrees


def test_documents_posted_and_untouched_agree_in_one_call(books, admin):
    posted(admin, 3)
    the_run = run(admin, books)
    assert the_run.status == ReconcileRunStatus.DONE
    assert open_counts(the_run) == {"agrees": 3}
    assert (the_run.calls, the_run.documents_read) == (1, 3)
    assert the_run.bytes_read > 0
    row = ReconciliationRow.objects.filter(run=the_run).first()
    assert row.ours["gross"] == row.theirs["gross"]
    assert row.ours["contact"] == row.theirs["contact"]


def test_our_own_sub_cent_figures_are_no_difference(books, admin):
    # 3 x 33.3333 is 99.9999: we keep it, the package keeps 100.00.
    [document] = posted(admin, lines=[line(quantity="3", unit_price="33.3333")])
    sent = record(document).fingerprint
    assert sent["lines"][0]["amount"] != "100.00"
    # The package touched it after posting; its lines, read with the page, are compared.
    books.edit(admin.company, record(document).external_id, at=later())
    the_run = run(admin, books)
    assert not books.calls_of("documents_detail")
    assert open_counts(the_run) == {"agrees": 1}
    assert row_of(the_run, document).theirs["line_count"] == "1"


# ------------------------------------------------------------------ missing


def test_a_final_document_never_posted_is_missing(books, manual):
    document = final(manual)
    the_run = run(manual, books)
    row = row_of(the_run, document)
    assert row.outcome == OUTCOMES.MISSING
    assert row.differences == ["never posted"]
    assert row.theirs == {}


def test_a_posted_document_gone_from_the_package_is_missing(books, admin):
    [document] = posted(admin)
    books.forget(admin.company, record(document).external_id)
    the_run = run(admin, books)
    row = row_of(the_run, document)
    assert row.outcome == OUTCOMES.MISSING
    assert row.differences == ["posted, but no longer in the package"]


def test_voided_in_the_package_and_known_to_us_is_missing(books, admin):
    [document] = posted(admin)
    books.void(admin.company, record(document).external_id, at=later())
    PaymentState.objects.create(
        record=record(document), company=admin.company, status=PaymentStatus.VOIDED
    )
    row = row_of(run(admin, books), document)
    assert row.outcome == OUTCOMES.MISSING
    assert row.differences == ["voided in the package"]


# ------------------------------------------------------------------ status differs


def test_voided_in_the_package_unknown_to_us_is_a_status_difference(books, admin):
    [document] = posted(admin)
    books.delete(admin.company, record(document).external_id, at=later())
    row = row_of(run(admin, books), document)
    assert row.outcome == OUTCOMES.STATUS_DIFFERS
    assert row.differences == ["deleted in the package; the TMS believes it unpaid"]
    assert row.theirs["status"] == "deleted"


def test_paid_in_the_package_against_unpaid_here_is_a_status_difference(books, admin):
    [document] = posted(admin)
    state = PaymentState.objects.create(
        record=record(document), company=admin.company, status=PaymentStatus.UNPAID
    )
    books.record_payment(admin.company, record(document).external_id, at=later())
    row = row_of(run(admin, books), document)
    assert row.outcome == OUTCOMES.STATUS_DIFFERS
    assert row.differences == ["paid in the package; the TMS believes it unpaid"]
    state.status = PaymentStatus.PAID
    state.save()
    assert row_of(run(admin, books, minutes=180), document).outcome == OUTCOMES.AGREES


def test_paid_in_the_package_before_we_read_any_payment_is_a_status_difference(books, admin):
    [document] = posted(admin)
    books.record_payment(admin.company, record(document).external_id, at=later())
    row = row_of(run(admin, books), document)
    assert row.outcome == OUTCOMES.STATUS_DIFFERS
    assert row.differences == ["paid in the package; the TMS believes it unpaid"]


def test_credit_we_allocated_ourselves_is_no_status_difference(books, admin):
    from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise

    [invoice] = posted(admin)
    credit = credit_note_create_from_invoice(
        actor=admin, invoice_id=invoice.pk, issue_date=invoice.issue_date
    )
    document_finalise(actor=admin, document_id=credit.pk)
    post_all(admin.company)
    assert record(credit).allocation_status == "done"
    held = {h.external_id: h for h in books.holds(admin.company)}
    assert held[record(credit).external_id].status == "paid"
    assert held[record(invoice).external_id].status == "paid"
    the_run = run(admin, books)
    assert row_of(the_run, invoice).outcome == OUTCOMES.AGREES
    assert row_of(the_run, credit).outcome == OUTCOMES.AGREES


def test_a_part_payment_we_did_not_hear_of_is_a_status_difference(books, admin):
    [document] = posted(admin)
    external_id = record(document).external_id
    held = books.books[admin.company.pk][external_id]
    PaymentState.objects.create(
        record=record(document),
        company=admin.company,
        status=PaymentStatus.PARTLY_PAID,
        total=held.total,
        amount_due=held.total - 10,
    )
    held.amount_due = held.total - 50
    held.updated_at = later()
    row = row_of(run(admin, books), document)
    assert row.outcome == OUTCOMES.STATUS_DIFFERS
    assert row.differences[0].startswith("due ")


# ------------------------------------------------------------------ differs


def test_a_total_changed_in_the_package_differs_in_words(books, admin):
    [document] = posted(admin, lines=[line(unit_price="1000.00")])
    books.edit_line(
        admin.company, record(document).external_id, amount=Decimal("800.00"), at=later()
    )
    row = row_of(run(admin, books), document)
    assert row.outcome == OUTCOMES.DIFFERS
    assert "total 1,200.00 GBP → 1,000.00 GBP" in row.differences
    assert "net 1,000.00 GBP → 800.00 GBP" in row.differences
    assert (row.ours["gross"], row.theirs["gross"]) == ("1200.00", "1000.00")


def test_an_account_changed_in_the_package_is_found_by_reading_its_lines(books, admin):
    [document] = posted(admin)
    external_id = record(document).external_id
    account = books.books[admin.company.pk][external_id].lines[0].account_code
    books.edit_line(admin.company, external_id, account_code="260", at=later())
    the_run = run(admin, books)
    row = row_of(the_run, document)
    assert row.outcome == OUTCOMES.DIFFERS
    assert row.differences == [f"account {account} → 260"]
    assert the_run.calls == 1  # the page, with its lines: nothing read again by id


def test_a_contact_changed_in_the_package_is_named_on_both_sides(books, admin):
    [document] = posted(admin)
    books.edit(
        admin.company,
        record(document).external_id,
        contact_id="other-contact",
        contact_name="Tees Plastics Moulding",
        at=later(),
    )
    row = row_of(run(admin, books), document)
    assert row.differences == [f"contact {document.partner.name} → Tees Plastics Moulding"]


def test_tracking_and_tax_type_changes_differ(books, admin):
    [document] = posted(admin)
    external_id = record(document).external_id
    books.edit_line(
        admin.company, external_id, tax_type="ZERO", tracking=(("Region", "North"),), at=later()
    )
    row = row_of(run(admin, books), document)
    assert row.outcome == OUTCOMES.DIFFERS
    assert any(d.startswith("tax type S20 → ZERO") for d in row.differences)
    assert any(d.startswith("tracking") and "Region: North" in d for d in row.differences)


def test_a_header_change_is_seen_in_the_summary(books, admin):
    [document] = posted(admin)
    books.edit(admin.company, record(document).external_id, reference="changed", at=later())
    row = row_of(run(admin, books), document)
    assert row.outcome == OUTCOMES.DIFFERS
    assert any(d.startswith("reference") for d in row.differences)


def test_a_date_moved_out_of_the_period_differs_rather_than_missing(books, admin):
    [document] = posted(admin)
    books.edit(admin.company, record(document).external_id, date=dt.date(2026, 12, 3), at=later())
    row = row_of(run(admin, books), document)
    assert row.outcome == OUTCOMES.DIFFERS
    assert row.differences == ["date 2 Nov 2026 → 3 Dec 2026"]


def test_a_document_posted_before_fingerprints_is_compared_with_its_own_values(books, admin):
    [same, changed] = posted(admin, 2)
    SyncRecord.objects.filter(document__in=[same, changed]).update(fingerprint=None)
    books.edit_line(admin.company, record(changed).external_id, amount=Decimal("1.00"), at=later())
    the_run = run(admin, books)
    assert row_of(the_run, same).outcome == OUTCOMES.AGREES
    row = row_of(the_run, changed)
    assert row.outcome == OUTCOMES.DIFFERS
    assert any(d.startswith("total") for d in row.differences)


def test_a_credit_note_posted_before_fingerprints_has_no_due_date_to_differ(books, admin):
    from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise

    [invoice] = posted(admin)
    credit = credit_note_create_from_invoice(
        actor=admin, invoice_id=invoice.pk, issue_date=invoice.issue_date
    )
    document_finalise(actor=admin, document_id=credit.pk)
    post_all(admin.company)
    SyncRecord.objects.filter(document=credit).update(fingerprint=None)
    books.edit(admin.company, record(credit).external_id, at=later())  # read in detail
    assert row_of(run(admin, books), credit).outcome == OUTCOMES.AGREES


# ------------------------------------------------------------------ only in the package


def test_documents_typed_in_the_package_that_belong_to_us_are_only_there(books, admin):
    [document] = posted(admin)
    partner_id = document.partner_id
    stranger = make_partner(admin.company)
    in_series = books.enter(
        admin.company,
        type="sales_invoice",
        number="INV-2026-09999",
        partner_id=stranger.pk,
        total=Decimal("50"),
        date=dt.date(2026, 11, 5),
    )
    for_our_contact = books.enter(
        admin.company,
        type="sales_invoice",
        number="HAND-7",
        partner_id=partner_id,
        total=Decimal("60"),
        date=dt.date(2026, 11, 6),
    )
    for number in ("OTHER-1", "INV-0001"):  # someone else's business, the package's numbering
        books.enter(
            admin.company,
            type="sales_invoice",
            number=number,
            partner_id=stranger.pk,
            total=Decimal("70"),
            date=dt.date(2026, 11, 7),
        )
    the_run = run(admin, books)
    only = ReconciliationRow.objects.filter(run=the_run, outcome=OUTCOMES.ONLY_IN_PACKAGE)
    assert {r.external_id for r in only} == {in_series.external_id, for_our_contact.external_id}
    assert all(r.document_id is None and r.ours == {} for r in only)
    assert open_counts(the_run) == {"agrees": 1, "only_in_package": 2}


def test_a_copy_typed_in_the_package_under_its_own_number_is_pointed_out(books, admin):
    [document] = posted(admin)
    books.enter(
        admin.company,
        type="sales_invoice",
        number="INV-0299",
        partner_id=document.partner_id,
        total=document.gross_total,
        date=document.issue_date,
    )
    books.enter(  # same contact and date, another total: not a copy
        admin.company,
        type="sales_invoice",
        number="INV-0300",
        partner_id=document.partner_id,
        total=document.gross_total + 1,
        date=document.issue_date,
    )
    the_run = run(admin, books)
    copy = ReconciliationRow.objects.get(run=the_run, number="INV-0299")
    assert copy.outcome == OUTCOMES.ONLY_IN_PACKAGE
    assert copy.differences == [
        "entered in the package, not posted from the TMS",
        f"looks like a copy of {document.number} (same contact, date and total)",
    ]
    other = ReconciliationRow.objects.get(run=the_run, number="INV-0300")
    assert other.differences == ["entered in the package, not posted from the TMS"]


def test_a_typed_copy_of_one_of_ours_never_posted_is_one_row_with_both(books, manual):
    document = final(manual)
    held = books.enter(
        manual.company,
        type=document.type,
        number=document.number,
        partner_id=document.partner_id,
        total=document.gross_total,
        tax=document.tax_total,
        date=document.issue_date,
    )
    the_run = run(manual, books)
    [row] = ReconciliationRow.objects.filter(run=the_run)
    assert (row.outcome, row.document_id, row.external_id) == (
        OUTCOMES.ONLY_IN_PACKAGE,
        document.pk,
        held.external_id,
    )
    assert row.differences[0].endswith("same total (it can be linked)")


# ------------------------------------------------------------------ acknowledging


def _differing(admin, books):
    [document] = posted(admin)
    external_id = record(document).external_id
    books.edit(admin.company, external_id, reference="typed over", at=later())
    return document, external_id


def test_acknowledging_a_row_with_a_reason_counts_it_acknowledged_and_audits(books, admin):
    document, _ = _differing(admin, books)
    the_run = run(admin, books)
    row = row_of(the_run, document)
    assert the_run.counts["differs"] == 1
    with pytest.raises(ReconciliationError, match="why"):
        reconciliation_acknowledge(row, reason="  ", actor=admin, now=later(130))
    row = reconciliation_acknowledge(
        row, reason="Customer asked for it", actor=admin, now=later(130)
    )
    assert row.acknowledgement.reason == "Customer asked for it"
    the_run.refresh_from_db()
    assert (the_run.counts["differs"], the_run.counts["acknowledged"]) == (0, 1)
    entry = AuditEntry.objects.get(action="reconciliation acknowledged")
    assert entry.changes["reason"] == "Customer asked for it"


def test_a_viewer_may_not_acknowledge(books, admin):
    document, _ = _differing(admin, books)
    row = row_of(run(admin, books), document)
    viewer = make_actor(admin.company, Role.VIEWER)
    with pytest.raises(PermissionDeniedError):
        reconciliation_acknowledge(row, reason="fine", actor=viewer, now=later(130))


def test_a_later_run_keeps_the_acknowledgement_until_the_differences_change(books, admin):
    document, external_id = _differing(admin, books)
    reconciliation_acknowledge(
        row_of(run(admin, books), document), reason="ok", actor=admin, now=later(130)
    )
    again = run(admin, books, minutes=140)
    assert row_of(again, document).acknowledgement is not None
    assert again.counts["acknowledged"] == 1

    books.edit(admin.company, external_id, reference="typed over again", at=later(150))
    reopened = run(admin, books, minutes=160)
    row = row_of(reopened, document)
    assert row.outcome == OUTCOMES.DIFFERS and row.acknowledgement is None
    assert (reopened.counts["differs"], reopened.counts["acknowledged"]) == (1, 0)


# ------------------------------------------------------------------ incremental


def test_an_incremental_run_reads_what_changed_and_carries_the_rest_over(books, admin):
    documents = posted(admin, 5)
    missing_one = final(admin)  # queued, not posted yet: missing
    full = run(admin, books)
    assert open_counts(full) == {"agrees": 5, "missing": 1}

    edited = documents[0]
    books.edit(admin.company, record(edited).external_id, reference="new", at=later(130))
    books.calls.clear()
    incremental = run(admin, books, incremental=True, minutes=140)
    assert incremental.incremental
    assert incremental.documents_read == 1
    assert open_counts(incremental) == {"agrees": 4, "differs": 1, "missing": 1}
    assert row_of(incremental, edited).outcome == OUTCOMES.DIFFERS
    assert row_of(incremental, missing_one).outcome == OUTCOMES.MISSING
    # What a full run would say now.
    assert open_counts(run(admin, books, minutes=150)) == open_counts(incremental)


def test_an_incremental_run_matches_one_of_ours_finalised_since_with_a_typed_copy_unchanged(
    books, manual
):
    from ledgerbridge.invoicing.services import document_finalise

    draft = make_document(manual, lines=1)
    held = books.enter(
        manual.company,
        type=draft.type,
        number="INV-2026-00001",  # the number the draft gets when finalised
        partner_id=draft.partner_id,
        total=draft.gross_total,
        tax=draft.tax_total,
        date=draft.issue_date,
    )
    full = run(manual, books)
    assert row_of_external(full, held.external_id).outcome == OUTCOMES.ONLY_IN_PACKAGE
    document = document_finalise(actor=manual, document_id=draft.pk)
    assert document.number == held.number

    incremental = run(manual, books, incremental=True, minutes=140)
    [row] = ReconciliationRow.objects.filter(run=incremental)
    assert (row.outcome, row.document_id, row.external_id) == (
        OUTCOMES.ONLY_IN_PACKAGE,
        document.pk,
        held.external_id,
    )
    assert row.differences[0].endswith("same total (it can be linked)")
    assert the_calls(books, "documents_detail") == 1  # the typed copy, read again


def test_an_incremental_run_keeps_matching_one_of_ours_changed_here_with_its_typed_copy(
    books, manual
):
    document = final(manual)
    held = books.enter(
        manual.company,
        type=document.type,
        number=document.number,
        partner_id=document.partner_id,
        total=document.gross_total,
        tax=document.tax_total,
        date=document.issue_date,
    )
    run(manual, books)
    # Changed on our side after that run (the package's copy was not).
    type(document).objects.filter(pk=document.pk).update(updated_at=later(130))
    incremental = run(manual, books, incremental=True, minutes=140)
    [row] = ReconciliationRow.objects.filter(run=incremental)
    assert (row.outcome, row.document_id, row.external_id) == (
        OUTCOMES.ONLY_IN_PACKAGE,
        document.pk,
        held.external_id,
    )


def test_an_incremental_run_carries_a_typed_copy_over_without_reading_it_again(books, manual):
    document = final(manual)
    books.enter(
        manual.company,
        type=document.type,
        number=document.number,
        partner_id=document.partner_id,
        total=document.gross_total,
        tax=document.tax_total,
        date=document.issue_date,
    )
    full = run(manual, books)
    books.calls.clear()
    incremental = run(manual, books, incremental=True, minutes=140)
    assert open_counts(incremental) == open_counts(full) == {"only_in_package": 1}
    assert not books.calls_of("documents_detail")


def test_an_incremental_run_without_a_previous_one_reads_everything(books, admin):
    posted(admin, 2)
    the_run = run(admin, books, incremental=True)
    assert not the_run.incremental
    assert the_run.documents_read == 2


# ------------------------------------------------------------------ cost


def test_the_queries_of_a_run_do_not_grow_with_its_documents(books, admin):
    posted(admin, 2)
    run(admin, books, minutes=100)  # both measured runs have a previous one to read
    with CaptureQueriesContext(connection) as few:
        run(admin, books)
    posted(admin, 10)
    with CaptureQueriesContext(connection) as many:
        run(admin, books, minutes=130)
    assert len(many) == len(few)


def test_a_package_that_cannot_be_read_fails_the_run_with_the_reason(books, admin):
    posted(admin)
    books.try_later("documents_read", message="The package is not answering.")
    the_run = run(admin, books)
    assert the_run.status == ReconcileRunStatus.FAILED
    assert the_run.error == "The package is not answering."
    assert not ReconciliationRow.objects.filter(run=the_run).exists()


def test_contacts_read_lists_the_contacts_of_what_was_posted(books, admin):
    from ledgerbridge.accounting.connector import ReadMeter

    [document] = posted(admin)
    meter = ReadMeter()
    [contact] = books.contacts_read(admin.company, meter=meter)
    assert contact.external_id == fake_contact_id(document.partner_id)
    assert meter.calls == 1


def test_a_record_still_on_its_way_is_missing_as_such(books, manual):
    from ledgerbridge.invoicing.models import Task
    from ledgerbridge.invoicing.workflow import task_complete

    document = final(manual)
    task_complete(actor=manual, task_id=Task.objects.get(document=document, type="post_to_xero").pk)
    assert record(document).status == SyncStatus.PENDING
    row = row_of(run(manual, books), document)
    assert row.differences == ["not posted yet: on its way to the package"]
