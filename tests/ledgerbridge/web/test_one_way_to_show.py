"""Pages show things one way: UK dates, money with its currency, labels in words,
Xero's voided or deleted state loud and filterable, nominal codes by side."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from ledgerbridge.accounting.models import (
    AccountingSettings,
    CreditAllocation,
    PaymentState,
    PaymentStatus,
    SyncRecord,
    SyncStatus,
)
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import DocumentType
from tests.ledgerbridge.factories import make_actor, make_document

pytestmark = pytest.mark.django_db


def posted(document, status: str, **amounts) -> PaymentState:
    record, _ = SyncRecord.objects.update_or_create(
        document=document,
        defaults={
            "company": document.company,
            "status": SyncStatus.POSTED,
            "external_id": f"x-{document.pk}",
            "external_number": document.number,
            "posted_at": timezone.now(),
        },
    )
    return PaymentState.objects.create(
        record=record,
        company=document.company,
        status=status,
        total=document.gross_total,
        last_checked_at=timezone.now(),
        **amounts,
    )


@pytest.fixture
def actor(company):
    # A company posting to Xero through the API: its list shows Xero's chips.
    AccountingSettings.objects.update_or_create(company=company, defaults={"package": "xero_api"})
    return make_actor(company, Role.FINANCE)


def test_dates_read_the_uk_way_without_a_leading_zero(client_for, actor):
    document = make_document(actor, finalise=True, issue_date=dt.date(2026, 11, 2))
    html = client_for().get(f"/invoices/{document.pk}/").content.decode()
    assert "2 Nov 2026" in html
    assert "02 Nov 2026" not in html


def test_an_unallocated_credit_note_is_not_said_to_be_unpaid(client_for, actor):
    invoice = make_document(actor, finalise=True)
    credit = make_document(actor, DocumentType.SALES_CREDIT_NOTE, finalise=True)
    posted(credit, PaymentStatus.UNPAID, amount_due=credit.gross_total)
    client = client_for()

    page = client.get(f"/invoices/{credit.pk}/").content.decode()
    assert 'id="payment-status">Not allocated<' in page
    assert "Unpaid" not in page
    listing = client.get("/invoices/").content.decode()
    assert ">Not allocated<" in listing

    state = posted(invoice, PaymentStatus.PARTLY_PAID, amount_due=Decimal("10000.00"))
    CreditAllocation.objects.create(
        state=state, kind="credit_note", external_id="cn", number=credit.number, amount=1
    )
    page = client.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "<td>Credit note</td>" in page and "Credit_note" not in page
    assert f"10,000.00 {invoice.currency}" in page  # due, with separators and currency


def test_a_document_xero_voided_has_a_banner_a_chip_and_a_filter(client_for, actor):
    voided = make_document(actor, finalise=True)
    kept = make_document(actor, finalise=True)
    posted(voided, PaymentStatus.VOIDED)
    posted(kept, PaymentStatus.UNPAID, amount_due=kept.gross_total)
    client = client_for()

    page = client.get(f"/invoices/{voided.pk}/").content.decode()
    assert 'id="gone-in-xero"' in page and "Voided in Xero." in page
    assert 'id="gone-in-xero"' not in client.get(f"/invoices/{kept.pk}/").content.decode()

    listing = client.get("/invoices/").content.decode()
    assert listing.count(">Voided in Xero<") == 1
    gone = client.get("/invoices/", {"xero": "gone"}).content.decode()
    numbers = set(re.findall(r"INV-\d{4}-\d{5}", gone.split('id="results"')[1]))
    assert numbers == {voided.number}


@pytest.mark.parametrize(
    ("doc_type", "own", "other"),
    [("sales_invoice", "revenue", "expense"), ("purchase_invoice", "expense", "revenue")],
)
def test_lines_offer_the_nominal_codes_of_their_side_and_the_rest_behind_show_all(
    client_for, company, doc_type, own, other
):
    from ledgerbridge.invoicing.models import NominalCode

    html = client_for().get("/invoices/new", {"type": doc_type}).content.decode()
    row = html.split('id="lines"')[1].split("</tr>")[0]
    for code in NominalCode.objects.filter(company=company, active=True):
        option = re.search(rf'<option value="{code.code}"[^>]*>', row)
        assert option is not None, code.code
        hidden = "data-other-side" in option.group(0) and "hidden" in option.group(0)
        assert hidden == (code.type == other), (code.code, code.type, option.group(0))
    assert 'id="show-all-codes"' in html
    assert own != other


def test_the_attempt_history_names_steps_and_outcomes_in_words(client_for, actor):
    from ledgerbridge.accounting.models import SyncAttempt

    document = make_document(actor, finalise=True)
    state = posted(document, PaymentStatus.PAID)
    SyncAttempt.objects.create(
        record=state.record,
        at=timezone.now(),
        action="attach",
        outcome="retry",
        message="x",
        call_id="93517e7b-5311-40f9-8047-9a4bbb3e2dc3",
    )
    html = client_for().get(f"/invoices/{document.pk}/").content.decode()
    assert "<td>Attach PDF</td><td>Will retry</td>" in html
    # The package's id for the call, which its support asks for.
    assert "<th>Call id</th>" in html
    assert ">93517e7b-5311-40f9-8047-9a4bbb3e2dc3</td>" in html


def test_an_export_never_adds_pounds_and_euros_together(client_for, company):
    from ledgerbridge.accounting.exports import ExportFilters, export_batch_create

    AccountingSettings.objects.update_or_create(company=company, defaults={"package": "xero_file"})
    admin = make_actor(company, Role.SUPER_ADMIN)
    gbp = make_document(admin, finalise=True)
    eur = make_document(admin, finalise=True, currency="EUR", exchange_rate="1.1500")
    batch = export_batch_create(actor=admin, filters=ExportFilters()).batch
    client = client_for()

    page = client.get(f"/invoices/exports/{batch.pk}/").content.decode()
    assert f"total {eur.gross_total:,.2f} EUR · {gbp.gross_total:,.2f} GBP" in page
    listing = client.get("/invoices/exports/").content.decode()
    assert f"<div>{eur.gross_total:,.2f} EUR</div><div>{gbp.gross_total:,.2f} GBP</div>" in listing
    assert f"{gbp.gross_total + eur.gross_total:,.2f}" not in page + listing


def test_a_task_on_its_way_says_when_it_started_not_that_it_was_completed(client_for, actor):
    document = make_document(actor, finalise=True)
    task = document.tasks.get()
    task.status, task.completed_at = "in_progress", timezone.now()
    task.save(update_fields=["status", "completed_at"])

    page = client_for().get(f"/invoices/{document.pk}/").content.decode()
    row = re.search(r'id="task-status-[^"]*".*?</tr>', page, re.S)
    assert row is not None
    assert "Started " in row.group(0)
    assert "Completed by" not in page


def test_the_invoice_list_shows_net_vat_and_total_each_with_its_currency(client_for, actor):
    gbp = make_document(actor, finalise=True)
    eur = make_document(actor, finalise=True, currency="EUR", exchange_rate="1.1500")

    listing = client_for().get("/invoices/").content.decode()

    for document in (gbp, eur):
        cur = f'<span class="cur">{document.currency}</span>'
        for amount in (document.net_total, document.tax_total, document.gross_total):
            assert f"{amount:,.2f} {cur}</td>" in listing
