import hashlib

import pytest

from ledgerbridge.companies.models import Role
from ledgerbridge.errors import NotFoundError
from ledgerbridge.invoicing.models import DocumentPdf
from ledgerbridge.invoicing.pdf import render_document_html
from ledgerbridge.invoicing.selectors import document_pdf_get
from tests.ledgerbridge.factories import make_actor, make_company, make_document

pytestmark = pytest.mark.django_db


def test_finalising_renders_and_stores_the_pdf_once_with_its_hash(
    django_capture_on_commit_callbacks,
):
    actor = make_actor(make_company("Northway Haulage Ltd"), Role.FINANCE)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        document = make_document(actor, finalise=True)  # the queue runs inline in tests
    assert len(callbacks) == 1
    stored = DocumentPdf.objects.get(document=document)
    content = bytes(stored.content)
    assert content.startswith(b"%PDF-")
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    again = document_pdf_get(actor=actor, document_id=document.pk)
    assert again.pk == stored.pk and again.sha256 == stored.sha256


def test_pdf_shows_company_partner_lines_tax_summary_and_totals():
    actor = make_actor(make_company("Northway Haulage Ltd"), Role.FINANCE)
    document = make_document(actor, finalise=True)
    html = render_document_html(document)
    for text in (
        "Northway Haulage Ltd",
        document.partner.name,
        document.number,
        "Freight Leeds - Hull",
        "Standard rate sales",
        f"{document.gross_total:,.2f}",
        "Payment terms: 30 days",
    ):
        assert text in html


def test_a_draft_has_no_pdf():
    actor = make_actor(make_company(), Role.FINANCE)
    draft = make_document(actor)
    with pytest.raises(NotFoundError, match="finalise it first"):
        document_pdf_get(actor=actor, document_id=draft.pk)
