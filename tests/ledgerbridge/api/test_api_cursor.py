"""``GET /api/documents`` walked by cursor: every document once, newest first, and a count that stops."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from ledgerbridge import paging
from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import make_actor, make_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven(company):
    # Two on some days, so the cursor has to tell documents of one day apart.
    actor = make_actor(company, Role.FINANCE)
    days = [1, 1, 2, 3, 3, 3, 4]
    return [make_document(actor, issue_date=dt.date(2026, 11, day)) for day in days]


def test_following_next_reads_every_document_once_in_the_lists_order(api, seven):
    by_page = api.get("/api/documents", {"page_size": 7}).json()["items"]
    walked, after = [], None
    while True:
        query = {"page_size": 2} | ({"after": after} if after else {})
        page = api.get("/api/documents", query).json()
        walked += page["items"]
        after = page["next"]
        if after is None:
            break

    assert [item["id"] for item in walked] == [item["id"] for item in by_page]
    assert len(walked) == 7


def test_a_page_number_also_gives_the_cursor_to_the_page_after_it(api, seven):
    second = api.get("/api/documents", {"page": 2, "page_size": 2}).json()
    third = api.get("/api/documents", {"page": 3, "page_size": 2}).json()

    following = api.get("/api/documents", {"after": second["next"], "page_size": 2}).json()

    assert following["items"] == third["items"]


def test_the_last_page_has_no_next(api, seven):
    page = api.get("/api/documents", {"page": 4, "page_size": 2}).json()

    assert len(page["items"]) == 1
    assert page["next"] is None


def test_past_the_cap_the_count_says_there_are_more(api, seven, monkeypatch):
    # A cap of 3 stands for 10,000.
    monkeypatch.setattr(paging, "COUNT_CAP", 3)

    first = api.get("/api/documents", {"page_size": 2}).json()
    walked = api.get("/api/documents", {"page_size": 2, "after": first["next"]}).json()

    assert (first["count"], first["count_capped"]) == (4, True)
    assert (walked["count"], walked["count_capped"]) == (4, True)


def test_a_page_whose_count_ends_under_the_cap_counts_exactly(api, seven, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 3)

    page = api.get("/api/documents", {"page": 3, "page_size": 2}).json()

    assert (page["count"], page["count_capped"]) == (7, False)


def test_a_cursor_the_list_did_not_give_is_refused_in_words(api, seven):
    response = api.get("/api/documents", {"after": "not-a-cursor"})

    assert response.status_code == 422
    assert "not a `next` this list gave" in response.content.decode()


def test_a_cursor_naming_an_id_beyond_the_databases_is_refused_not_a_500(api, seven):
    forged = base64.urlsafe_b64encode(b"2026-11-01." + b"9" * 30).decode()

    response = api.get("/api/documents", {"after": forged})

    assert response.status_code == 422
