"""A control request with a body that is not a JSON object of fields (broken JSON, a
list, lines that are not a list) is refused with 400 and words, never a 500, and never
saved as an empty edit that fires an UPDATE for nothing."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import sales_invoice
from .test_xero_user import Org


@pytest.fixture
def org(sandbox_servers: Any) -> Org:
    return Org(sandbox_servers.get(webhook_batch_seconds=3600))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{bad", "The body is not JSON"),
        (b"[1, 2]", "The body must be a JSON object"),
        (b'{"LineItems": "x"}', "LineItems must be a list of lines."),
    ],
)
def test_a_body_that_is_not_fields_is_refused_in_words(org: Org, body: bytes, words: str) -> None:
    invoice = org.post_by_app("Invoices", sales_invoice(Status="AUTHORISED"))
    before = org.last_seq()
    answer = org.control.http.post(
        f"/sandbox/orgs/{org.tenant_id}/invoices/{invoice['InvoiceID']}",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert words in answer.json()["errors"][0]
    assert org.events(before) == []
