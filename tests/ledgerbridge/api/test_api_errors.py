"""Every refusal of the API in the documented shape: loc, field, msg in words, type."""

from __future__ import annotations

import pytest

from ledgerbridge.api.errors import error_words, field_name, schema_error

pytestmark = pytest.mark.django_db


def _errors(response) -> list[dict]:
    assert response.status_code == 422, response.content
    return response.json()["detail"]


def test_a_date_that_does_not_exist_is_refused_in_words_naming_the_field(api):
    [wrong, missing] = _errors(
        api.post("/api/reconciliation/runs", {"date_from": "2026-02-30"}, "application/json")
    )
    assert wrong == {
        "loc": ["body", "date_from"],
        "field": "date_from",
        "msg": "Enter a real date (YYYY-MM-DD): 2026-02-30 is not one.",
        "type": "invalid",
    }
    assert missing == {
        "loc": ["body", "date_to"],
        "field": "date_to",
        "msg": "Required: send date_to.",
        "type": "missing",
    }


def test_a_line_field_the_schema_refuses_is_named_as_the_services_name_it(api):
    body = {"type": "sales_invoice", "lines": [{"unit_price": "abc"}]}
    errors = {e["field"]: e for e in _errors(api.post("/api/documents", body, "application/json"))}
    price = errors["lines[0].unit_price"]
    assert price["loc"] == ["body", "lines", 0, "unit_price"]
    assert price["msg"] == "Line 1: enter a number (e.g. 12.50): abc is not one."
    assert errors["partner_id"]["msg"] == "Required: send partner_id."


def test_query_and_path_parameters_are_named_as_such(api):
    [error] = _errors(api.get("/api/documents?page_size=abc"))
    assert (error["loc"], error["field"]) == (["query", "page_size"], "page_size")
    assert error["msg"] == "Query parameter page_size: enter a whole number: abc is not one."
    [error] = _errors(api.get("/api/documents/abc"))
    assert (error["loc"], error["field"]) == (["path", "document_id"], "document_id")
    assert error["msg"] == "Enter a whole number: abc is not one."


def test_the_words_for_kinds_of_refusal():
    assert field_name(["lines", 1, "quantity"]) == "lines[1].quantity"
    literal = {"type": "literal_error", "input": "x", "ctx": {"expected": "'a' or 'b'"}}
    assert error_words(literal, where="body") == "Choose one of a or b: x is not one."
    bound = {"type": "greater_than_equal", "input": -1, "ctx": {"ge": 0}}
    assert error_words(bound, where="body") == "Must be at least 0: -1 is not."
    long = {"type": "int_parsing", "input": "9" * 100}
    assert len(error_words(long, where="body")) < 80
    other = {"type": "something_new", "msg": "Value error, no good"}
    assert error_words(other, where="body") == "no good."
    assert schema_error(
        {"type": "missing", "loc": ("payload", "reason")}, where="body", body_arg="payload"
    )["loc"] == ["body", "reason"]
