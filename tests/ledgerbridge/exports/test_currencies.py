"""Export totals are per currency everywhere: stored on the batch, in the REST API and
its schema, on the pages and from the command line. Pounds, euros and dollars are
never added up into one figure."""

from __future__ import annotations

import importlib
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client

from ledgerbridge.accounting.exports import ExportFilters, export_batch_create, export_preview
from ledgerbridge.accounting.models import ExportBatch
from ledgerbridge.accounting.totals import CurrencyTotals
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import api_token_create
from ledgerbridge.invoicing.models import Document, DocumentType, PartnerKind
from tests.ledgerbridge.factories import PASSWORD, line, make_actor, make_partner, make_user

from .conftest import final_document

EVERYTHING = ExportFilters()


@pytest.fixture
def documents(finance, customer, company) -> dict[str, Document]:
    """A GBP invoice, a EUR invoice with a EUR credit note, and a USD bill."""
    euro_customer = make_partner(company, PartnerKind.CUSTOMER, currency="EUR")
    dollar_supplier = make_partner(company, PartnerKind.SUPPLIER, currency="USD")
    gbp = final_document(
        finance, DocumentType.SALES_INVOICE, customer, [line("freight", unit_price="1000.00")]
    )
    eur = final_document(
        finance,
        DocumentType.SALES_INVOICE,
        euro_customer,
        [line("freight", unit_price="500.00")],
        currency="EUR",
        exchange_rate="1.1500",
    )
    eur_credit = final_document(
        finance,
        DocumentType.SALES_CREDIT_NOTE,
        euro_customer,
        [line("freight", unit_price="50.00")],
        currency="EUR",
        exchange_rate="1.1500",
        original_id=eur.pk,
    )
    usd = final_document(
        finance,
        DocumentType.PURCHASE_INVOICE,
        dollar_supplier,
        [line("fuel", sales=False, unit_price="300.00")],
        currency="USD",
        exchange_rate="1.2500",
    )
    return {"gbp": gbp, "eur": eur, "eur_credit": eur_credit, "usd": usd}


# Per currency: GBP 1,000 + 200 VAT; EUR 500 - 50 (credit) = 450 + 90 VAT; USD 300 + 60 VAT.
EXPECTED = [
    CurrencyTotals("EUR", Decimal("450.00"), Decimal("90.00"), Decimal("540.00")),
    CurrencyTotals("GBP", Decimal("1000.00"), Decimal("200.00"), Decimal("1200.00")),
    CurrencyTotals("USD", Decimal("300.00"), Decimal("60.00"), Decimal("360.00")),
]
EXPECTED_JSON = [item.as_json() for item in EXPECTED]
# What the old single columns held: every currency added together.
MIXED = ["2100.00", "2,100.00", "1750.00", "1,750.00", "350.00", "2100", "1750"]


def _no_mixed_figure(text: str) -> None:
    for figure in MIXED:
        assert figure not in text, f"mixed-currency figure {figure} in {text[:2000]}"


def test_the_documents_are_what_the_expected_totals_assume(documents):
    assert [(d.currency, d.net_total, d.tax_total) for d in documents.values()] == [
        ("GBP", Decimal("1000.00"), Decimal("200.00")),
        ("EUR", Decimal("500.00"), Decimal("100.00")),
        ("EUR", Decimal("50.00"), Decimal("10.00")),
        ("USD", Decimal("300.00"), Decimal("60.00")),
    ]


def test_preview_and_batch_keep_one_total_per_currency(finance, documents):
    preview = export_preview(actor=finance, filters=EVERYTHING)
    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch
    batch.refresh_from_db()

    assert preview.included_count == 4
    assert preview.totals == EXPECTED
    assert batch.totals == EXPECTED_JSON
    assert batch.currency_totals == EXPECTED
    assert not any(hasattr(batch, name) for name in ("gross_total", "net_total", "tax_total"))


def test_the_migration_rebuilds_existing_batches_per_currency(finance, documents):
    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch
    ExportBatch.objects.filter(pk=batch.pk).update(totals=[])
    migration = importlib.import_module(
        "ledgerbridge.accounting.migrations.0014_export_batch_totals_per_currency"
    )

    migration.totals_per_currency(apps, None)

    batch.refresh_from_db()
    assert batch.totals == EXPECTED_JSON


@pytest.fixture
def api(company) -> Client:
    _, raw = api_token_create(
        actor=make_actor(company, Role.SUPER_ADMIN), name="TMS", role=Role.FINANCE
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_the_api_answers_totals_per_currency_and_no_mixed_figure(api, documents):
    preview = api.get("/api/exports/preview")
    created = api.post("/api/exports", {}, content_type="application/json")
    batch_id = created.json()["batch"]["id"]
    listed = api.get("/api/exports")
    one = api.get(f"/api/exports/{batch_id}")

    assert preview.json()["totals"] == EXPECTED_JSON
    assert created.status_code == 201, created.content
    assert created.json()["batch"]["totals"] == EXPECTED_JSON
    assert listed.json()[0]["totals"] == EXPECTED_JSON
    assert one.json()["totals"] == EXPECTED_JSON
    for answer in (preview, created, listed, one):
        body = answer.content.decode()
        assert "gross_total" not in body and "net_total" not in body
        _no_mixed_figure(body)


def test_the_openapi_schema_says_totals_are_per_currency(api):
    schemas = api.get("/api/openapi.json").json()["components"]["schemas"]

    for name in ("ExportBatchOut", "PreviewOut"):
        properties = schemas[name]["properties"]
        assert not {"gross_total", "net_total", "tax_total"} & properties.keys()
        assert properties["totals"]["items"] == {"$ref": "#/components/schemas/CurrencyTotalsOut"}
        assert "no total across currencies" in properties["totals"]["description"]
    assert set(schemas["CurrencyTotalsOut"]["required"]) == {"currency", "net", "tax", "gross"}


def _run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("export", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_the_command_prints_totals_per_currency(company, documents):
    per_currency = "540.00 EUR · 1,200.00 GBP · 360.00 USD"

    preview = _run("--company", str(company.pk), "--preview")
    created = _run("--company", str(company.pk))
    listing = _run("--company", str(company.pk), "--list")

    assert f"4 documents would be exported (total {per_currency})" in preview
    assert f"Export 1: 4 documents, total {per_currency}." in created
    assert per_currency in listing
    for output in (preview, created, listing):
        _no_mixed_figure(output)


def test_the_pages_show_totals_per_currency(company, finance, documents):
    client = Client()
    assert client.login(username=make_user(company, Role.FINANCE).username, password=PASSWORD)

    preview = client.get("/invoices/exports/", {"preview": "1"}).content.decode()
    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch
    listing = client.get("/invoices/exports/").content.decode()
    page = client.get(f"/invoices/exports/{batch.pk}/").content.decode()

    for html in (preview, listing, page):
        for total in ("540.00", "1,200.00", "360.00"):
            assert total in html
        _no_mixed_figure(html)
    assert "total 540.00" in " ".join(page.split())
