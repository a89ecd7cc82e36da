"""Partner text that cannot be stored is refused in words, on every database.

Found by the hostile-input property test on PostgreSQL: a NUL character or a
name longer than its column made the insert fail (a 400 saying "A number in the
request is out of range."); SQLite kept them.
"""

from __future__ import annotations

import pytest

from ledgerbridge.invoicing.models import Partner

pytestmark = pytest.mark.django_db


def _body(**fields):
    return {"kind": "customer", "number": "C9001", "name": "Acme Retail Ltd", **fields}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "Acme\x00"}, "name", "Name cannot contain a NUL character."),
        ({"city": "x" * 101}, "city", "City can have at most 100 characters."),
        ({"number": "C" * 31}, "number", "Partner number can have at most 30 characters."),
    ],
)
def test_the_api_refuses_it_naming_the_field(api, fields, field, message):
    response = api.post("/api/partners", _body(**fields), "application/json")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-1] == field
    assert error["msg"] == message
    assert not Partner.objects.filter(number__startswith="C9").exists()
