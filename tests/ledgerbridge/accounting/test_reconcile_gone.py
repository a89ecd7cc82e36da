"""One of ours voided or deleted in the package: the choices a person has (credit it in
the TMS, post it again where the package takes its number, acknowledge), the one rule
that lists them per row, what each does, and what is refused."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ledgerbridge.accounting import reconcile
from ledgerbridge.accounting.changes import remote_change_latest
from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    PaymentState,
    PaymentStatus,
    ReconcileOutcome,
    RemoteChange,
    SyncAttempt,
    SyncStatus,
)
from ledgerbridge.accounting.reconcile import (
    ReconciliationError,
    document_gone_actions,
    document_gone_credit,
    document_post_again,
    reconciliation_act,
    reconciliation_row_actions,
)
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.errors import NotFoundError, PermissionDeniedError
from ledgerbridge.invoicing.models import Document, DocumentStatus, DocumentType, Task
from ledgerbridge.invoicing.services import document_finalise
from tests.ledgerbridge.factories import make_actor, make_company

from .test_reconcile import later, posted, record, row_of, run

pytestmark = pytest.mark.django_db

XERO = AccountingPackage.XERO_API


@pytest.fixture(autouse=True)
def purchases_post_themselves(admin):
    AccountingSettings.objects.filter(company=admin.company).update(
        auto_post_purchase_invoice=True, auto_post_purchase_credit_note=True
    )


def voided(actor, books, document, *, known: bool = True):
    """The package voids ``document``; ``known``: our payment state heard of it."""
    books.void(actor.company, record(document).external_id, at=later())
    if known:
        PaymentState.objects.create(
            record=record(document), company=actor.company, status=PaymentStatus.VOIDED
        )


def keys(allowed) -> list[str]:
    return [a.action for a in allowed.actions]


# ------------------------------------------------------------------ which choices


def test_a_voided_sales_invoice_offers_credit_and_acknowledge_not_posting_again(books, admin):
    [document] = posted(admin)
    voided(admin, books, document)
    row = row_of(run(admin, books), document)
    allowed = reconciliation_row_actions(row, package=XERO)
    assert keys(allowed) == ["credit", "acknowledge"]
    [why] = allowed.not_offered
    assert "Posting it again is not offered" in why and "Invoice # must be unique" in why


def test_a_deleted_sales_invoice_we_did_not_hear_of_can_be_checked_again_too(books, admin):
    [document] = posted(admin)
    books.delete(admin.company, record(document).external_id, at=later())
    row = row_of(run(admin, books), document)
    assert row.outcome == ReconcileOutcome.STATUS_DIFFERS
    assert keys(reconciliation_row_actions(row, package=XERO)) == [
        "recheck",
        "credit",
        "acknowledge",
    ]


def test_a_voided_bill_may_be_posted_again(books, admin):
    [bill] = posted(admin, type=DocumentType.PURCHASE_INVOICE)
    voided(admin, books, bill)
    row = row_of(run(admin, books), bill)
    allowed = reconciliation_row_actions(row, package=XERO)
    assert keys(allowed) == ["credit", "post_again", "acknowledge"]
    assert allowed.not_offered == ()


def test_a_voided_credit_note_is_not_credited(books, admin):
    [bill] = posted(admin, type=DocumentType.PURCHASE_CREDIT_NOTE)
    voided(admin, books, bill)
    allowed = reconciliation_row_actions(row_of(run(admin, books), bill), package=XERO)
    assert keys(allowed) == ["post_again", "acknowledge"]


def test_without_a_rule_for_numbers_posting_again_is_not_offered(books, admin, monkeypatch):
    monkeypatch.setattr(reconcile, "_number_reuse", {})
    [bill] = posted(admin, type=DocumentType.PURCHASE_INVOICE)
    voided(admin, books, bill)
    allowed = reconciliation_row_actions(row_of(run(admin, books), bill), package=XERO)
    assert "post_again" not in allowed
    assert "may not take the same number twice" in allowed.not_offered[0]


def test_rows_that_are_not_gone_keep_their_actions(books, manual):
    from .conftest import final

    never = final(manual)
    row = row_of(run(manual, books), never)
    assert keys(reconciliation_row_actions(row, package=XERO)) == ["post", "acknowledge"]


def test_an_acknowledged_or_agreeing_row_offers_nothing(books, admin):
    [document] = posted(admin)
    row = row_of(run(admin, books), document)
    assert reconciliation_row_actions(row, package=XERO).actions == ()
    voided(admin, books, document)
    row = row_of(run(admin, books, minutes=130), document)
    row = reconcile.reconciliation_acknowledge(
        row, reason="Voided on purpose", actor=admin, now=later(131)
    )
    assert reconciliation_row_actions(row, package=XERO).actions == ()


def test_the_document_page_offers_the_same_choices_to_finance_and_none_to_a_viewer(books, admin):
    [document] = posted(admin)
    voided(admin, books, document)
    finance = make_actor(admin.company, Role.FINANCE)
    assert keys(document_gone_actions(document, actor=finance)) == ["credit", "acknowledge"]
    viewer = make_actor(admin.company, Role.VIEWER)
    assert document_gone_actions(document, actor=viewer).actions == ()


def test_a_document_still_in_the_package_offers_no_choices(books, admin):
    [document] = posted(admin)
    assert document_gone_actions(document, actor=admin).actions == ()


# ------------------------------------------------------------------ credit it in the TMS


def test_credit_drafts_a_credit_note_of_the_whole_invoice_linked_to_it(books, admin):
    [document] = posted(admin, lines=2)
    voided(admin, books, document)
    row = row_of(run(admin, books), document)
    reconciliation_act(row, "credit", actor=admin, now=later(130))
    [credit_note] = Document.objects.filter(original=document)
    assert credit_note.status == DocumentStatus.DRAFT
    assert credit_note.type == DocumentType.SALES_CREDIT_NOTE
    assert credit_note.gross_total == document.gross_total
    assert credit_note.lines.count() == 2
    entry = AuditEntry.objects.get(
        action="document gone from accounting package: credit note drafted"
    )
    assert entry.changes["gone"] == "voided"
    assert entry.changes["credit_note_id"] == credit_note.pk
    # Offered once: the row says why not again.
    allowed = reconciliation_row_actions(row, package=XERO)
    assert "credit" not in allowed
    assert "has a credit note already" in allowed.not_offered[0]


def test_the_credit_note_is_finalised_as_usual_and_not_sent_to_the_package(books, admin):
    [document] = posted(admin)
    voided(admin, books, document)
    credit_note = document_gone_credit(actor=admin, document_id=document.pk, now=later(130))
    document_finalise(actor=admin, document_id=credit_note.pk)
    credit_note.refresh_from_db()
    assert credit_note.status == DocumentStatus.FINAL and credit_note.number
    # The package voided the invoice: a credit there would count twice.
    assert not Task.objects.filter(document=credit_note, type="post_to_xero").exists()
    today = credit_note.issue_date
    the_run = reconcile.reconciliation_run(
        admin.company, date_from=today, date_to=today, reader=books, now=later(140)
    )
    row = row_of(the_run, credit_note)
    assert row.outcome == ReconcileOutcome.MISSING
    allowed = reconciliation_row_actions(row, package=XERO)
    assert keys(allowed) == ["acknowledge"]
    assert "leaves the invoice out of its books" in allowed.not_offered[0]


def test_credit_is_refused_for_a_document_still_in_the_package(books, admin):
    [document] = posted(admin)
    with pytest.raises(ReconciliationError, match="nothing to put right"):
        document_gone_credit(actor=admin, document_id=document.pk, now=later(130))
    assert not Document.objects.filter(original=document).exists()


def test_a_viewer_may_not_credit_or_post_again(books, admin):
    [document] = posted(admin, type=DocumentType.PURCHASE_INVOICE)
    voided(admin, books, document)
    viewer = make_actor(admin.company, Role.VIEWER)
    with pytest.raises(PermissionDeniedError):
        document_gone_credit(actor=viewer, document_id=document.pk, now=later(130))
    with pytest.raises(PermissionDeniedError):
        document_post_again(actor=viewer, document_id=document.pk, now=later(130))
    assert record(document).status == SyncStatus.POSTED


def test_another_companys_document_is_not_found(books, admin):
    [document] = posted(admin, type=DocumentType.PURCHASE_INVOICE)
    voided(admin, books, document)
    stranger = make_actor(make_company("Elsewhere Ltd"), Role.SUPER_ADMIN)
    with pytest.raises(NotFoundError):
        document_post_again(actor=stranger, document_id=document.pk, now=later(130))
    with pytest.raises(NotFoundError):
        document_gone_credit(actor=stranger, document_id=document.pk, now=later(130))


# ------------------------------------------------------------------ post it again


def test_post_again_sends_a_new_copy_keeping_the_history_and_the_old_id(books, admin):
    from .conftest import post_all

    [bill] = posted(admin, type=DocumentType.PURCHASE_INVOICE)
    old = record(bill)
    voided(admin, books, bill)
    RemoteChange.objects.create(
        record=old, company=admin.company, detected_at=timezone.now(), differences=["total 1 → 2"]
    )
    attempts_before = SyncAttempt.objects.filter(record=old).count()
    row = row_of(run(admin, books), bill)
    row = reconciliation_act(row, "post_again", actor=admin, now=later(130))
    assert row.outcome == ReconcileOutcome.MISSING and row.external_id == ""
    again = record(bill)
    assert (again.status, again.external_id) == (SyncStatus.PENDING, "")
    assert not PaymentState.objects.filter(record=again).exists()
    post_all(admin.company)
    again.refresh_from_db()
    assert again.status == SyncStatus.POSTED
    assert again.external_id and again.external_id != old.external_id
    # Two copies in the package: the voided one and the new one.
    held = [h for h in books.holds(admin.company) if h.number == bill.supplier_reference]
    assert sorted(h.status for h in held) == ["authorised", "voided"]
    history = SyncAttempt.objects.filter(record=again)
    assert history.count() > attempts_before + 1
    assert old.external_id in history.get(action="post_again").message
    entry = AuditEntry.objects.get(action="document posted again to accounting package")
    assert entry.changes["external_id"] == old.external_id
    assert entry.changes["gone"] == "voided"
    # The old copy's change is not shown against the new one.
    assert remote_change_latest(again) is None
    # The next run finds the new copy in agreement.
    assert row_of(run(admin, books, minutes=200), bill).outcome == ReconcileOutcome.AGREES


def test_post_again_is_refused_for_a_sales_invoice_with_the_reason(books, admin):
    [document] = posted(admin)
    voided(admin, books, document)
    with pytest.raises(ReconciliationError, match="Invoice # must be unique"):
        document_post_again(actor=admin, document_id=document.pk, now=later(130))
    row = row_of(run(admin, books), document)
    with pytest.raises(ReconciliationError, match="Invoice # must be unique"):
        reconciliation_act(row, "post_again", actor=admin, now=later(130))
    assert record(document).status == SyncStatus.POSTED


def test_post_again_is_refused_for_a_document_still_in_the_package(books, admin):
    [bill] = posted(admin, type=DocumentType.PURCHASE_INVOICE)
    row = row_of(run(admin, books), bill)
    with pytest.raises(ReconciliationError, match="Only one of our documents voided"):
        reconciliation_act(row, "post_again", actor=admin, now=later(130))
    with pytest.raises(ReconciliationError, match="nothing to put right"):
        document_post_again(actor=admin, document_id=bill.pk, now=later(130))


def test_post_again_twice_is_refused_the_second_time(books, admin):
    [bill] = posted(admin, type=DocumentType.PURCHASE_INVOICE)
    voided(admin, books, bill)
    document_post_again(actor=admin, document_id=bill.pk, now=later(130))
    with pytest.raises(ReconciliationError, match="nothing to put right"):
        document_post_again(actor=admin, document_id=bill.pk, now=later(131))


def test_a_posted_document_the_package_no_longer_returns_counts_as_deleted(books, admin):
    [document] = posted(admin)
    books.forget(admin.company, record(document).external_id)
    row = row_of(run(admin, books), document)
    assert reconcile.row_gone(row) == "deleted"
    assert reconcile.document_gone(record(document)) == "deleted"
    credit_note = document_gone_credit(actor=admin, document_id=document.pk, now=later(130))
    assert credit_note.original_id == document.pk
    entry = AuditEntry.objects.get(
        action="document gone from accounting package: credit note drafted"
    )
    assert entry.changes["gone"] == "deleted"
    # Known deleted by reconciliation alone, it is kept out of the package all the same.
    document_finalise(actor=admin, document_id=credit_note.pk)
    assert not Task.objects.filter(document=credit_note, type="post_to_xero").exists()
