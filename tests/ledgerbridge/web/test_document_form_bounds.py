"""The draft form reports every bad figure of every line in one round, keeps what
was typed, reads the obvious forms of a number, and starts purchase lines with the
company's purchase tax rate."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Document, NumberSeries
from tests.ledgerbridge.factories import make_partner

from .test_documents import line, post_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(company):
    return make_partner(company, name="Acme Retail Ltd")


def test_four_bad_fields_on_one_line_are_all_reported_and_kept(client_for, customer):
    data = post_data(
        customer,
        line(quantity="1,5", unit_price="99999999999999999999", discount="150", tax=""),
        line(description="Waiting time", quantity="-2", unit_price="£100"),
    )
    response = client_for(Role.FINANCE).post(reverse("document_new") + "?type=sales_invoice", data)
    assert response.status_code == 200
    html = response.content.decode()
    for message in [
        "Line 1: quantity “1,5” is ambiguous: use a dot for decimals",
        "Line 1: unit price must be between -9,999,999,999.9999 and 9,999,999,999.9999.",
        "Line 1: discount must be between 0 and 100 %.",
        "Line 1: choose a tax rate.",
        "Line 2: quantity must be between 0.0001 and 99,999,999.9999.",
    ]:
        assert message in html
    # What was typed stays in the inputs, marked.
    assert 'name="line_quantity" value="1,5"' in html
    assert 'name="line_unit_price" value="99999999999999999999"' in html
    assert 'name="line_discount_percent" value="150"' in html
    assert 'name="line_unit_price" value="£100"' in html
    assert len(re.findall(r'aria-invalid="true"', html)) == 5
    assert Document.objects.count() == 0


def test_line_errors_are_reported_even_when_the_header_is_incomplete(client_for, customer):
    data = post_data(customer, line(quantity="abc"), partner_id="")
    html = client_for(Role.FINANCE).post(reverse("document_new"), data).content.decode()
    assert "This field is required." in html
    assert "Line 1: quantity “abc” is not a number." in html


def test_obvious_forms_of_a_number_are_saved(client_for, customer):
    data = post_data(customer, line(quantity=" 1 ", unit_price="£1,250.50", discount="10"))
    response = client_for(Role.FINANCE).post(reverse("document_new"), data)
    assert response.status_code == 302
    saved = Document.objects.get().lines.get()
    assert saved.unit_price == Decimal("1250.50")
    assert saved.net_amount == Decimal("1125.45")


def test_a_new_purchase_line_starts_with_the_purchase_tax_rate(client_for, company):
    make_partner(company, "supplier", name="Diesel Direct")
    html = (
        client_for(Role.FINANCE)
        .get(reverse("document_new") + "?type=purchase_invoice")
        .content.decode()
    )
    assert re.search(r'<option value="S20P" data-rate="[\d.]+" selected>', html)


def test_the_bulk_post_ignores_ids_no_record_can_have(client_for):
    response = client_for(Role.FINANCE).post(
        reverse("documents_post_bulk"), {"document": ["99999999999999999999", "-1", "x"]}
    )
    assert response.status_code == 302


@pytest.fixture
def admin(client_for):
    return client_for(Role.SUPER_ADMIN)


def test_a_huge_next_number_is_refused_on_the_form(admin, company):
    series = NumberSeries.objects.get(company=company, document_type="sales_invoice")
    response = admin.post(
        reverse("config_number_series_edit", args=[series.pk]),
        {
            "prefix": "INV-",
            "padding": "5",
            "reset_yearly": "on",
            "next_number": "9223372036854775807",
        },
    )
    assert response.status_code == 200
    assert "Next number must be between 1 and 999,999,999." in response.content.decode()
    series.refresh_from_db()
    assert series.next_number == 1


def test_a_huge_padding_is_refused_on_the_form(admin, company):
    series = NumberSeries.objects.get(company=company, document_type="sales_invoice")
    response = admin.post(
        reverse("config_number_series_edit", args=[series.pk]),
        {"prefix": "INV-", "padding": "99999999999999999999", "next_number": "5"},
    )
    assert response.status_code == 200
    assert "Padding must be between 1 and 12." in response.content.decode()


def test_a_huge_dimension_position_is_refused_on_the_form(admin, company):
    response = admin.post(
        reverse("config_dimensions"),
        {"name": "Depot", "position": "99999999999999999999", "active": "on"},
    )
    assert response.status_code == 200
    assert "Position must be between 0 and 9,999." in response.content.decode()


def test_a_huge_rule_position_is_refused_on_the_form(admin, company):
    from ledgerbridge.invoicing.models import Dimension

    dimension = Dimension.objects.filter(company=company).first()
    response = admin.post(
        reverse("config_dimension_rule_new", args=[dimension.pk]),
        {
            "position": "99999999999999999999",
            "value_id": str(dimension.values.first().pk),
            "cond_field": [""],
            "cond_op": ["equals"],
            "cond_value": [""],
        },
    )
    assert response.status_code == 200
    assert "Position must be between 0 and 9,999." in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/invoices/99999999999999999999/",
        "/invoices/99999999999999999999/edit",
        "/configuration/dimensions/99999999999999999999/",
    ],
)
def test_an_id_no_record_can_have_in_a_page_address_is_not_found(admin, path):
    assert admin.get(path).status_code == 404
