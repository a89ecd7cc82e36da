"""What an export leaves behind: a mark on each document (page, list, REST API), a batch
page listing its documents and what it left out, and the override on the export page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from ledgerbridge.accounting.exports import ExportFilters, export_batch_create
from ledgerbridge.accounting.models import AccountingSettings, ExportBatch, SyncRecord, SyncStatus
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.companies.services import api_token_create
from ledgerbridge.invoicing.models import NominalCode
from tests.ledgerbridge.factories import PASSWORD, line, make_actor, make_document, make_user

from .conftest import purchase_invoice, sales_invoice

EXPORTED_AT = dt.datetime(2026, 11, 20, 16, 5, tzinfo=dt.UTC)


@pytest.fixture
def fiona(company) -> Actor:
    """A Finance user with a name, logged in through ``client``."""
    user = make_user(company, Role.FINANCE, username="fiona")
    return Actor(company=company, role=Role.FINANCE, user=user)


@pytest.fixture
def client(fiona) -> Client:
    client = Client()
    assert client.login(username="fiona", password=PASSWORD)
    return client


@pytest.fixture
def api(company) -> Client:
    _, raw = api_token_create(
        actor=make_actor(company, Role.SUPER_ADMIN), name="TMS", role=Role.FINANCE
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def exported(actor, **kwargs) -> ExportBatch:
    return export_batch_create(
        actor=actor, filters=ExportFilters(), now=EXPORTED_AT, **kwargs
    ).batch


def in_xero(document, status: str = SyncStatus.POSTED) -> None:
    """The outbox's record of a document posted (or queued) through the API."""
    SyncRecord.objects.create(
        company=document.company,
        document=document,
        status=status,
        external_number=document.number if status == SyncStatus.POSTED else "",
        posted_at=timezone.now() if status == SyncStatus.POSTED else None,
    )


MARK = "Exported to Xero file, batch 1, 20 Nov 2026 16:05, by fiona"


def test_the_document_page_says_when_and_by_whom_it_was_exported(client, fiona, customer):
    invoice = sales_invoice(fiona, customer)
    batch = exported(fiona)

    page = client.get(f"/invoices/{invoice.pk}/").content.decode()

    assert MARK in page
    assert f'href="/invoices/exports/{batch.pk}/"' in page


def test_the_invoice_list_marks_exported_documents_with_a_link_to_the_batch(
    client, fiona, customer
):
    invoice = sales_invoice(fiona, customer)
    other = sales_invoice(fiona, customer, issue_date=dt.date(2026, 12, 1))
    batch = export_batch_create(
        actor=fiona, filters=ExportFilters(date_to=dt.date(2026, 11, 30)), now=EXPORTED_AT
    ).batch

    page = client.get("/invoices/").content.decode()

    chip = f'href="/invoices/exports/{batch.pk}/" title="{MARK}">Exported · batch 1</a>'
    assert page.count(chip) == 1  # the December invoice was not exported
    assert batch.entries.get().document_id == invoice.pk and other.number in page


def test_the_invoice_list_of_a_company_on_xero_api_marks_exported_documents(
    client, fiona, customer, company
):
    AccountingSettings.objects.create(company=company, package="xero_api")
    sales_invoice(fiona, customer)  # its record waits in the outbox
    SyncRecord.objects.all().delete()  # as if its task had not been completed
    exported(fiona)

    page = client.get("/invoices/").content.decode()

    assert f'title="{MARK}">Exported · batch 1</a>' in page
    assert ">Not sent</span>" not in page


def test_the_rest_api_shows_the_export_on_the_document_and_in_the_list(
    api, fiona, customer, supplier
):
    invoice = sales_invoice(fiona, customer)
    purchase_invoice(fiona, supplier)
    batch = exported(fiona)

    body = api.get(f"/api/documents/{invoice.pk}").json()
    listed = api.get("/api/documents").json()["items"]

    assert body["exports"] == [
        {
            "batch_id": batch.pk,
            "batch_number": 1,
            "exported_at": "2026-11-20T16:05:00Z",
            "exported_by": "fiona",
            "reexport": False,
            "in_xero": False,
            "batch_url": f"/api/exports/{batch.pk}",
            "description": MARK,
        }
    ]
    assert [d["exports"][0]["batch_number"] for d in listed] == [1, 1]


