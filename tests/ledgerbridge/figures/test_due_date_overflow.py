"""An issue date whose due date would fall after 31 Dec 9999 is refused in words.

Found by the hostile-input property test: 9999-12-31 plus a partner's 30 days of
terms raised OverflowError (500 on the draft form, a vague 400 on the API).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.ledgerbridge.factories import make_partner

pytestmark = pytest.mark.django_db


def _line() -> dict[str, str]:
    return {
        "description": "Freight",
        "charge_type": "freight",
        "quantity": "1",
        "unit_price": "10",
        "nominal_code": "200",
        "tax_rate": "S20",
    }


def test_the_api_refuses_it_naming_the_issue_date(company, api):
    partner = make_partner(company)
    body = {"type": "sales_invoice", "partner_id": partner.pk, "issue_date": "9999-12-31"}
    response = api.post("/api/documents", {**body, "lines": [_line()]}, "application/json")
    assert response.status_code == 422
    assert "falls after 31 Dec 9999" in response.content.decode()


def test_the_draft_form_shows_it_again_with_the_reason(company, web):
    partner = make_partner(company)
    data = {
        "partner_id": str(partner.pk),
        "issue_date": "9999-12-31",
        **{f"line_{name}": value for name, value in _line().items()},
        "line_discount_percent": "0",
        "line_credited_line_id": "",
    }
    response = web.post(reverse("document_new"), data)
    assert response.status_code == 200
    assert "falls after 31 Dec 9999" in response.content.decode()
