"""/api/exports: the REST equivalent of the Invoices Exports page."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import api_token_create
from ledgerbridge.invoicing.models import NominalCode
from tests.ledgerbridge.factories import line, make_actor, make_document

from .conftest import purchase_invoice, sales_invoice


@pytest.fixture
def api(company):
    def as_role(role: str = Role.FINANCE) -> Client:
        _, raw = api_token_create(
            actor=make_actor(company, Role.SUPER_ADMIN), name="TMS", role=role
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return as_role


def test_post_exports_creates_a_batch_and_lists_what_was_left_out(api, finance, customer, company):
    make_document(finance, partner=customer, lines=[line("freight")], finalise=True)
    blocked = sales_invoice(finance, customer)
    NominalCode.objects.filter(company=company, code="201").update(active=False)

    answer = api().post("/api/exports", {}, content_type="application/json")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["batch"]["number"], body["batch"]["status"]) == (1, "ready")
    assert body["left_out"] == [
        {
            "document_id": blocked.pk,
            "label": str(blocked),
            "kind": "coding",
            "reasons": ["Line 2: nominal code 201 is inactive."],
        }
    ]


def test_get_preview_exports_nothing(api, finance, customer):
    invoice = sales_invoice(finance, customer)

    body = api().get("/api/exports/preview", {"document_type": "sales_invoice"}).json()

    assert body["included_ids"] == [invoice.pk]
    assert [(t["currency"], t["gross"]) for t in body["totals"]] == [
        ("GBP", f"{invoice.gross_total}")
    ]
    assert api().get("/api/exports").json() == []


def test_download_returns_the_stored_bytes(api, finance, customer, supplier):
    sales_invoice(finance, customer)
    purchase_invoice(finance, supplier)
    batch = api().post("/api/exports", {}, content_type="application/json").json()["batch"]

    viewer = api(Role.VIEWER)
    first = viewer.get(batch["download_url"])
    second = viewer.get(f"/api/exports/{batch['id']}/download")

    assert first["Content-Type"] == "application/zip"
    assert hashlib.sha256(first.content).digest() == hashlib.sha256(second.content).digest()
    assert [f["kind"] for f in viewer.get(f"/api/exports/{batch['id']}").json()["files"]] == [
        "sales",
        "bills",
    ]


def test_a_viewer_token_cannot_export(api, finance, customer):
    sales_invoice(finance, customer)

    answer = api(Role.VIEWER).post("/api/exports", {}, content_type="application/json")

    assert answer.status_code == 403


def test_reexport_without_a_reason_names_the_field(api, finance, customer):
    sales_invoice(finance, customer)
    client = api()
    batch = client.post("/api/exports", {}, content_type="application/json").json()["batch"]

    answer = client.post(
        "/api/exports/reexport",
        {"batch_id": batch["id"], "reason": ""},
        content_type="application/json",
    )

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "reason"]


def test_nothing_left_to_export_is_a_400(api, company):
    answer = api().post("/api/exports", {}, content_type="application/json")

    assert answer.status_code == 400
    assert "no final documents left" in answer.json()["detail"]