def test_the_batch_page_lists_its_documents_with_links_and_what_was_left_out(
    client, fiona, customer, supplier, company
):
    invoice = make_document(fiona, partner=customer, lines=[line("freight")], finalise=True)
    bill = purchase_invoice(fiona, supplier)
    posted = sales_invoice(fiona, customer)
    in_xero(posted)
    blocked = sales_invoice(fiona, customer)  # its fuel surcharge line is coded 201
    NominalCode.objects.filter(company=company, code="201").update(active=False)
    batch = exported(fiona)

    page = client.get(f"/invoices/exports/{batch.pk}/").content.decode()

    documents = page[page.index("Documents in this export") : page.index("Left out")]
    for document, partner in ((invoice, customer), (bill, supplier)):
        assert f'href="/invoices/{document.pk}/">{document.number}</a>' in documents
        assert partner.name.replace("'", "&#x27;") in documents
    assert "Purchase invoice" in documents and "2 Nov 2026" in documents
    assert f'{bill.gross_total:,.2f} <span class="cur">GBP</span>' in documents
    left_out = page[page.index("Left out: already in Xero through the API") :]
    assert f'href="/invoices/{posted.pk}/"' in left_out
    assert f"Already in Xero through the API as {posted.number}." in left_out
    assert f'href="/invoices/{blocked.pk}/"' in left_out
    assert "nominal code 201 is inactive" in left_out


def test_the_batch_list_links_each_batch_to_its_page(client, fiona, customer):
    sales_invoice(fiona, customer)
    batch = exported(fiona)

    page = client.get("/invoices/exports/").content.decode()

    assert f'<a href="/invoices/exports/{batch.pk}/" aria-label="Export 1">1</a>' in page


def test_the_export_page_lists_documents_already_in_xero_and_offers_the_override(
    client, fiona, customer, supplier
):
    posted = sales_invoice(fiona, customer)
    in_xero(posted)
    waiting = sales_invoice(fiona, customer)
    in_xero(waiting, SyncStatus.PENDING)
    kept = purchase_invoice(fiona, supplier)

    page = client.get("/invoices/exports/", {"preview": "1"}).content.decode()

    assert "Export 1 document to Xero" in page
    left_out = page[page.index("Left out: already in Xero through the API") :]
    assert f'href="/invoices/{posted.pk}/"' in left_out
    assert f'href="/invoices/{waiting.pk}/"' in left_out and "the worker will post it" in left_out
    assert "Put the 1 already in Xero in the file too" in left_out
    assert kept.number not in left_out


def test_exporting_with_the_override_from_the_page_needs_a_reason_and_is_audited(
    client, fiona, customer
):
    posted = sales_invoice(fiona, customer)
    in_xero(posted)
    sales_invoice(fiona, customer)

    refused = client.post(
        "/invoices/exports/new", {"include_in_xero": "1", "in_xero_reason": ""}, follow=True
    )
    assert "Say why documents already in Xero" in refused.content.decode()
    assert not ExportBatch.objects.exists()

    answer = client.post(
        "/invoices/exports/new",
        {"include_in_xero": "1", "in_xero_reason": "New Xero organisation"},
        follow=True,
    )

    batch = ExportBatch.objects.get()
    assert answer.redirect_chain[-1][0] == f"/invoices/exports/{batch.pk}/"
    page = answer.content.decode()
    assert "Export 1: 2 documents exported." in page
    assert "Includes documents already in Xero through the API, on purpose: New Xero" in page
    assert "also in Xero via API" in page
    assert AuditEntry.objects.get(action="documents already in Xero exported").changes == {
        "reason": "New Xero organisation",
        "documents": [posted.number],
    }


def test_the_rest_api_override_needs_a_reason(api, fiona, customer):
    posted = sales_invoice(fiona, customer)
    in_xero(posted)

    refused = api.post("/api/exports", {"include_in_xero": True}, content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "in_xero_reason"]
    left_out = api.get("/api/exports/preview").json()["left_out"]
    assert [(i["document_id"], i["kind"]) for i in left_out] == [(posted.pk, "in_xero")]

    answer = api.post(
        "/api/exports",
        {"include_in_xero": True, "in_xero_reason": "New Xero organisation"},
        content_type="application/json",
    )

    assert answer.status_code == 201, answer.content
    batch = answer.json()["batch"]
    assert (batch["document_count"], batch["in_xero_reason"]) == (1, "New Xero organisation")
    assert api.get(f"/api/documents/{posted.pk}").json()["exports"][0]["in_xero"] is True
