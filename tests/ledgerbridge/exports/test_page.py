"""Invoices > Invoices Exports page: preview, export, batches, download, re-export."""

from __future__ import annotations

import pytest
from django.test import Client

from ledgerbridge.accounting.models import ExportBatch
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import NominalCode
from tests.ledgerbridge.factories import PASSWORD, line, make_document, make_user

from .conftest import purchase_invoice, sales_invoice

PAGE = "/invoices/exports/"


@pytest.fixture
def browser_for(company):
    def log_in(role: str = Role.FINANCE) -> Client:
        client = Client()
        assert client.login(username=make_user(company, role).username, password=PASSWORD)
        return client

    return log_in


def test_the_main_navigation_links_to_invoices_exports(browser_for):
    page = browser_for().get("/invoices/").content.decode()

    assert f'href="{PAGE}"' in page and 'title="Invoices Exports">Exports</a>' in page


def test_preview_lists_what_goes_in_and_what_is_left_out_with_reasons(
    browser_for, finance, customer, company
):
    kept = make_document(finance, partner=customer, lines=[line("freight")], finalise=True)
    blocked = sales_invoice(finance, customer)
    NominalCode.objects.filter(company=company, code="201").update(active=False)

    page = browser_for().get(PAGE, {"preview": "1"}).content.decode()

    assert kept.number in page and "Export 1 document to Xero" in page
    assert "Line 2: nominal code 201 is inactive." in page and blocked.number in page
    assert not ExportBatch.objects.exists()


def test_the_preview_answers_htmx_with_the_preview_alone(browser_for, finance, customer):
    sales_invoice(finance, customer)

    answer = browser_for().get(PAGE, {"preview": "1"}, HTTP_HX_REQUEST="true")

    assert answer.content.decode().lstrip().startswith('<div id="preview">')


def test_export_creates_a_batch_and_lists_it_with_a_download_link(
    browser_for, finance, customer, supplier
):
    sales_invoice(finance, customer)
    purchase_invoice(finance, supplier)
    client = browser_for()

    answer = client.post("/invoices/exports/new", {"document_type": ""}, follow=True)

    batch = ExportBatch.objects.get()
    page = answer.content.decode()
    assert "Export 1: 2 documents exported." in page
    assert f"/invoices/exports/{batch.pk}/download" in page and "ZIP (2 files)" in page


def test_download_sends_the_batchs_file(browser_for, finance, customer):
    sales_invoice(finance, customer)
    client = browser_for()
    client.post("/invoices/exports/new", {})
    batch = ExportBatch.objects.get()

    answer = client.get(f"/invoices/exports/{batch.pk}/download")

    assert answer["Content-Disposition"] == 'attachment; filename="xero-export-0001-sales-1.csv"'
    assert answer.content == bytes(batch.files.get().content)


def test_a_viewer_sees_batches_and_downloads_but_has_no_export_form(browser_for, finance, customer):
    sales_invoice(finance, customer)
    browser_for().post("/invoices/exports/new", {})
    viewer = browser_for(Role.VIEWER)

    page = viewer.get(PAGE).content.decode()

    assert "Export to Xero" not in page and "Download CSV" in page
    assert viewer.post("/invoices/exports/new", {}).status_code == 403


def test_reexport_without_a_reason_shows_the_error(browser_for, finance, customer):
    sales_invoice(finance, customer)
    client = browser_for()
    client.post("/invoices/exports/new", {})
    batch = ExportBatch.objects.get()

    answer = client.post(f"/invoices/exports/{batch.pk}/reexport", {"reason": ""}, follow=True)

    assert "Say why these documents are exported again" in answer.content.decode()
    answer = client.post(
        f"/invoices/exports/{batch.pk}/reexport", {"reason": "Lost the file"}, follow=True
    )
    assert "Export 2: 1 document exported." in answer.content.decode()


def test_a_building_batch_shows_progress_and_polls(browser_for, finance, customer, company):
    from django.utils import timezone

    from ledgerbridge.accounting.models import ExportBatchStatus

    ExportBatch.objects.create(
        company=company,
        number=1,
        status=ExportBatchStatus.BUILDING,
        document_count=10000,
        progress=2500,
        created_at=timezone.now(),
    )

    page = browser_for().get("/invoices/exports/batches").content.decode()

    assert 'hx-trigger="every 2s"' in page and "2500 / 10000" in page
