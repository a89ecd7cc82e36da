"""Against the sandbox, Xero's side of reconciliation's choices and contacts:

- documents typed in Xero for a contact linked to one of our partners (posting's link
  table, or going live's matches) that we never posted to are *only in Xero*;
- Xero refuses a voided sales invoice's number a second time, so it is never posted
  again; a voided bill is, and Xero then holds both copies.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.utils import timezone

from ledgerbridge.accounting import reconcile
from ledgerbridge.accounting.models import (
    ContactMatchMethod,
    GoLiveContact,
    PaymentState,
    PaymentStatus,
    ReconcileOutcome,
    SyncRecord,
    SyncStatus,
)
from ledgerbridge.accounting.reconcile import (
    document_post_again,
    reconciliation_row_actions,
    reconciliation_run,
)
from ledgerbridge.invoicing.models import DocumentType, PartnerKind, Task
from ledgerbridge.invoicing.workflow import task_complete
from ledgerbridge.xero.models import XeroContactLink
from tests.ledgerbridge.factories import line, make_document, make_partner, store_stand_in_pdf

from .conftest import authorise
from .test_posting import post_all, xero_get

pytestmark = pytest.mark.django_db

PERIOD = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture
def linked(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    return admin


def contact(sandbox, name: str) -> str:
    created = sandbox.control.create_contact(sandbox.tenant_id, Name=name)
    found = created.get("ContactID") or created["Contacts"][0]["ContactID"]
    return str(found)


def typed_invoice(sandbox, contact_id: str, amount: str = "480.00") -> str:
    """A Xero user types a sales invoice, numbered by the organisation (not our series)."""
    created = sandbox.control.create_invoice(
        sandbox.tenant_id,
        Type="ACCREC",
        Contact={"ContactID": contact_id},
        Date="2026-11-05",
        DueDate="2026-12-05",
        Status="AUTHORISED",
        LineAmountTypes="Exclusive",
        LineItems=[
            {
                "Description": "Trunking typed in Xero",
                "Quantity": 1,
                "UnitAmount": amount,
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            }
        ],
    )
    invoice = created.get("InvoiceNumber") or created["Invoices"][0]["InvoiceNumber"]
    return str(invoice)


def only_in_xero(actor) -> list[str]:
    the_run = reconciliation_run(
        actor.company, date_from=PERIOD[0], date_to=PERIOD[1], now=timezone.now(), actor=actor
    )
    assert the_run.status == "done", the_run.error
    return sorted(
        the_run.rows.filter(outcome=ReconcileOutcome.ONLY_IN_PACKAGE).values_list(
            "number", flat=True
        )
    )


# ------------------------------------------------------------------ contact links


def test_a_document_typed_for_a_partner_linked_by_posting_is_only_in_xero(sandbox, linked):
    partner = make_partner(linked.company, PartnerKind.CUSTOMER, name="Acme Hauliers")
    ours = contact(sandbox, "Acme Hauliers")
    XeroContactLink.objects.create(
        partner=partner, tenant_id=sandbox.tenant_id, contact_id=ours, synced_at=timezone.now()
    )
    number = typed_invoice(sandbox, ours)
    typed_invoice(sandbox, contact(sandbox, "Somebody Else Ltd"))
    assert only_in_xero(linked) == [number]


def test_without_the_registered_links_it_would_go_unseen(sandbox, linked, monkeypatch):
    partner = make_partner(linked.company, PartnerKind.CUSTOMER, name="Acme Hauliers")
    ours = contact(sandbox, "Acme Hauliers")
    XeroContactLink.objects.create(
        partner=partner, tenant_id=sandbox.tenant_id, contact_id=ours, synced_at=timezone.now()
    )
    typed_invoice(sandbox, ours)
    monkeypatch.setattr(reconcile, "_contact_links", {})
    assert only_in_xero(linked) == []


def test_a_link_to_another_organisation_does_not_count(sandbox, linked):
    partner = make_partner(linked.company, PartnerKind.CUSTOMER, name="Acme Hauliers")
    ours = contact(sandbox, "Acme Hauliers")
    XeroContactLink.objects.create(
        partner=partner, tenant_id="another-organisation", contact_id=ours, synced_at=timezone.now()
    )
    typed_invoice(sandbox, ours)
    assert only_in_xero(linked) == []


@pytest.mark.parametrize(
    ("method", "counts"),
    [
        (ContactMatchMethod.TAX_NUMBER, True),
        (ContactMatchMethod.CHOSEN, True),
        (ContactMatchMethod.AMBIGUOUS, False),
    ],
)
def test_contacts_going_live_matched_count_and_ambiguous_ones_do_not(
    sandbox, linked, method, counts
):
    partner = make_partner(linked.company, PartnerKind.CUSTOMER, name="Pennine Freight")
    theirs = contact(sandbox, "Pennine Freight (Xero)")
    GoLiveContact.objects.create(
        company=linked.company, partner=partner, method=method, external_id=theirs
    )
    number = typed_invoice(sandbox, theirs)
    assert only_in_xero(linked) == ([number] if counts else [])


# ------------------------------------------------------------------ numbers again


def post(actor, document):
    store_stand_in_pdf(document)
    task = Task.objects.get(document=document, type="post_to_xero")
    if task.status == "open":
        task_complete(actor=actor, task_id=task.pk)
    post_all(actor.company)
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED, record.message
    return record


def voided_in_xero(sandbox, record) -> None:
    sandbox.control.void_invoice(sandbox.tenant_id, record.external_id)
    PaymentState.objects.create(record=record, company=record.company, status=PaymentStatus.VOIDED)


def test_xero_refuses_a_voided_sales_invoices_number_so_it_is_not_offered(sandbox, linked):
    invoice = make_document(linked, finalise=True, lines=1)
    record = post(linked, invoice)
    voided_in_xero(sandbox, record)
    # What posting it again would meet: Xero keeps the number of a voided invoice.
    tokens = sandbox.control.mint_token(tenant_ids=[sandbox.tenant_id])
    sent = xero_get(sandbox, f"Invoices/{record.external_id}")["Invoices"][0]
    answer = httpx.put(
        f"{sandbox.base_url}/api.xro/2.0/Invoices",
        json={
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "InvoiceNumber": invoice.number,
                    "Contact": {"ContactID": sent["Contact"]["ContactID"]},
                    "Date": "2026-11-02",
                    "DueDate": "2026-12-02",
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {
                            "Description": "Again",
                            "Quantity": 1,
                            "UnitAmount": 10,
                            "AccountCode": "200",
                            "TaxType": "OUTPUT2",
                        }
                    ],
                }
            ]
        },
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "xero-tenant-id": sandbox.tenant_id,
            "Accept": "application/json",
        },
        timeout=30,
    )
    assert answer.status_code == 400
    assert "Invoice # must be unique" in answer.text
    the_run = reconciliation_run(
        linked.company, date_from=PERIOD[0], date_to=PERIOD[1], now=timezone.now()
    )
    row = the_run.rows.get(document=invoice)
    allowed = reconciliation_row_actions(row, package="xero_api")
    assert [a.action for a in allowed.actions] == ["credit", "acknowledge"]
    assert "Invoice # must be unique" in allowed.not_offered[0]


def test_a_voided_bill_is_posted_again_and_xero_holds_both_copies(sandbox, linked):
    supplier = make_partner(linked.company, PartnerKind.SUPPLIER, name="M62 Fuels Ltd")
    bill = make_document(
        linked,
        DocumentType.PURCHASE_INVOICE,
        partner=supplier,
        supplier_reference="M62-INV-7001",
        lines=[line("fuel", sales=False, unit_price="640.00")],
        finalise=True,
    )
    record = post(linked, bill)
    first = record.external_id
    voided_in_xero(sandbox, record)
    document_post_again(actor=linked, document_id=bill.pk, now=timezone.now())
    post_all(linked.company)
    record.refresh_from_db()
    assert record.status == SyncStatus.POSTED, record.message
    assert record.external_id != first
    bills = xero_get(sandbox, "Invoices", where='Type=="ACCPAY"')["Invoices"]
    copies = sorted(b["Status"] for b in bills if b["InvoiceNumber"] == "M62-INV-7001")
    assert copies == ["AUTHORISED", "VOIDED"]
