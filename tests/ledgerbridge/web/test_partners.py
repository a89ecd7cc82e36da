"""Customers and suppliers through the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Partner
from tests.ledgerbridge.factories import make_partner

pytestmark = pytest.mark.django_db


def partner_post(**overrides):
    data = {
        "kind": "customer",
        "number": "C9001",
        "name": "Acme Retail Ltd",
        "vat_number": "",
        "email": "ap@acme.example",
        "address_line1": "1 High Street",
        "address_line2": "",
        "city": "York",
        "postcode": "YO1 1AA",
        "country": "GB",
        "currency": "GBP",
        "payment_terms_days": "45",
    }
    data.update(overrides)
    return data


def test_creating_a_customer(client_for, company):
    response = client_for(Role.FINANCE).post(reverse("partner_new"), partner_post())
    assert response.status_code == 302
    partner = Partner.objects.get(company=company, number="C9001")
    assert (partner.kind, partner.payment_terms_days) == ("customer", 45)


def test_a_used_partner_number_is_refused_next_to_the_number(client_for, company):
    make_partner(company, number="C9001")
    response = client_for(Role.FINANCE).post(reverse("partner_new"), partner_post())
    assert b"Partner number C9001 is already used." in response.content
    assert b'id="id_number_error"' in response.content


def test_bad_payment_terms_are_refused(client_for, company):
    response = client_for(Role.FINANCE).post(
        reverse("partner_new"), partner_post(payment_terms_days="400")
    )
    assert b"Payment terms must be between 0 and 365 days." in response.content
    assert not Partner.objects.filter(company=company).exists()


def test_editing_a_supplier(client_for, company):
    supplier = make_partner(company, "supplier", name="Diesel Direct")
    url = reverse("partner_detail", args=[supplier.pk])
    client = client_for(Role.FINANCE)
    assert b"Diesel Direct" in client.get(url).content
    data = partner_post(name="Diesel Direct Ltd", country="IE", currency="EUR")
    del data["kind"], data["number"]
    response = client.post(url, data)
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.name, supplier.country, supplier.currency, supplier.active) == (
        "Diesel Direct Ltd",
        "IE",
        "EUR",
        False,
    )


def test_partner_list_filters_by_kind_and_search(client_for, company):
    make_partner(company, name="Acme Retail Ltd")
    make_partner(company, "supplier", name="Diesel Direct")
    client = client_for(Role.VIEWER)
    html = client.get(reverse("partner_list") + "?kind=supplier").content.decode()
    assert "Diesel Direct" in html and "Acme Retail" not in html
    html = client.get(reverse("partner_list") + "?search=acme").content.decode()
    assert "Acme Retail" in html and "Diesel Direct" not in html
