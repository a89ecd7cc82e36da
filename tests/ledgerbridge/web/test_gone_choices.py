"""A document voided or deleted in the package, on its page and on its reconciliation
row: the choices per role (Finance and Super Admin act, a Viewer reads), what each does
from a click, and what a forged or stale form gets."""

from __future__ import annotations

import pytest

from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    PaymentState,
    PaymentStatus,
    SyncRecord,
    SyncStatus,
)
from ledgerbridge.accounting.reconcile import reconciliation_run
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Document, DocumentStatus, DocumentType
from tests.ledgerbridge.accounting.conftest import books, final, package, post_all  # noqa: F401
from tests.ledgerbridge.accounting.test_reconcile import FROM, TO, later
from tests.ledgerbridge.factories import make_actor, make_company

from .conftest import ROLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(company, books):  # noqa: F811
    AccountingSettings.objects.update_or_create(
        company=company,
        defaults={"package": AccountingPackage.XERO_API, "auto_post_purchase_invoice": True},
    )
    actor = make_actor(company, Role.SUPER_ADMIN)
    invoice = final(actor)
    bill = final(actor, type=DocumentType.PURCHASE_INVOICE)
    kept = final(actor)
    post_all(company)
    for document in (invoice, bill):
        record = SyncRecord.objects.get(document=document)
        books.void(company, record.external_id, at=later())
        PaymentState.objects.create(record=record, company=company, status=PaymentStatus.VOIDED)
    the_run = reconciliation_run(
        company, date_from=FROM, date_to=TO, reader=books, now=later(120), actor=actor
    )
    return {"invoice": invoice, "bill": bill, "kept": kept, "run": the_run}


def page(client, document) -> str:
    return client.get(f"/invoices/{document.pk}/").content.decode()


def act(client, document, action, **kwargs):
    return client.post(f"/invoices/{document.pk}/gone-in-package", {"action": action}, **kwargs)


@pytest.mark.parametrize("role", [Role.SUPER_ADMIN, Role.FINANCE])
def test_finance_and_super_admin_see_the_choices_for_a_voided_bill(client_for, world, role):
    html = page(client_for(role), world["bill"])
    assert 'id="gone-in-xero"' in html and 'id="gone-choices"' in html
    assert 'data-action="credit"' in html and 'data-action="post_again"' in html
    assert "Post again to Xero" in html
    assert "Acknowledge" in html


def test_a_voided_sales_invoice_says_why_it_cannot_be_posted_again(client_for, world):
    html = page(client_for(Role.FINANCE), world["invoice"])
    assert 'data-action="credit"' in html
    assert 'data-action="post_again"' not in html
    assert "Invoice # must be unique" in html


def test_a_viewer_sees_the_banner_but_no_choices(client_for, world):
    html = page(client_for(Role.VIEWER), world["bill"])
    assert 'id="gone-in-xero"' in html
    assert 'id="gone-choices"' not in html
    assert 'data-action="post_again"' not in html


@pytest.mark.parametrize("action", ["credit", "post_again"])
def test_a_viewer_posting_a_choice_gets_403(client_for, world, action):
    response = act(client_for(Role.VIEWER), world["bill"], action)
    assert response.status_code == 403
    assert SyncRecord.objects.get(document=world["bill"]).status == SyncStatus.POSTED
    assert not Document.objects.filter(original=world["bill"]).exists()


def test_a_document_still_in_the_package_shows_no_choices(client_for, world):
    assert 'id="gone-choices"' not in page(client_for(Role.FINANCE), world["kept"])


def test_credit_from_the_document_opens_the_draft_credit_note(client_for, world):
    response = act(client_for(Role.FINANCE), world["invoice"], "credit", follow=True)
    [credit_note] = Document.objects.filter(original=world["invoice"])
    assert credit_note.status == DocumentStatus.DRAFT
    assert response.redirect_chain[-1][0] == f"/invoices/{credit_note.pk}/"
    assert "Credit note drafted" in response.content.decode()


def test_post_again_from_the_document_queues_it(client_for, world):
    response = act(client_for(Role.FINANCE), world["bill"], "post_again", follow=True)
    assert "queued to be posted to Xero again" in response.content.decode()
    assert SyncRecord.objects.get(document=world["bill"]).status == SyncStatus.PENDING


