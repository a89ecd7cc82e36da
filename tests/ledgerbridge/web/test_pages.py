"""Every page renders for every role, and shows actions only to those who may use them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Dimension, NominalCode, NumberSeries, TaxRate
from tests.ledgerbridge.factories import make_actor, make_document, make_partner, make_user

from .conftest import ROLES, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents(company):
    actor = make_actor(company, Role.FINANCE)
    draft = make_document(actor, lines=2)
    final = make_document(actor, lines=3, finalise=True)
    purchase = make_document(actor, "purchase_invoice", lines=1, finalise=True)
    return {"draft": draft, "final": final, "purchase": purchase}


def work_pages(documents, company):
    partner = documents["final"].partner
    return [
        reverse("invoice_list"),
        reverse("invoice_list") + "?type=sales_invoice&status=final&search=Freight",
        reverse("document_detail", args=[documents["draft"].pk]),
        reverse("document_detail", args=[documents["final"].pk]),
        reverse("document_detail", args=[documents["purchase"].pk]),
        reverse("partner_list"),
        reverse("partner_list") + "?kind=supplier",
        reverse("partner_detail", args=[partner.pk]),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_reading_pages_render_for_every_role(client_for, role, documents, company):
    client = client_for(role)
    for url in work_pages(documents, company):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Northern Haulage Ltd" in response.content


def test_login_page_renders_and_root_redirects_to_invoices(client, company):
    assert client.get(reverse("login")).status_code == 200
    response = client.get("/")
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_root_redirects_a_logged_in_user_to_the_invoice_list(client_for):
    response = client_for(Role.VIEWER).get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("invoice_list")


def test_logging_in_lands_on_the_invoice_list(client, company):
    user = make_user(company, Role.FINANCE, username="fiona", password="s3cret-pass-word")
    response = client.post(
        reverse("login"), {"username": "fiona", "password": "s3cret-pass-word"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("invoice_list")
    assert user.username.encode() in response.content
    assert b"Finance" in response.content


def test_wrong_password_says_so(client, company):
    make_user(company, Role.FINANCE, username="fiona")
    response = client.post(reverse("login"), {"username": "fiona", "password": "nope"})
    assert response.status_code == 200
    assert b"do not match" in response.content


def test_logout_is_a_post(client_for):
    client = client_for(Role.VIEWER)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("invoice_list")).status_code == 302


def test_pages_require_login(client, documents):
    for url in [reverse("invoice_list"), reverse("document_detail", args=[documents["final"].pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_user_without_a_company_is_told_so(client, db):
    client = login(make_user(None))
    response = client.get(reverse("invoice_list"))
    assert response.status_code == 403
    assert b"No company yet" in response.content


def test_invoice_list_shows_columns_totals_and_task_status(client_for, documents):
    response = client_for(Role.VIEWER).get(reverse("invoice_list"))
    html = response.content.decode()
    final = documents["final"]
    assert final.number in html
    assert final.partner.name in html
    assert f"Draft {documents['draft'].pk}" in html
    assert "Final" in html and "Draft" in html


def test_invoice_list_filters_by_type_and_status(client_for, documents):
    client = client_for(Role.VIEWER)
    html = client.get(reverse("invoice_list") + "?type=purchase_invoice").content.decode()
    assert documents["purchase"].number in html
    assert documents["final"].number not in html
    html = client.get(reverse("invoice_list") + "?status=draft").content.decode()
    assert f"Draft {documents['draft'].pk}" in html
    assert documents["final"].number not in html


def test_invoice_list_answers_htmx_with_the_results_only(client_for, documents):
    response = client_for(Role.VIEWER).get(
        reverse("invoice_list") + "?status=final", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<header" not in html


def test_invoice_list_pages_by_fifty(client_for, company):
    actor = make_actor(company, Role.FINANCE)
    partner = make_partner(company)
    for _ in range(51):
        make_document(actor, lines=1, partner=partner)
    client = client_for(Role.VIEWER)
    first = client.get(reverse("invoice_list")).content.decode()
    assert "1–50 of 51" in first
    assert "Page 1 of 2" in first
    second = client.get(reverse("invoice_list") + "?page=2").content.decode()
    assert "51–51 of 51" in second


def test_document_detail_shows_lines_codes_dimensions_totals_and_tax_summary(client_for, documents):
    final = documents["final"]
    html = client_for(Role.VIEWER).get(reverse("document_detail", args=[final.pk])).content.decode()
    line = final.lines.select_related("nominal_code", "tax_rate").first()
    assert line.description in html
    assert line.nominal_code.code in html
    assert line.tax_rate.code in html
    assert "Business unit" in html
    assert f"{final.gross_total:,.2f}" in html
    assert "Open PDF" in html


def test_viewer_sees_no_action_buttons(client_for, documents):
    client = client_for(Role.VIEWER)
    draft_html = client.get(reverse("document_detail", args=[documents["draft"].pk])).content
    final_html = client.get(reverse("document_detail", args=[documents["final"].pk])).content
    list_html = client.get(reverse("invoice_list")).content
    assert b"Finalise" not in draft_html
    assert b"Edit draft" not in draft_html
    assert b"Delete draft" not in draft_html
    assert b"Credit this invoice" not in final_html
    assert b"New sales invoice" not in list_html
    assert b"Configuration" not in list_html


def test_finance_sees_document_actions_but_not_configuration(client_for, documents):
    client = client_for(Role.FINANCE)
    draft_html = client.get(reverse("document_detail", args=[documents["draft"].pk])).content
    final_html = client.get(reverse("document_detail", args=[documents["final"].pk])).content
    assert b"Finalise" in draft_html
    assert b"Edit draft" in draft_html
    assert b"Credit this invoice" in final_html
    assert b">Configuration<" not in final_html


def config_pages(company):
    dimension = Dimension.objects.filter(company=company).first()
    rule = dimension.rules.first()
    value = dimension.values.first()
    return [
        reverse("config_home"),
        reverse("config_company"),
        reverse("config_nominal_codes"),
        reverse(
            "config_nominal_code_edit",
            args=[NominalCode.objects.filter(company=company).first().pk],
        ),
        reverse("config_tax_rates"),
        reverse("config_tax_rate_edit", args=[TaxRate.objects.filter(company=company).first().pk]),
        reverse("config_number_series"),
        reverse(
            "config_number_series_edit",
            args=[NumberSeries.objects.filter(company=company).first().pk],
        ),
        reverse("config_dimensions"),
        reverse("config_dimension", args=[dimension.pk]),
        reverse("config_dimension_value", args=[dimension.pk, value.pk]),
        reverse("config_dimension_value_new", args=[dimension.pk]),
        reverse("config_dimension_rule", args=[dimension.pk, rule.pk]),
        reverse("config_dimension_rule_new", args=[dimension.pk]),
        reverse("config_audit"),
        reverse("config_api_tokens"),
    ]


def test_configuration_pages_render_for_a_super_admin(client_for, company):
    client = client_for(Role.SUPER_ADMIN)
    for url in config_pages(company):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert b"Nominal codes" in response.content, url


def test_configuration_pages_render_for_platform_staff(company):
    client = login(make_user(None, platform_staff=True))
    for url in config_pages(company):
        assert client.get(url, follow=True).status_code == 200, url


@pytest.mark.parametrize("role", [Role.FINANCE, Role.VIEWER])
def test_configuration_is_forbidden_to_other_roles_with_a_message(client_for, company, role):
    client = client_for(role)
    for url in config_pages(company):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"may not change the company&#x27;s configuration" in response.content, url


def test_configuration_menu_lists_only_pages_that_exist(client_for, monkeypatch):
    from ledgerbridge.web.templatetags import web

    menu = [*web.CONFIG_MENU, ("Later", [("Not built yet", "config_not_built_yet")])]
    monkeypatch.setattr(web, "CONFIG_MENU", menu)
    html = client_for(Role.SUPER_ADMIN).get(reverse("config_company")).content.decode()
    for label in [
        "Company details",
        "Nominal codes",
        "Tax rates",
        "Number series",
        "Dimensions",
        "Audit log",
        "API tokens",
    ]:
        assert label in html
    # A page another part of the product has not added yet leaves no dead link.
    assert "Not built yet" not in html
    assert "Later" not in html
