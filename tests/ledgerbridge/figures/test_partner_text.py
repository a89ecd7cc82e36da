"""Text that cannot be stored is refused in words, on every database: a partner's,
a document's header and its lines' (which used to be cut short silently).

Found by the hostile-input property test on PostgreSQL: a NUL character or a
name longer than its column made the insert fail (a 400 saying "A number in the
request is out of range."); SQLite kept them.
"""

from __future__ import annotations

import pytest

from ledgerbridge.invoicing.models import Document, Partner
from tests.ledgerbridge.api.test_api import invoice_body
from tests.ledgerbridge.factories import make_partner

pytestmark = pytest.mark.django_db


def _body(**fields):
    return {"kind": "customer", "number": "C9001", "name": "Acme Retail Ltd", **fields}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "Acme\x00"}, "name", "Name cannot contain a NUL character."),
        ({"city": "x" * 101}, "city", "City can have at most 100 characters (this has 101)."),
        (
            {"number": "C" * 31},
            "number",
            "Partner number can have at most 30 characters (this has 31).",
        ),
    ],
)
def test_the_api_refuses_it_naming_the_field(api, fields, field, message):
    response = api.post("/api/partners", _body(**fields), "application/json")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-1] == field
    assert error["msg"] == message
    assert not Partner.objects.filter(number__startswith="C9").exists()


@pytest.mark.parametrize(
    ("header", "line", "field", "message"),
    [
        ({"reference": "PO\x00"}, {}, "reference", "Reference cannot contain a NUL character."),
        (
            {"reference": "R" * 101},
            {},
            "reference",
            "Reference can have at most 100 characters (this has 101).",
        ),
        ({"notes": "a\x00b"}, {}, "notes", "Notes cannot contain a NUL character."),
        (
            {},
            {"description": "d" * 501},
            "lines[0].description",
            "Line 1: Description can have at most 500 characters (this has 501).",
        ),
        (
            {},
            {"description": "Trunk\x00"},
            "lines[0].description",
            "Line 1: Description cannot contain a NUL character.",
        ),
    ],
)
def test_document_text_that_cannot_be_stored_is_refused_naming_the_field(
    api, company, header, line, field, message
):
    body = invoice_body(make_partner(company).pk)
    body.update(header)
    body["lines"][0].update(line)
    response = api.post("/api/documents", body, "application/json")
    assert response.status_code == 422, response.content
    errors = {error["field"]: error["msg"] for error in response.json()["detail"]}
    assert errors[field] == message
    assert not Document.objects.filter(company=company).exists()
