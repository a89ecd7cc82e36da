"""Figures out of range are refused by the API with 422 naming the field and the
range, before anything is saved; a write is all or nothing, answer included."""

from __future__ import annotations

import pytest

from ledgerbridge.api import schemas
from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Document, DocumentLine
from tests.ledgerbridge.factories import (
    PASSWORD,
    make_actor,
    make_document,
    make_partner,
    make_user,
)

from .test_api import invoice_body

pytestmark = pytest.mark.django_db


def errors_by_field(response):
    return {error["field"]: error for error in response.json()["detail"]}


def test_a_huge_unit_price_is_refused_with_the_field_and_range_and_the_company_stays_up(
    api, company, client
):
    partner = make_partner(company)
    body = invoice_body(partner.pk)
    body["lines"][0]["unit_price"] = 99999999999999999999
    response = api.post("/api/documents", body, content_type="application/json")

    assert response.status_code == 422, response.content
    error = errors_by_field(response)["lines[0].unit_price"]
    assert error["loc"] == ["body", "lines", 0, "unit_price"]
    assert "between -9,999,999,999.9999 and 9,999,999,999.9999" in error["msg"]
    assert Document.objects.count() == 0 and DocumentLine.objects.count() == 0

    user = make_user(company, Role.FINANCE)
    client.defaults.pop("HTTP_AUTHORIZATION", None)
    assert client.login(username=user.username, password=PASSWORD)
    assert client.get("/invoices/").status_code == 200


def test_the_same_price_as_a_string_is_refused_the_same_way(api, company):
    body = invoice_body(make_partner(company).pk)
    body["lines"][0]["unit_price"] = "99999999999999999999"
    response = api.post("/api/documents", body, content_type="application/json")
    assert response.status_code == 422
    assert "lines[0].unit_price" in errors_by_field(response)


def test_every_bad_figure_of_every_line_is_reported_at_once(api, company):
    body = invoice_body(make_partner(company).pk)
    body["lines"][0].update(quantity="-2", discount_percent="150")
    body["lines"][1].update(quantity="1.00001", tax_rate="")
    response = api.post("/api/documents", body, content_type="application/json")
    assert response.status_code == 422
    errors = errors_by_field(response)
    assert set(errors) == {
        "lines[0].quantity",
        "lines[0].discount_percent",
        "lines[1].quantity",
        "lines[1].tax_rate",
    }
    assert errors["lines[0].discount_percent"]["msg"] == (
        "Line 1: discount must be between 0 and 100 %."
    )
    assert errors["lines[1].quantity"]["msg"] == (
        "Line 2: quantity can have at most 4 decimal places."
    )
    assert errors["lines[1].tax_rate"]["msg"] == "Line 2: choose a tax rate."
    assert Document.objects.count() == 0


def test_a_line_amount_that_would_not_fit_is_refused(api, company):
    body = invoice_body(make_partner(company).pk)
    body["lines"][0].update(quantity="99999999", unit_price="9999999999")
    response = api.post("/api/documents", body, content_type="application/json")
    assert response.status_code == 422
    error = errors_by_field(response)["lines[0].amount"]
    assert error["msg"] == (
        "Line 1: the line amount (quantity × unit price) would be 999,999,989,900,000,001.00; "
        "a line amount can be at most 999,999,999,999.99."
    )
    assert Document.objects.count() == 0


def test_a_document_total_that_would_not_fit_is_refused(api, company):
    body = invoice_body(make_partner(company).pk)
    for line in body["lines"]:
        line.update(quantity="100", unit_price="6000000000")
    response = api.post("/api/documents", body, content_type="application/json")
    assert response.status_code == 422
    error = errors_by_field(response)["lines"]
    assert error["msg"] == (
        "The document's total would be 1,440,000,000,000.00; it can be at most "
        "999,999,999,999.99. Split the charges over several documents."
    )
    assert Document.objects.count() == 0


def test_an_update_with_a_huge_figure_leaves_the_draft_as_it_was(api, company):
    actor = make_actor(company)
    draft = make_document(actor, partner=make_partner(company))
    before = draft.gross_total
    body = invoice_body(draft.partner_id)
    body["lines"][1]["quantity"] = "1e30"
    response = api.put(f"/api/documents/{draft.pk}", body, content_type="application/json")
    assert response.status_code == 422
    draft.refresh_from_db()
    assert draft.gross_total == before


def test_a_write_whose_answer_fails_saves_nothing(api, company, monkeypatch):
    def broken(*args):
        raise RuntimeError("reading the document back failed")

    monkeypatch.setattr(schemas.DocumentOut, "from_document", staticmethod(broken))
    body = invoice_body(make_partner(company).pk)
    with pytest.raises(RuntimeError):
        api.post("/api/documents", body, content_type="application/json")
    assert Document.objects.count() == 0


def test_the_openapi_schema_states_the_ranges(api):
    schema = api.get("/api/openapi.json").json()
    line = schema["components"]["schemas"]["LineIn"]["properties"]
    assert line["unit_price"]["maximum"] == 9999999999.9999
    assert line["discount_percent"]["maximum"] == 100
