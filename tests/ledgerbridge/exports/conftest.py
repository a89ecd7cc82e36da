"""Fixtures for Invoices Exports: a haulier with documents at fixed dates and numbers,
and a real Xero sandbox server with an organisation coded like the starter setup."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import httpx
import pytest

from ledgerbridge.companies.models import Company, Role
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import Document, DocumentType, Partner, PartnerKind
from ledgerbridge.invoicing.services import (
    DocumentInput,
    LineInput,
    document_create,
    document_finalise,
)
from tests.ledgerbridge.factories import line, make_actor, make_company, make_partner
from xero_sandbox.testing import RunningSandbox

# Finalising at a fixed moment keeps document numbers (which carry the year) stable.
FINALISED_AT = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC)

# The organisation in Xero as it would be set up for the starter configuration.
STARTER_TRACKING = [
    {"Name": "Business unit", "Options": ["Domestic", "International", "Warehousing"]},
    {"Name": "Vehicle type", "Options": ["Articulated", "Rigid", "Van"]},
]

_supplier_numbers = itertools.count(1)


@pytest.fixture
def company(db) -> Company:
    return make_company("Northway Haulage Ltd")


@pytest.fixture
def finance(company) -> Actor:
    return make_actor(company, Role.FINANCE)


@pytest.fixture
def customer(company) -> Partner:
    return make_partner(
        company,
        PartnerKind.CUSTOMER,
        number="C0042",
        name="Acme Retail, Ltd",
        email="accounts@acme-retail.example",
        address_line1="Unit 4, Dockside Park",
        address_line2="Marsh Lane",
        city="Hull",
        postcode="HU1 2AB",
    )


@pytest.fixture
def supplier(company) -> Partner:
    return make_partner(
        company,
        PartnerKind.SUPPLIER,
        number="S0007",
        name="Pennine Fuels Ltd",
        email="invoices@pennine-fuels.example",
        address_line1="1 Forecourt Way",
        city="Halifax",
        postcode="HX1 1AA",
    )


def final_document(
    actor: Actor,
    type: str,
    partner: Partner,
    lines: list[LineInput],
    *,
    issue_date: dt.date = dt.date(2026, 11, 2),
    **header,
) -> Document:
    """A final document, numbered as of ``FINALISED_AT``."""
    if type in (DocumentType.PURCHASE_INVOICE, DocumentType.PURCHASE_CREDIT_NOTE):
        header.setdefault("supplier_reference", f"PF-{next(_supplier_numbers):05d}")
    document = document_create(
        actor=actor,
        data=DocumentInput(
            type=type, partner_id=partner.pk, issue_date=issue_date, lines=lines, **header
        ),
    )
    return document_finalise(actor=actor, document_id=document.pk, now=FINALISED_AT)


def sales_invoice(actor: Actor, partner: Partner, **header) -> Document:
    return final_document(
        actor,
        DocumentType.SALES_INVOICE,
        partner,
        [
            line("freight", quantity="2", unit_price="450.00", description="Freight Leeds - Hull"),
            line("fuel_surcharge", unit_price="63.5", description="Fuel surcharge, rigid"),
        ],
        **header,
    )


def purchase_invoice(actor: Actor, partner: Partner, **header) -> Document:
    return final_document(
        actor,
        DocumentType.PURCHASE_INVOICE,
        partner,
        [line("fuel", sales=False, quantity="412.5", unit_price="1.4325")],
        **header,
    )


@pytest.fixture
def xero(sandbox_servers) -> RunningSandbox:
    """The test process's sandbox server, reset; each test makes its own organisation."""
    return sandbox_servers.get()


@pytest.fixture
def org(xero) -> str:
    created = xero.control.create_org("Northway Haulage", tracking_categories=STARTER_TRACKING)
    return str(created["tenant_id"])


def xero_import(
    xero: RunningSandbox, tenant_id: str, kind: str, content: bytes, **params: str
) -> httpx.Response:
    """Upload a file to the sandbox's importer, as a user would in Xero."""
    return xero.control.http.post(
        f"/sandbox/orgs/{tenant_id}/import/{kind}", content=content, params=params
    )


def money(value: float | str | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
