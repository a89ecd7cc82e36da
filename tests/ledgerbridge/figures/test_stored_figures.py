"""A figure stored out of range never takes a page down.

SQLite keeps whatever it is given in a decimal column; reading a value wider
than the column used to raise on every read of the row, so one mistyped unit
price answered 500 on the invoice list, the document, its edit page, its PDF
and its delete, for every user of the company.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from ledgerbridge.invoicing.models import Document, DocumentLine
from tests.ledgerbridge.factories import make_document

from .conftest import sqlite_only, store_raw

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


def pages_of(document: Document) -> list[str]:
    pages = [
        reverse("invoice_list"),
        reverse("document_detail", args=[document.pk]),
        reverse("payments_outstanding"),
        reverse("exports_page"),
        f"/api/documents/{document.pk}",
        "/api/documents",
    ]
    if document.is_draft:
        pages.append(reverse("document_edit", args=[document.pk]))
    else:
        pages += [
            reverse("document_pdf", args=[document.pk]),
            reverse("document_credit", args=[document.pk]),
        ]
    return pages


@sqlite_only
def test_a_unit_price_wider_than_its_column_reads_back_on_every_page(finance, web, api):
    draft = make_document(finance)
    line = draft.lines.first()
    store_raw(line, "unit_price", HUGE)
    store_raw(line, "net_amount", HUGE)
    store_raw(draft, "net_total", HUGE)
    store_raw(draft, "gross_total", HUGE)

    # SQLite keeps it as a double: 15 significant digits.
    assert DocumentLine.objects.get(pk=line.pk).unit_price == Decimal("1E+20")
    for url in pages_of(draft):
        client = api if url.startswith("/api/") else web
        response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
    detail = web.get(reverse("document_detail", args=[draft.pk])).content.decode()
    assert "100,000,000,000,000,000,000.00" in detail


@sqlite_only
def test_a_final_document_with_a_huge_figure_still_renders_its_pdf(finance, web):
    final = make_document(finance, finalise=True)
    store_raw(final.lines.first(), "quantity", "1e30")
    store_raw(final, "gross_total", "1e30")
    for url in pages_of(final):
        client = web
        if url.startswith("/api/"):
            continue
        response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
    assert web.get(reverse("document_pdf", args=[final.pk])).content.startswith(b"%PDF")


@sqlite_only
@pytest.mark.parametrize("literal", ["9e999", "-9e999"])
def test_an_infinite_stored_figure_reads_as_not_a_number(finance, web, literal):
    draft = make_document(finance)
    store_raw(draft.lines.first(), "quantity", literal)
    assert DocumentLine.objects.get(pk=draft.lines.first().pk).quantity.is_nan()
    for url in pages_of(draft):
        if url.startswith("/api/"):
            continue
        assert web.get(url).status_code == 200, url


@sqlite_only
def test_a_draft_with_a_huge_figure_can_be_deleted_from_its_page(finance, web):
    draft = make_document(finance)
    store_raw(draft.lines.first(), "unit_price", HUGE)
    response = web.post(reverse("document_delete", args=[draft.pk]))
    assert response.status_code == 302
    assert not Document.objects.filter(pk=draft.pk).exists()


@sqlite_only
def test_a_draft_with_a_huge_figure_can_be_deleted_through_the_api(finance, api):
    draft = make_document(finance)
    store_raw(draft.lines.first(), "unit_price", HUGE)
    store_raw(draft, "gross_total", HUGE)
    assert api.delete(f"/api/documents/{draft.pk}").status_code == 204
    assert not Document.objects.filter(pk=draft.pk).exists()
