"""A button's address opened directly answers the site's page in words, not a blank 405."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import make_actor, make_document

pytestmark = pytest.mark.django_db


def test_opening_a_buttons_address_says_so_and_leads_back_to_its_page(client_for, company):
    document = make_document(make_actor(company, Role.FINANCE))
    response = client_for(Role.FINANCE).get(reverse("document_finalise", args=[document.pk]))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    page = response.content.decode()
    assert "This address is for a button" in page
    assert f'href="{reverse("document_detail", args=[document.pk])}"' in page


def test_the_page_leads_back_to_where_the_person_came_from_when_it_is_ours(client_for):
    response = client_for(Role.FINANCE).get(
        "/configuration/accounting/go-live/confirm", HTTP_REFERER="http://testserver/invoices"
    )
    assert response.status_code == 405
    assert 'href="http://testserver/invoices"' in response.content.decode()


def test_another_sites_address_is_never_offered_as_the_way_back(client_for):
    response = client_for(Role.FINANCE).get(
        "/configuration/accounting/go-live/confirm", HTTP_REFERER="https://evil.example/x"
    )
    assert "evil.example" not in response.content.decode()
    assert 'href="/configuration/accounting/go-live"' in response.content.decode()


def test_the_rest_api_keeps_its_own_answer(client_for):
    response = client_for(Role.FINANCE).delete("/api/documents")
    assert response.status_code == 405
    assert "This address is for a button" not in response.content.decode()