@pytest.mark.parametrize(
    "action", ["post_again", "acknowledge", "nonsense", "", "<script>x</script>", "credit" * 500]
)
def test_a_choice_not_offered_is_refused_in_words_and_changes_nothing(client_for, world, action):
    # A sales invoice is never posted again; the others are not choices at all.
    response = act(client_for(Role.FINANCE), world["invoice"], action, follow=True)
    assert response.status_code == 200
    assert "That choice is not offered for this document any more." in response.content.decode()
    assert SyncRecord.objects.get(document=world["invoice"]).status == SyncStatus.POSTED


def test_a_choice_on_a_document_still_in_the_package_is_refused(client_for, world):
    response = act(client_for(Role.FINANCE), world["kept"], "credit", follow=True)
    assert "not offered" in response.content.decode()
    assert not Document.objects.filter(original=world["kept"]).exists()


def test_another_companys_document_is_not_found(client_for, world):
    other = make_company("Southern Freight plc")
    response = act(client_for(Role.FINANCE, of=other), world["bill"], "post_again")
    assert response.status_code == 404
    assert SyncRecord.objects.get(document=world["bill"]).status == SyncStatus.POSTED


def test_a_get_is_not_allowed(client_for, world):
    response = client_for(Role.FINANCE).get(f"/invoices/{world['bill'].pk}/gone-in-package")
    assert response.status_code == 405


# -- on the reconciliation page -----------------------------------------------------------


def row_of(world, document):
    return world["run"].rows.get(document=document)


def test_the_page_offers_the_rows_choices_and_says_why_not(client_for, world):
    response = client_for(Role.FINANCE).get(
        "/invoices/reconciliation/?date_from=2026-11-01&date_to=2026-11-30&tab=all"
    )
    html = response.content.decode()
    rows = {row.document_id: row for row in response.context["page"].object_list}
    bill = rows[world["bill"].pk]
    assert [a.action for a in bill.allowed.buttons] == ["credit", "post_again"]
    invoice = rows[world["invoice"].pk]
    assert [a.action for a in invoice.allowed.buttons] == ["credit"]
    assert "Invoice # must be unique" in html


@pytest.mark.parametrize("role", ROLES)
def test_the_rows_choices_by_role(client_for, world, role):
    row = row_of(world, world["bill"])
    response = client_for(role).post(
        f"/invoices/reconciliation/rows/{row.pk}/act", {"action": "post_again"}
    )
    if role == Role.VIEWER:
        assert response.status_code == 403
        assert SyncRecord.objects.get(document=world["bill"]).status == SyncStatus.POSTED
    else:
        assert response.status_code == 302
        assert SyncRecord.objects.get(document=world["bill"]).status == SyncStatus.PENDING


def test_credit_from_the_row_opens_the_draft(client_for, world):
    row = row_of(world, world["invoice"])
    response = client_for(Role.FINANCE).post(
        f"/invoices/reconciliation/rows/{row.pk}/act", {"action": "credit"}
    )
    [credit_note] = Document.objects.filter(original=world["invoice"])
    assert response["Location"] == f"/invoices/{credit_note.pk}/"


def test_posting_a_sales_invoice_again_from_its_row_is_refused(client_for, world):
    row = row_of(world, world["invoice"])
    response = client_for(Role.FINANCE).post(
        f"/invoices/reconciliation/rows/{row.pk}/act", {"action": "post_again"}, follow=True
    )
    assert "That action is not offered for this row any more." in response.content.decode()
    assert SyncRecord.objects.get(document=world["invoice"]).status == SyncStatus.POSTED


def test_acknowledging_from_the_document_page_returns_to_it(client_for, world):
    document = world["invoice"]
    row = row_of(world, document)
    html = page(client_for(Role.FINANCE), document)
    assert f'action="/invoices/reconciliation/rows/{row.pk}/acknowledge"' in html
    response = client_for(Role.FINANCE).post(
        f"/invoices/reconciliation/rows/{row.pk}/acknowledge",
        {"reason": "Voided with the customer's agreement", "next": f"/invoices/{document.pk}/"},
    )
    assert response["Location"] == f"/invoices/{document.pk}/"
    row.refresh_from_db()
    assert row.acknowledgement is not None
    # Acknowledged: the page keeps the banner and offers no choices any more.
    html = page(client_for(Role.FINANCE), document)
    assert 'id="gone-in-xero"' in html
    assert 'id="gone-choices"' not in html
