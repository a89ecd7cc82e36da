"""Going live on a Xero organisation that already holds a year of hand-typed invoices,
over real HTTP to the sandbox (issue 15's go-live test).

The organisation holds 40 contacts a Xero user typed (20 with our customer numbers,
10 found by VAT number only, 6 by exact name, and two names held twice: archived and
active) and 300 invoices typed by hand for our documents. The TMS holds those 300
and 200 new ones. Linking the company matches before anything is posted; once a
Super Admin confirms and chooses the two ambiguous contacts, Xero holds every
document once: 300 linked, 200 posted, no contact created twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from decimal import Decimal

import httpx
import pytest
from django.db import transaction
from django.db.models import Q

from ledgerbridge.accounting.golive import golive_confirm, golive_contact_choose
from ledgerbridge.accounting.models import (
    ContactMatchMethod,
    GoLive,
    GoLiveContact,
    GoLiveState,
    SyncRecord,
    SyncStatus,
    WaitReason,
)
from ledgerbridge.accounting.outbox import sync_company_run
from ledgerbridge.invoicing.models import Partner, PartnerKind
from ledgerbridge.invoicing.services import partner_create
from tests.ledgerbridge.factories import line, make_document, store_stand_in_pdf, system_actor

from .conftest import NORTHWAY_TRACKING, authorise

pytestmark = pytest.mark.django_db

HAND_TYPED, NEW = 300, 200
# A minute of Xero's limits lasts 6 s on both sides (the sandbox's clock and our
# limiter): 200 documents and their PDFs are about 220 calls.
TIME_SCALE = 10.0


@pytest.fixture
def fast_sandbox(settings, sandbox_servers):
    from tests.sandbox_server import point_settings_at

    running = sandbox_servers.get(time_scale=TIME_SCALE)
    point_settings_at(settings, running)
    settings.XERO_LIMIT_TIME_SCALE = TIME_SCALE
    return running


def _partners(company) -> list[Partner]:
    actor = system_actor(company)

    def make(i: int, name: str, vat: str = "") -> Partner:
        return partner_create(
            actor=actor,
            kind=PartnerKind.CUSTOMER,
            number=f"C{1000 + i}",
            name=name,
            vat_number=vat,
        )

    partners = [make(i, f"Numbered Haulier {i} Ltd") for i in range(20)]
    partners += [make(i, f"Vat Haulier {i} Ltd", vat=f"GB 200 0000 {i:02}") for i in range(20, 30)]
    partners += [make(i, f"Named Haulier {i} Ltd") for i in range(30, 36)]
    partners += [make(i, f"Twin Haulier {i} Ltd") for i in range(36, 38)]
    return partners


def _hand_typed_contacts(control, tenant: str, partners: list[Partner]) -> dict[int, str]:
    """40 contacts as a Xero user typed them; the active ContactID per partner."""
    contact_of: dict[int, str] = {}
    for p in partners[:20]:  # our customer number, under another name
        made = control.create_contact(tenant, Name=f"{p.name} (Xero)", ContactNumber=p.number)
        contact_of[p.pk] = made["ContactID"]
    for i, p in enumerate(partners[20:30], start=20):  # the VAT number only
        made = control.create_contact(
            tenant, Name=f"VAT-only Trading {i}", TaxNumber=f"2000000{i:02}"
        )
        contact_of[p.pk] = made["ContactID"]
    for p in partners[30:36]:  # the exact name only
        contact_of[p.pk] = control.create_contact(tenant, Name=p.name)["ContactID"]
    for p in partners[36:38]:  # the same name twice: an old archived one, a new one
        control.create_contact(tenant, Name=p.name, ContactStatus="ARCHIVED")
        contact_of[p.pk] = control.create_contact(tenant, Name=p.name)["ContactID"]
    return contact_of


def _xero_list(sandbox, tenant: str, path: str, key: str, **params) -> list[dict]:
    """Every item of a list as Xero's API reads it, page by page (100 a page)."""
    tokens = sandbox.control.mint_token(tenant_ids=[tenant])
    items: list[dict] = []
    for page in range(1, 100):
        answer = httpx.get(
            f"{sandbox.base_url}/api.xro/2.0/{path}",
            params={"page": page, **params},
            headers={
                "Authorization": f"Bearer {tokens['access_token']}",
                "xero-tenant-id": tenant,
                "Accept": "application/json",
            },
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        batch = answer.json()[key]
        items += batch
        if len(batch) < 100:
            break
    return items


def _xero_invoices(sandbox, tenant: str) -> list[dict]:
    return _xero_list(sandbox, tenant, "Invoices", "Invoices", summaryOnly="true")


def _post_all(company, runs: int = 15) -> None:
    """Run the worker as the queue would, until nothing is due (waiting out Xero's
    minute, 6 s here, when the limiter says so)."""
    for _ in range(runs):
        report = sync_company_run(company_id=company.pk)
        open_work = SyncRecord.objects.filter(company=company).filter(
            Q(status=SyncStatus.POSTING)
            | Q(status=SyncStatus.PENDING, waiting_for="")
            | Q(status=SyncStatus.POSTED, attachment_status="pending")
        )
        if not open_work.exists():
            return
        if report.retry_in and not report.more:
            time.sleep(min(report.retry_in, 7))
        SyncRecord.objects.filter(
            company=company, status=SyncStatus.PENDING, waiting_for=""
        ).update(next_attempt_at=None)


def test_going_live_on_a_year_typed_by_hand_posts_nothing_twice(
    fast_sandbox, admin, django_capture_on_commit_callbacks
):
    sandbox, company = fast_sandbox, admin.company
    org = sandbox.control.create_org(
        "Northway Haulage (Xero)", tracking_categories=NORTHWAY_TRACKING
    )
    tenant = org.get("tenant_id") or org["OrganisationID"]
    partners = _partners(company)
    documents = []
    for i in range(HAND_TYPED + NEW):
        with transaction.atomic():
            document = make_document(
                admin,
                partner=partners[i % len(partners)],
                lines=[line("freight", unit_price=f"{100 + i % 97}.{i % 100:02}")],
                issue_date=dt.date(2026, 1, 1) + dt.timedelta(days=i % 300),
                finalise=True,
            )
            store_stand_in_pdf(document)
        documents.append(document)
    typed, new = documents[:HAND_TYPED], documents[HAND_TYPED:]

    contact_of = _hand_typed_contacts(sandbox.control, tenant, partners)
    for document in typed:  # a year of invoices, typed in Xero by hand
        sandbox.control.create_invoice(
            tenant,
            Type="ACCREC",
            InvoiceNumber=document.number,
            Contact={"ContactID": contact_of[document.partner_id]},
            Date=document.issue_date.isoformat(),
            DueDate=document.due_date.isoformat(),
            Status="AUTHORISED",
            LineAmountTypes="Exclusive",
            LineItems=[
                {
                    "Description": "Freight",
                    "Quantity": 1,
                    "UnitAmount": float(document.net_total),
                    "AccountCode": "200",
                    "TaxType": "OUTPUT2",
                }
            ],
        )
    assert len(_xero_invoices(sandbox, tenant)) == HAND_TYPED

    # Linking begins going live: matched before anything is posted, then held.
    with django_capture_on_commit_callbacks(execute=True):
        authorise(sandbox, admin, [tenant])
    go_live = GoLive.objects.get(company=company)
    assert go_live.state == GoLiveState.AWAITING, go_live.error
    assert go_live.organisation == tenant
    # Reading 40 contacts and 300 invoices: contacts, invoice and credit-note pages.
    print(f"go-live matching read {go_live.calls} calls, {go_live.bytes_read:,} bytes")
    assert go_live.calls <= 8
    assert go_live.counts == {
        "contacts": {"contact_number": 20, "tax_number": 10, "name": 6, "ambiguous": 2},
        "documents": {"linked": HAND_TYPED, "to_post": NEW},
    }
    _post_all(company, runs=2)
    assert len(_xero_invoices(sandbox, tenant)) == HAND_TYPED  # nothing before confirmation
    review = GoLiveContact.objects.filter(company=company, method=ContactMatchMethod.AMBIGUOUS)
    assert sorted(r.partner.name for r in review) == ["Twin Haulier 36 Ltd", "Twin Haulier 37 Ltd"]

    golive_confirm(actor=admin)
    _post_all(company)
    held = SyncRecord.objects.filter(company=company, waiting_for=WaitReason.GO_LIVE)
    twins = {p.pk for p in partners[36:38]}
    assert {r.document.partner_id for r in held} == twins
    assert "choose which Xero contact is Twin Haulier" in held.first().message

    for partner in partners[36:38]:
        golive_contact_choose(
            actor=admin, partner_id=partner.pk, external_id=contact_of[partner.pk]
        )
    _post_all(company)

    records = {r.document_id: r for r in SyncRecord.objects.filter(company=company)}
    assert all(r.status == SyncStatus.POSTED for r in records.values()), Counter(
        (r.status, r.message[:60]) for r in records.values()
    ).most_common(3)
    linked = [d for d in typed if records[d.pk].message.startswith("Linked at go-live")]
    posted = [d for d in new if records[d.pk].external_number == d.number]
    assert (len(linked), len(posted)) == (HAND_TYPED, NEW)
    invoices = _xero_invoices(sandbox, tenant)
    numbers = Counter(i["InvoiceNumber"] for i in invoices)
    assert len(invoices) == HAND_TYPED + NEW
    assert [n for n, count in numbers.items() if count > 1] == []  # 0 duplicates
    by_number = {i["InvoiceNumber"]: i for i in invoices}
    for document in documents:
        invoice = by_number[document.number]
        assert invoice["InvoiceID"] == records[document.pk].external_id
        assert invoice["Contact"]["ContactID"] == contact_of[document.partner_id]
        assert Decimal(str(invoice["Total"])) == document.gross_total
    # Every partner was matched: no contact was created, none twice.
    contacts = _xero_list(sandbox, tenant, "Contacts", "Contacts", includeArchived="true")
    assert len(contacts) == 40
