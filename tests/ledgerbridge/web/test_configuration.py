"""Configuration pages change what the services allow, and say what is wrong."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from ledgerbridge.companies.models import ApiToken, AuditEntry, Role
from ledgerbridge.invoicing.models import (
    Dimension,
    DimensionRule,
    NominalCode,
    NumberSeries,
    TaxRate,
)
from tests.ledgerbridge.factories import make_user

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client_for):
    return client_for(Role.SUPER_ADMIN)


def test_company_details_are_saved_and_audited(admin, company):
    response = admin.post(
        reverse("config_company"),
        {
            "legal_name": "Northern Haulage Group Ltd",
            "vat_number": "GB999999973",
            "address_line1": "2 Depot Road",
            "address_line2": "",
            "city": "Leeds",
            "postcode": "LS1 1AA",
            "country": "gb",
            "base_currency": "gbp",
            "email": "accounts@northern.example",
        },
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.legal_name == "Northern Haulage Group Ltd"
    assert company.country == "GB"
    assert AuditEntry.objects.filter(company=company, action="company details changed").exists()


def test_company_details_need_a_legal_name(admin):
    response = admin.post(
        reverse("config_company"), {"legal_name": "", "country": "GB", "base_currency": "GBP"}
    )
    assert response.status_code == 200
    assert b"This field is required." in response.content


def test_adding_a_nominal_code(admin, company):
    response = admin.post(
        reverse("config_nominal_codes"),
        {"code": "4100", "name": "Storage income", "type": "revenue", "active": "on"},
    )
    assert response.status_code == 302
    assert NominalCode.objects.get(company=company, code="4100").name == "Storage income"


def test_a_duplicate_nominal_code_is_refused_next_to_the_code(admin, company):
    response = admin.post(
        reverse("config_nominal_codes"),
        {"code": "200", "name": "Again", "type": "revenue", "active": "on"},
    )
    html = response.content.decode()
    assert "Nominal code 200 already exists." in html
    assert 'id="id_code_error"' in html


def test_editing_a_nominal_code(admin, company):
    code = NominalCode.objects.get(company=company, code="200")
    admin.post(
        reverse("config_nominal_code_edit", args=[code.pk]),
        {"code": "200", "name": "Haulage income", "type": "revenue"},
    )
    code.refresh_from_db()
    assert code.name == "Haulage income"
    assert code.active is False


def test_adding_a_tax_rate_and_its_errors(admin, company):
    response = admin.post(
        reverse("config_tax_rates"),
        {"code": "R5", "name": "Reduced", "rate": "5", "applies_to_sales": "on", "active": "on"},
    )
    assert response.status_code == 302
    assert TaxRate.objects.get(company=company, code="R5").rate == Decimal("5")
    response = admin.post(
        reverse("config_tax_rates"),
        {"code": "BAD", "name": "Bad", "rate": "150", "applies_to_sales": "on"},
    )
    assert b"Rate must be between 0 and 100 %." in response.content
    assert b'id="id_rate_error"' in response.content
    response = admin.post(
        reverse("config_tax_rates"), {"code": "NONE", "name": "None", "rate": "0"}
    )
    assert b"A tax rate must apply to sales, purchases or both." in response.content


def test_number_series_can_only_go_up(admin, company):
    series = NumberSeries.objects.filter(company=company, document_type="sales_invoice").get()
    url = reverse("config_number_series_edit", args=[series.pk])
    response = admin.post(
        url, {"prefix": "SI-", "padding": "6", "reset_yearly": "on", "next_number": "100"}
    )
    assert response.status_code == 302
    series.refresh_from_db()
    assert (series.prefix, series.padding, series.next_number) == ("SI-", 6, 100)
    response = admin.post(
        url, {"prefix": "SI-", "padding": "6", "reset_yearly": "on", "next_number": "5"}
    )
    assert b"The next number can only go up" in response.content
    assert b'id="id_next_number_error"' in response.content


def test_creating_a_dimension_with_values_default_and_a_rule(admin, company):
    response = admin.post(
        reverse("config_dimensions"), {"name": "Depot", "position": "3", "active": "on"}
    )
    dimension = Dimension.objects.get(company=company, name="Depot")
    assert response["Location"] == reverse("config_dimension", args=[dimension.pk])

    for code, name in [("ART", "Artic"), ("RIG", "Rigid")]:
        response = admin.post(
            reverse("config_dimension_value_new", args=[dimension.pk]),
            {"value-code": code, "value-name": name, "value-active": "on"},
        )
        assert response.status_code == 302
    artic, rigid = dimension.values.order_by("code")

    response = admin.post(
        reverse("config_dimension", args=[dimension.pk]),
        {"name": "Depot", "position": "3", "active": "on", "default_value_id": str(artic.pk)},
    )
    assert response.status_code == 302
    dimension.refresh_from_db()
    assert dimension.default_value == artic

    response = admin.post(
        reverse("config_dimension_rule_new", args=[dimension.pk]),
        {
            "position": "10",
            "value_id": str(rigid.pk),
            "cond_field": ["line.charge_type", "partner.country", ""],
            "cond_op": ["in", "equals", "equals"],
            "cond_value": ["waiting_time, tolls", "GB", ""],
        },
    )
    assert response.status_code == 302
    rule = DimensionRule.objects.get(dimension=dimension)
    assert rule.conditions == [
        {"field": "line.charge_type", "op": "in", "value": "waiting_time, tolls"},
        {"field": "partner.country", "op": "equals", "value": "GB"},
    ]
    html = admin.get(reverse("config_dimension", args=[dimension.pk])).content.decode()
    assert "Charge type is one of waiting_time, tolls" in html
    assert "Partner country is GB" in html
    edit = admin.get(
        reverse("config_dimension_rule", args=[dimension.pk, rule.pk])
    ).content.decode()
    assert 'value="waiting_time, tolls"' in edit


def test_a_rule_condition_without_a_value_is_refused(admin, company):
    dimension = Dimension.objects.filter(company=company).first()
    value = dimension.values.first()
    before = dimension.rules.count()
    response = admin.post(
        reverse("config_dimension_rule_new", args=[dimension.pk]),
        {
            "position": "99",
            "value_id": str(value.pk),
            "cond_field": ["partner.name"],
            "cond_op": ["contains"],
            "cond_value": [""],
        },
    )
    assert response.status_code == 200
    assert b"Condition 1: enter a value to compare with." in response.content
    assert dimension.rules.count() == before


def test_deleting_a_rule(admin, company):
    dimension = Dimension.objects.filter(company=company).first()
    rule = dimension.rules.first()
    response = admin.post(reverse("config_dimension_rule_delete", args=[dimension.pk, rule.pk]))
    assert response.status_code == 302
    assert not DimensionRule.objects.filter(pk=rule.pk).exists()


def test_an_api_token_is_shown_once_then_only_its_prefix(admin, company):
    response = admin.post(reverse("config_api_tokens"), {"name": "TMS export", "role": "finance"})
    assert response.status_code == 200
    token = ApiToken.objects.get(company=company)
    html = response.content.decode()
    assert "shown only this once" in html
    raw = html.split('id="raw-token">')[1].split("<")[0]
    assert raw.startswith(token.prefix) and len(raw) > 30
    later = admin.get(reverse("config_api_tokens")).content.decode()
    assert raw not in later
    assert f"{token.prefix}…" in later


def test_an_api_token_needs_a_name(admin, company):
    response = admin.post(reverse("config_api_tokens"), {"name": "  ", "role": "finance"})
    assert (
        b"This field is required." in response.content
        or b"Give the token a name" in response.content
    )
    assert not ApiToken.objects.filter(company=company).exists()


def test_revoking_an_api_token(admin, company):
    admin.post(reverse("config_api_tokens"), {"name": "TMS export", "role": "finance"})
    token = ApiToken.objects.get(company=company)
    response = admin.post(reverse("config_api_token_revoke", args=[token.pk]), follow=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert b"API token TMS export revoked." in response.content


def test_the_audit_log_shows_who_changed_what(admin, company):
    admin.post(
        reverse("config_nominal_codes"),
        {"code": "4100", "name": "Storage income", "type": "revenue", "active": "on"},
    )
    html = admin.get(reverse("config_audit")).content.decode()
    assert "nominal code created" in html
    assert "4100 Storage income" in html


def test_platform_staff_can_configure_any_company(company):
    staff = login(make_user(None, platform_staff=True))
    response = staff.post(
        reverse("config_nominal_codes"),
        {"code": "4200", "name": "Recharges", "type": "revenue", "active": "on"},
    )
    assert response.status_code == 302
    assert NominalCode.objects.filter(company=company, code="4200").exists()


def test_a_duplicate_dimension_name_is_refused_next_to_the_name(admin, company):
    response = admin.post(reverse("config_dimensions"), {"name": "Business unit", "position": "1"})
    assert response.status_code == 200
    assert b"A dimension named Business unit already exists." in response.content
    assert b'id="id_name_error"' in response.content


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _company_post(company):
    return {"legal_name": company.legal_name, "country": "GB", "base_currency": "GBP"}


def test_a_logo_can_be_uploaded_and_appears_on_the_pdf(client_for, company):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ledgerbridge.invoicing.pdf import render_document_html
    from tests.ledgerbridge.factories import make_actor, make_document

    client = client_for(Role.SUPER_ADMIN)
    logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    client.post("/configuration/company", {**_company_post(company), "logo": logo})
    company.refresh_from_db()
    assert bytes(company.logo) == PNG and company.logo_content_type == "image/png"
    document = make_document(make_actor(company, Role.FINANCE), finalise=True)
    assert "data:image/png;base64," in render_document_html(document)


def test_a_logo_that_is_not_an_image_is_refused_next_to_the_field(client_for, company):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(Role.SUPER_ADMIN)
    bad = SimpleUploadedFile("logo.png", b"<svg>not really</svg>", content_type="image/png")
    answer = client.post("/configuration/company", {**_company_post(company), "logo": bad})
    assert "The logo must be a PNG or JPEG image." in answer.content.decode()
    company.refresh_from_db()
    assert not company.logo


def test_bank_details_with_a_mistake_are_refused_next_to_the_field(admin, company):
    fields = {
        "legal_name": company.legal_name,
        "country": "GB",
        "base_currency": "GBP",
        "bank_account_name": "North Ltd",
        "bank_sort_code": "20-20-15",
        "bank_account_number": "55555555",
        "bank_iban": "GB34 BUKB 2020 1555 5555 55",
        "bank_bic": "BUKBGB22",
        "payment_terms": "Interest on late payments.",
    }
    html = admin.post(reverse("config_company"), fields).content.decode()
    assert "This IBAN&#x27;s check digits do not match" in html
    assert 'id="id_bank_iban_error"' in html
    company.refresh_from_db()
    assert company.bank_iban == ""
    fields["bank_iban"] = "GB33 BUKB 2020 1555 5555 55"
    assert admin.post(reverse("config_company"), fields).status_code == 302
    company.refresh_from_db()
    assert company.bank_iban == "GB33BUKB20201555555555"
    assert company.payment_terms == "Interest on late payments."
    entry = AuditEntry.objects.filter(company=company, action="company details changed").get()
    assert entry.changes["bank_account_number"] == ["", "55555555"]


def test_finance_cannot_open_the_company_settings(client_for):
    assert client_for(Role.FINANCE).get(reverse("config_company")).status_code == 403
