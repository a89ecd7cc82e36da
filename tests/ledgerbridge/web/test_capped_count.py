"""The invoice list's count under a Xero or payment filter stops at a cap."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ledgerbridge import paging
from ledgerbridge.companies.models import Role
from ledgerbridge.web.views import common
from tests.ledgerbridge.factories import make_actor, make_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_unsent(company, monkeypatch):
    # Pages of 2 and a cap of 3 stand for 50 and 10,000.
    monkeypatch.setattr(common, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    actor = make_actor(company)
    return [make_document(actor, lines=1) for _ in range(5)]


def test_past_the_cap_the_count_says_more_than_and_next_leads_on(client_for, five_unsent):
    html = client_for(Role.FINANCE).get(reverse("invoice_list"), {"xero": "not_sent"})
    html = html.content.decode()
    assert "1–2 of more than 3" in html
    assert "Page 1 of" not in html
    assert "Next ›" in html


def test_a_page_whose_count_ends_under_the_cap_counts_exactly(client_for, five_unsent):
    html = client_for(Role.FINANCE).get(reverse("invoice_list"), {"xero": "not_sent", "page": 2})
    html = html.content.decode()
    assert "3–4 of 5" in html
    assert "Page 2 of 3" in html


def test_without_a_xero_or_payment_filter_the_count_is_exact(client_for, five_unsent):
    html = client_for(Role.FINANCE).get(reverse("invoice_list")).content.decode()
    assert "1–2 of 5" in html
    assert "Page 1 of 3" in html


def test_a_search_counts_no_further_than_the_cap(client_for, company, monkeypatch):
    # A common word (a town) can match a fifth of a large ledger.
    monkeypatch.setattr(common, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    actor = make_actor(company)
    for trip in range(5):
        make_document(actor, lines=1, reference=f"Trip {trip} Humber")

    html = client_for(Role.FINANCE).get(reverse("invoice_list"), {"search": "humber"})

    assert "1–2 of more than 3" in html.content.decode()
