"""Partner pickers: every partner listed while they are few, a search beyond that."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Document, Partner
from ledgerbridge.web.forms import PICKER_LISTED
from tests.ledgerbridge.factories import make_actor, make_document, make_partner
from tests.ledgerbridge.web.test_documents import line, post_data

pytestmark = pytest.mark.django_db


def options(html: str, select_id: str) -> list[str]:
    """The texts of the options of the select with that id."""
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select #{select_id}"
    return [text.strip() for text in re.findall(r"<option[^>]*>(.*?)</option>", select[1], re.S)]


def many_customers(company, count=PICKER_LISTED + 1):
    return [make_partner(company, name=f"Haulier {i:03d} Ltd") for i in range(count)]


def test_a_few_partners_are_all_listed_with_no_search_box(client_for, company):
    make_partner(company, name="Acme Retail Ltd")
    make_partner(company, "supplier", name="Diesel Direct")
    html = client_for(Role.FINANCE).get(reverse("invoice_list")).content.decode()
    assert [o.split(" (")[0] for o in options(html, "id_partner")] == [
        "All partners",
        "Acme Retail Ltd",
        "Diesel Direct",
    ]
    assert "partner-search" not in html


def test_many_partners_are_searched_for_and_the_chosen_one_stays_shown(client_for, company):
    customers = many_customers(company)
    chosen = customers[-1]
    actor = make_actor(company)
    mine = make_document(actor, partner=chosen, order_reference="ORD-CHOSEN")
    make_document(actor, partner=customers[0], order_reference="ORD-OTHER")
    client = client_for(Role.FINANCE)

    html = client.get(reverse("invoice_list")).content.decode()
    assert options(html, "id_partner") == ["All partners"]
    assert 'class="partner-search"' in html
    assert f'hx-get="{reverse("partner_options")}?empty=All+partners"' in html

    html = client.get(reverse("invoice_list"), {"partner": chosen.pk}).content.decode()
    assert options(html, "id_partner") == ["All partners", str(chosen)]
    assert f'<option value="{chosen.pk}" selected>' in html
    assert reverse("document_detail", args=[mine.pk]) in html
    assert "ORD-OTHER" not in html


def test_the_options_are_the_matches_after_the_chosen_partner(client_for, company):
    customers = many_customers(company)
    make_partner(company, "supplier", name="Haulier Fuel Supplies")
    client = client_for(Role.FINANCE)
    html = client.get(
        reverse("partner_options"),
        {
            "kind": "customer",
            "empty": "All customers",
            "find_partner": "haulier 01",
            "partner": customers[30].pk,
        },
    ).content.decode()
    texts = [re.sub(r" \(.*", "", t) for t in re.findall(r"<option[^>]*>(.*?)</option>", html)]
    assert texts == ["All customers", "Haulier 030 Ltd", *[f"Haulier 01{i} Ltd" for i in range(10)]]
    assert f'<option value="{customers[30].pk}" selected>' in html


def test_a_search_matching_more_than_are_shown_says_so(client_for, company):
    many_customers(company)
    html = (
        client_for(Role.FINANCE)
        .get(reverse("partner_options"), {"find_partner": "Haulier"})
        .content.decode()
    )
    assert html.count('<option value="') == PICKER_LISTED + 2  # empty, matches, "more"
    assert "More match: type more of the name or number" in html


def test_the_options_hold_only_the_current_companys_partners(client_for, company, other_company):
    theirs = make_partner(other_company, name="Zebra Secret Logistics")
    make_partner(company, name="Zebra Crossing Ltd")
    html = (
        client_for(Role.FINANCE)
        .get(reverse("partner_options"), {"find_partner": "Zebra", "partner": theirs.pk})
        .content.decode()
    )
    assert "Zebra Crossing Ltd" in html
    assert "Secret" not in html
    assert f'value="{theirs.pk}"' not in html


def test_a_document_takes_a_customer_that_was_searched_for(client_for, company):
    customers = many_customers(company)
    client = client_for(Role.FINANCE)
    url = reverse("document_new") + "?type=sales_invoice"
    html = client.get(url).content.decode()
    assert options(html, "id_partner_id") == ["Choose a customer"]
    assert "?kind=customer&amp;active=1&amp;empty=Choose+a+customer" in html
    response = client.post(url, post_data(customers[-1], line()))
    assert response.status_code == 302
    assert Document.objects.get(company=company).partner_id == customers[-1].pk
    html = client.get(reverse("document_edit", args=[Document.objects.get().pk])).content.decode()
    assert options(html, "id_partner_id") == ["Choose a customer", str(customers[-1])]


def test_a_document_refuses_another_companys_or_an_inactive_partner(
    client_for, company, other_company
):
    many_customers(company)
    inactive = make_partner(company, name="Gone Away Ltd")
    Partner.objects.filter(pk=inactive.pk).update(active=False)
    theirs = make_partner(other_company)
    client = client_for(Role.FINANCE)
    url = reverse("document_new") + "?type=sales_invoice"
    for partner in (theirs, inactive):
        response = client.post(url, post_data(partner, line()))
        assert response.status_code == 200
        assert b'id="id_partner_id_error"' in response.content
    assert not Document.objects.filter(company=company).exists()


def test_the_outstanding_filter_searches_customers_or_suppliers(client_for, company):
    many_customers(company)
    client = client_for(Role.FINANCE)
    html = client.get(reverse("payments_outstanding")).content.decode()
    assert options(html, "id_partner") == ["All customers"]
    assert "?kind=customer&amp;empty=All+customers" in html
    html = client.get(reverse("payments_outstanding"), {"side": "payables"}).content.decode()
    assert "partner-search" not in html  # no suppliers yet: nothing to search


def test_the_export_filter_searches_partners_and_previews_a_searched_for_one(client_for, company):
    customers = many_customers(company)
    make_document(make_actor(company), partner=customers[-1], finalise=True)
    client = client_for(Role.FINANCE)
    html = client.get(reverse("exports_page")).content.decode()
    assert options(html, "id_partner") == ["All partners"]
    assert 'class="partner-search"' in html
    html = client.get(
        reverse("exports_page"), {"preview": "1", "partner": customers[-1].pk}
    ).content.decode()
    assert options(html, "id_partner") == ["All partners", str(customers[-1])]
