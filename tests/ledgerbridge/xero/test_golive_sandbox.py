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
    AccountingSettings,
    ContactMatchMethod,
    GoLive,
    GoLiveContact,
    GoLiveDocument,
    GoLiveState,
    SyncRecord,
    SyncStatus,
    WaitReason,
)
from ledgerbridge.accounting.outbox import sync_company_run
from ledgerbridge.invoicing.models import SALES_TYPES, DocumentType, Partner, PartnerKind
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


def _typed_line(document, *, sales: bool) -> dict:
    return {
        "Description": "Freight",
        "Quantity": 1,
        "UnitAmount": float(document.net_total),
        "AccountCode": "200" if sales else "310",
        "TaxType": "OUTPUT2" if sales else "INPUT2",
    }


def test_going_live_links_hand_typed_bills_and_credit_notes_and_what_came_meanwhile(
    fast_sandbox, admin, django_capture_on_commit_callbacks
):
    """Credit notes (by our number), bills and supplier credit notes (by the supplier's
    number) typed by hand are linked, the new ones posted, none twice; an invoice whose
    number Xero keeps for a voided one is shown, not refused later; a bill finalised
    between matching and confirming, typed in Xero meanwhile, is linked too."""
    sandbox, company = fast_sandbox, admin.company
    org = sandbox.control.create_org(
        "Northway Haulage (Xero) 2", tracking_categories=NORTHWAY_TRACKING
    )
    tenant = org.get("tenant_id") or org["OrganisationID"]
    actor = system_actor(company)
    # Bills go as they are finalised too (as sales documents do by default).
    AccountingSettings.objects.filter(company=company).update(
        auto_post_purchase_invoice=True, auto_post_purchase_credit_note=True
    )
    customers = [
        partner_create(
            actor=actor, kind=PartnerKind.CUSTOMER, number=f"C{2000 + i}", name=f"Customer {i} Ltd"
        )
        for i in range(3)
    ]
    suppliers = [
        partner_create(
            actor=actor,
            kind=PartnerKind.SUPPLIER,
            number=f"S{3000 + i}",
            name=f"Supplier {i} Ltd",
            vat_number=f"GB 300 0000 {i:02}",
        )
        for i in range(3)
    ]
    contact_of = {
        p.pk: sandbox.control.create_contact(
            tenant, Name=f"{p.name} (Xero)", ContactNumber=p.number
        )["ContactID"]
        for p in customers
    }
    contact_of |= {
        p.pk: sandbox.control.create_contact(
            tenant, Name=f"{p.name} trading", TaxNumber=f"3000000{i:02}"
        )["ContactID"]
        for i, p in enumerate(suppliers)
    }

    def make(type_: str, i: int, partner):
        with transaction.atomic():
            document = make_document(
                admin,
                type_,
                partner=partner,
                lines=[
                    line(
                        "freight",
                        sales=type_ in SALES_TYPES,
                        unit_price=f"{40 + i}.{i % 100:02}",
                    )
                ],
                issue_date=dt.date(2026, 3, 1) + dt.timedelta(days=i),
                finalise=True,
            )
            store_stand_in_pdf(document)
        return document

    credit_notes = [make(DocumentType.SALES_CREDIT_NOTE, i, customers[i % 3]) for i in range(15)]
    bills = [make(DocumentType.PURCHASE_INVOICE, i, suppliers[i % 3]) for i in range(20)]
    supplier_credits = [
        make(DocumentType.PURCHASE_CREDIT_NOTE, i, suppliers[i % 3]) for i in range(6)
    ]
    kept = make(DocumentType.SALES_INVOICE, 1, customers[0])
    typed = credit_notes[:10] + bills[:15] + supplier_credits[:4]
    for document in typed:  # typed in Xero by hand, our number or the supplier's
        sales = document.type in SALES_TYPES
        number = document.number if sales else document.supplier_reference
        fields = {
            "Contact": {"ContactID": contact_of[document.partner_id]},
            "Date": document.issue_date.isoformat(),
            "Status": "AUTHORISED",
            "LineAmountTypes": "Exclusive",
            "LineItems": [_typed_line(document, sales=sales)],
        }
        if document.type in (DocumentType.SALES_CREDIT_NOTE, DocumentType.PURCHASE_CREDIT_NOTE):
            sandbox.control.create_credit_note(
                tenant,
                Type="ACCRECCREDIT" if sales else "ACCPAYCREDIT",
                CreditNoteNumber=number,
                **fields,
            )
        else:
            sandbox.control.create_invoice(
                tenant,
                Type="ACCPAY",
                InvoiceNumber=number,
                DueDate=document.due_date.isoformat(),
                **fields,
            )
    # An invoice typed with our next number, then voided: Xero keeps its number.
    voided = sandbox.control.create_invoice(
        tenant,
        Type="ACCREC",
        InvoiceNumber=kept.number,
        Contact={"ContactID": contact_of[kept.partner_id]},
        Date=kept.issue_date.isoformat(),
        DueDate=kept.due_date.isoformat(),
        Status="AUTHORISED",
        LineAmountTypes="Exclusive",
        LineItems=[_typed_line(kept, sales=True)],
    )
    sandbox.control.void_invoice(tenant, voided["InvoiceID"])

    with django_capture_on_commit_callbacks(execute=True):
        authorise(sandbox, admin, [tenant])
    go_live = GoLive.objects.get(company=company)
    assert go_live.state == GoLiveState.AWAITING, go_live.error
    assert go_live.counts["contacts"] == {"contact_number": 3, "tax_number": 3}
    assert go_live.counts["documents"] == {
        "linked": 29,
        "to_post": 12,
        "number_kept": 1,
    }
    [row] = GoLiveDocument.objects.filter(company=company, kind="number_kept")
    assert row.document_id == kept.pk and row.external_id == voided["InvoiceID"]
    assert "issue it again under a new number" in row.note

    # Meanwhile: a bill is finalised here and typed in Xero by hand; a credit note too,
    # not typed there.
    late_bill = make(DocumentType.PURCHASE_INVOICE, 30, suppliers[0])
    late_credit = make(DocumentType.SALES_CREDIT_NOTE, 30, customers[1])
    sandbox.control.create_invoice(
        tenant,
        Type="ACCPAY",
        InvoiceNumber=late_bill.supplier_reference,
        Contact={"ContactID": contact_of[late_bill.partner_id]},
        Date=late_bill.issue_date.isoformat(),
        DueDate=late_bill.due_date.isoformat(),
        Status="AUTHORISED",
        LineAmountTypes="Exclusive",
        LineItems=[_typed_line(late_bill, sales=False)],
    )
    _post_all(company, runs=2)
    calls_before = GoLive.objects.get(company=company).calls

    golive_confirm(actor=admin)
    go_live = GoLive.objects.get(company=company)
    print(f"go-live late matching read {go_live.calls - calls_before} calls")
    assert go_live.counts["documents"] == {"linked": 30, "to_post": 13, "number_kept": 1}
    _post_all(company)

    records = {r.document_id: r for r in SyncRecord.objects.filter(company=company)}
    assert records[kept.pk].status == SyncStatus.FAILED
    assert records[kept.pk].message.startswith("Not posted, as Xero would refuse it")
    for document in [*typed, late_bill]:
        assert records[document.pk].message.startswith("Linked at go-live"), document
    mine = [*credit_notes[10:], *bills[15:], *supplier_credits[4:], late_credit]
    assert all(records[d.pk].status == SyncStatus.POSTED for d in mine)
    assert not any(records[d.pk].message.startswith("Linked") for d in mine)

    credit_notes_there = _xero_list(sandbox, tenant, "CreditNotes", "CreditNotes")
    invoices_there = _xero_invoices(sandbox, tenant)
    numbers = Counter((c["Type"], c["CreditNoteNumber"]) for c in credit_notes_there) + Counter(
        (i["Type"], i["InvoiceNumber"]) for i in invoices_there
    )
    assert [n for n, count in numbers.items() if count > 1] == []  # 0 duplicates
    assert Counter(t for t, _ in numbers.elements()) == {
        "ACCRECCREDIT": 16,
        "ACCPAY": 21,
        "ACCPAYCREDIT": 6,
        "ACCREC": 1,  # the voided one, ours not sent
    }
