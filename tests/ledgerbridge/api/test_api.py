import pytest

from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Document, DocumentLine
from tests.ledgerbridge.factories import make_actor, make_document, make_partner

from .conftest import client_for

pytestmark = pytest.mark.django_db


def invoice_body(partner_id, **overrides):
    body = {
        "type": "sales_invoice",
        "partner_id": partner_id,
        "issue_date": "2026-11-02",
        "order_reference": "ORD-1001",
        "trip_reference": "DOM-2611-1234",
        "lines": [
            {
                "description": "Freight Leeds - Hull",
                "charge_type": "freight",
                "quantity": "2",
                "unit_price": "450.00",
                "nominal_code": "200",
                "tax_rate": "S20",
            },
            {
                "description": "Fuel surcharge",
                "charge_type": "fuel_surcharge",
                "quantity": 1,
                "unit_price": 99.0,
                "nominal_code": "201",
                "tax_rate": "S20",
            },
        ],
    }
    body.update(overrides)
    return body


def test_requests_without_a_token_are_refused(client):
    assert client.get("/api/documents").status_code == 401


def test_a_revoked_or_wrong_token_is_refused(client):
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer lb_not-a-token"
    assert client.get("/api/documents").status_code == 401


def test_create_an_invoice_with_lines_and_finalise_it(api, company):
    partner = make_partner(company)
    response = api.post("/api/documents", invoice_body(partner.pk), content_type="application/json")
    assert response.status_code == 201, response.content
    draft = response.json()
    assert draft["status"] == "draft" and draft["number"] == ""
    assert draft["gross_total"] == "1198.80"
    assert draft["lines"][0]["dimensions"] == {"Business unit": "DOM", "Vehicle type": "ART"}
    assert draft["pdf_url"] is None

    final = api.post(
        f"/api/documents/{draft['id']}/finalise", content_type="application/json"
    ).json()
    assert final["number"] == "INV-2026-00001"
    pdf = api.get(final["pdf_url"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_a_bad_line_gets_422_naming_the_field_and_nothing_is_saved(api, company):
    partner = make_partner(company)
    body = invoice_body(partner.pk)
    body["lines"][1]["nominal_code"] = "9999"
    response = api.post("/api/documents", body, content_type="application/json")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "lines", 1, "nominal_code"]
    assert "'9999' does not exist" in error["msg"]
    assert Document.objects.count() == 0 and DocumentLine.objects.count() == 0


def test_schema_errors_get_422_naming_the_field(api, company):
    body = invoice_body(make_partner(company).pk, issue_date="next tuesday")
    response = api.post("/api/documents", body, content_type="application/json")
    assert response.status_code == 422
    assert "issue_date" in response.json()["detail"][0]["loc"]


def test_list_filters_and_pages(api, company):
    actor = make_actor(company, Role.FINANCE)
    partner = make_partner(company)
    for _ in range(3):
        make_document(actor, partner=partner, finalise=True)
    make_document(actor, finalise=True)
    make_document(actor, "purchase_invoice")
    page = api.get("/api/documents", {"partner_id": partner.pk, "status": "final"}).json()
    assert page["count"] == 3
    assert {item["partner"]["id"] for item in page["items"]} == {partner.pk}
    assert api.get("/api/documents", {"type": "purchase_invoice"}).json()["count"] == 1


def test_credit_note_from_an_invoice(api, company):
    actor = make_actor(company, Role.FINANCE)
    invoice = make_document(actor, finalise=True)
    response = api.post(
        f"/api/documents/{invoice.pk}/credit-notes", {}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["original_id"] == invoice.pk
    assert response.json()["gross_total"] == str(invoice.gross_total)


def test_partners_create_and_duplicate_number(api):
    body = {"kind": "customer", "number": "C9000", "name": "Brightwater Beverages plc"}
    assert api.post("/api/partners", body, content_type="application/json").status_code == 201
    again = api.post("/api/partners", body, content_type="application/json")
    assert again.status_code == 422
    assert again.json()["detail"][0]["loc"] == ["body", "number"]


def test_a_viewer_token_cannot_write(client, company):
    viewer_api = client_for(client, company, Role.VIEWER)
    partner = make_partner(company)
    response = viewer_api.post(
        "/api/documents", invoice_body(partner.pk), content_type="application/json"
    )
    assert response.status_code == 403
    assert "Viewer" in response.json()["detail"]


# Another company's ids on every operation: tests/ledgerbridge/security/test_tenant_isolation.py.


def test_openapi_schema_is_served(api):
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    assert "/api/documents" in response.json()["paths"]


def finalise(api, document, **body):
    return api.post(f"/api/documents/{document.pk}/finalise", body, content_type="application/json")


def _bill(actor, supplier, reference):
    from ledgerbridge.invoicing.models import DocumentType
    from tests.ledgerbridge.factories import line

    return make_document(
        actor,
        DocumentType.PURCHASE_INVOICE,
        partner=supplier,
        supplier_reference=reference,
        lines=[line("fuel", sales=False, unit_price="640.00")],
    )


def test_finalising_a_duplicate_bill_answers_409_naming_the_first(api, company):
    from ledgerbridge.invoicing.models import PartnerKind

    actor = make_actor(company)
    supplier = make_partner(company, PartnerKind.SUPPLIER, name="M62 Fuels Ltd")
    first = _bill(actor, supplier, "M62-INV-9981")
    assert finalise(api, first).status_code == 200
    first.refresh_from_db()
    second = _bill(actor, supplier, "m62-inv-9981")
    response = finalise(api, second)
    assert response.status_code == 409
    body = response.json()
    assert body["duplicate_id"] == first.pk
    assert body["duplicate_number"] == first.number
    assert f"{first.number} (supplier's number M62-INV-9981)" in body["detail"]
    assert "768.00 GBP" in body["detail"]
    assert Document.objects.get(pk=second.pk).status == "draft"


def test_finalising_a_duplicate_bill_anyway_takes_a_reason_and_audits_it(api, company):
    from ledgerbridge.companies.models import AuditEntry
    from ledgerbridge.invoicing.models import PartnerKind

    actor = make_actor(company)
    supplier = make_partner(company, PartnerKind.SUPPLIER)
    first = _bill(actor, supplier, "M62-INV-9981")
    finalise(api, first)
    second = _bill(actor, supplier, "M62-INV-9981")
    short = finalise(api, second, duplicate_override_reason="dup")
    assert short.status_code == 422
    assert short.json()["detail"][0]["loc"] == ["body", "duplicate_override_reason"]
    reason = "Second delivery, supplier uses one number per week"
    response = finalise(api, second, duplicate_override_reason=reason)
    assert response.status_code == 200
    assert response.json()["status"] == "final"
    entry = AuditEntry.objects.get(action="duplicate finalised anyway")
    assert entry.changes["reason"] == reason
    assert entry.changes["duplicate_id"] == first.pk


def test_a_foreign_currency_document_takes_and_returns_its_exchange_rate(api, company):
    customer = make_partner(company, currency="EUR")
    body = invoice_body(
        customer.pk, exchange_rate="1.1650", exchange_rate_source="HMRC period rate"
    )
    response = api.post("/api/documents", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["exchange_rate"] == "1.165000"
    assert response.json()["exchange_rate_source"] == "HMRC period rate"
    body = invoice_body(make_partner(company).pk, exchange_rate="1.1650")
    refused = api.post("/api/documents", body, content_type="application/json")
    assert refused.status_code == 422
    assert "the company's currency, has no exchange rate" in refused.content.decode()
