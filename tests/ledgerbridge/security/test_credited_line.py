"""A credit note's line credits a line of the invoice it corrects, and no other.

The credited line's id arrives from the browser (a hidden input of the draft form)
and from the API; another company's line, or a line of another invoice of the same
company, is refused with a message, by the service, and nothing is saved.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import api_token_create
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.models import Document, DocumentLine, DocumentType
from ledgerbridge.invoicing.services import (
    DocumentInput,
    credit_note_create_from_invoice,
    document_create,
)
from tests.ledgerbridge.factories import (
    PASSWORD,
    line,
    make_actor,
    make_company,
    make_document,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours():
    company = make_company("Northern Haulage Ltd")
    actor = make_actor(company)
    invoice = make_document(actor, lines=2, finalise=True)
    other_invoice = make_document(actor, lines=1, partner=invoice.partner, finalise=True)
    credit_note = credit_note_create_from_invoice(actor=actor, invoice_id=invoice.pk)
    return company, actor, invoice, other_invoice, credit_note


@pytest.fixture
def their_line():
    company = make_company("Zebra Freight plc")
    return make_document(make_actor(company), lines=1, finalise=True).lines.get()


def _credit_input(invoice: Document, credited_line_id: int | None) -> DocumentInput:
    item = line()
    item.credited_line_id = credited_line_id
    return DocumentInput(
        type=DocumentType.SALES_CREDIT_NOTE,
        partner_id=invoice.partner_id,
        issue_date=invoice.issue_date,
        original_id=invoice.pk,
        lines=[item],
    )


def _wrong_ids(ours, their_line) -> dict[str, int]:
    _, _, _, other_invoice, _ = ours
    return {
        "another company's line": their_line.pk,
        "a line of another invoice": other_invoice.lines.get().pk,
        "an id beyond the database's": 2**70,
    }


def test_the_service_refuses_a_credited_line_not_of_the_invoice_corrected(ours, their_line):
    _, actor, invoice, _, _ = ours
    before = Document.objects.count()
    for case, wrong in _wrong_ids(ours, their_line).items():
        with pytest.raises(ApplicationError) as refused:
            document_create(actor=actor, data=_credit_input(invoice, wrong))
        assert refused.value.field == "lines[0].credited_line_id", case
        assert f"not a line of {invoice.number}" in refused.value.message, case
    assert Document.objects.count() == before
    assert not DocumentLine.objects.filter(credited_line=their_line).exists()


def test_only_a_credit_note_can_credit_a_line(ours):
    _, actor, invoice, _, _ = ours
    item = line()
    item.credited_line_id = invoice.lines.first().pk
    data = DocumentInput(
        type=DocumentType.SALES_INVOICE,
        partner_id=invoice.partner_id,
        issue_date=invoice.issue_date,
        lines=[item],
    )
    with pytest.raises(ApplicationError, match="only a line of a credit note"):
        document_create(actor=actor, data=data)


def test_a_line_of_the_invoice_corrected_is_accepted(ours):
    _, actor, invoice, _, _ = ours
    own = invoice.lines.first()
    credit_note = document_create(actor=actor, data=_credit_input(invoice, own.pk))
    assert [ln.credited_line_id for ln in credit_note.lines.all()] == [own.pk]


# -- the draft form ------------------------------------------------------------------


def _form_data(credit_note: Document, credited_line_id: int) -> dict:
    first = credit_note.lines.first()
    return {
        "partner_id": str(credit_note.partner_id),
        "issue_date": "2026-11-21",
        "line_description": ["Partial credit"],
        "line_charge_type": ["freight"],
        "line_quantity": ["1"],
        "line_unit_price": [str(first.unit_price)],
        "line_discount_percent": ["0"],
        "line_nominal_code": [first.nominal_code.code],
        "line_tax_rate": [first.tax_rate.code],
        "line_credited_line_id": [str(credited_line_id)],
    }


def test_the_draft_form_refuses_a_credited_line_not_of_the_invoice(ours, their_line):
    company, _, invoice, _, credit_note = ours
    browser = Client()
    assert browser.login(username=make_user(company, Role.FINANCE).username, password=PASSWORD)
    kept = list(credit_note.lines.values_list("pk", "credited_line_id"))
    # (The form reads an id beyond the database's as no id at all.)
    real_ids = {k: v for k, v in _wrong_ids(ours, their_line).items() if v < 2**63}
    for case, wrong in real_ids.items():
        answer = browser.post(
            reverse("document_edit", args=[credit_note.pk]), _form_data(credit_note, wrong)
        )
        assert answer.status_code == 200, case
        assert f"Line 1: the credited line is not a line of {invoice.number}." in (
            answer.content.decode()
        ), case
        assert list(credit_note.lines.values_list("pk", "credited_line_id")) == kept, case


# -- the API ---------------------------------------------------------------------------


def _api(company) -> Client:
    _, raw = api_token_create(actor=make_actor(company, Role.SUPER_ADMIN), name="TMS")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _line_body(credited_line_id: int) -> dict:
    return {
        "description": "Credit",
        "charge_type": "freight",
        "quantity": "1",
        "unit_price": "10.00",
        "nominal_code": "200",
        "tax_rate": "S20",
        "credited_line_id": credited_line_id,
    }


def _refusal(answer) -> str:
    assert answer.status_code == 422, answer.content
    (detail,) = answer.json()["detail"]
    return detail["msg"]


def test_the_api_refuses_a_credited_line_not_of_the_invoice(ours, their_line):
    company, _, invoice, _, credit_note = ours
    api = _api(company)
    body = {
        "type": "sales_credit_note",
        "partner_id": invoice.partner_id,
        "issue_date": "2026-11-21",
        "original_id": invoice.pk,
    }
    before = Document.objects.count()
    kept = list(credit_note.lines.values_list("pk", "credited_line_id"))
    for case, wrong in _wrong_ids(ours, their_line).items():
        created = api.post(
            "/api/documents",
            {**body, "lines": [_line_body(wrong)]},
            content_type="application/json",
        )
        assert f"not a line of {invoice.number}" in _refusal(created), case
        updated = api.put(
            f"/api/documents/{credit_note.pk}",
            {**body, "lines": [_line_body(wrong)]},
            content_type="application/json",
        )
        assert f"not a line of {invoice.number}" in _refusal(updated), case
    assert Document.objects.count() == before
    assert list(credit_note.lines.values_list("pk", "credited_line_id")) == kept


def test_the_api_credit_refuses_quantities_for_lines_not_of_the_invoice(ours, their_line):
    company, _, invoice, other_invoice, _ = ours
    api = _api(company)
    before = Document.objects.count()
    for wrong in (their_line.pk, other_invoice.lines.get().pk):
        answer = api.post(
            f"/api/documents/{invoice.pk}/credit-notes",
            {"quantities": {str(wrong): "1", str(invoice.lines.first().pk): "1"}},
            content_type="application/json",
        )
        assert _refusal(answer) == f"Line id {wrong} is not a line of invoice {invoice.number}."
    assert Document.objects.count() == before


def test_the_api_shows_which_line_a_credit_note_line_credits(ours):
    company, _, invoice, _, credit_note = ours
    answer = _api(company).get(f"/api/documents/{credit_note.pk}")
    assert [ln["credited_line_id"] for ln in answer.json()["lines"]] == list(
        invoice.lines.values_list("pk", flat=True)
    )
