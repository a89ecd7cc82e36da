"""A simulated Xero user at work through the control API (real HTTP): typing, editing,
voiding and deleting invoices, credit notes and contacts. Each action changes what
the accounting API returns and queues the webhook event Xero sends; what Xero would
refuse is refused with its message."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from xero_sandbox.testing import ControlClient, RunningSandbox, SandboxControlError

from .conftest import sales_invoice

API = "/api.xro/2.0"


class Org:
    """The demo organisation as an app connected to it sees it, and its Xero user."""

    def __init__(self, server: RunningSandbox) -> None:
        self.control: ControlClient = server.control
        self.tenant_id = server.tenant_id
        token = server.control.mint_token()["access_token"]
        self.http = httpx.Client(
            base_url=server.base_url + API,
            headers={
                "Authorization": f"Bearer {token}",
                "xero-tenant-id": server.tenant_id,
                "Accept": "application/json",
            },
        )

    def get(self, collection: str, ref: str) -> dict[str, Any]:
        response = self.http.get(f"/{collection}/{ref}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()[collection][0]
        return result

    def post_by_app(self, collection: str, item: dict[str, Any]) -> dict[str, Any]:
        response = self.http.put(f"/{collection}", json={collection: [item]})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()[collection][0]
        return result

    def events(self, since: int = 0) -> list[tuple[str, str, str]]:
        """(category, type, resource id) of every event queued after ``since``."""
        return [
            (e["event"]["eventCategory"], e["event"]["eventType"], e["event"]["resourceId"])
            for e in self.control.webhook_events()
            if e["seq"] > since
        ]

    def last_seq(self) -> int:
        events = self.control.webhook_events()
        return events[-1]["seq"] if events else 0

    def refused(self, action: Any, *args: Any, **fields: Any) -> list[str]:
        with pytest.raises(SandboxControlError) as raised:
            action(self.tenant_id, *args, **fields)
        assert raised.value.status == 400, raised.value.body
        messages: list[str] = httpx.Response(200, content=raised.value.body).json()["errors"]
        return messages


@pytest.fixture
def org(sandbox_servers: Any) -> Org:
    # Events stay queued (nothing is delivered), so the test reads them all.
    return Org(sandbox_servers.get(webhook_batch_seconds=3600))


def credit_note(**overrides: Any) -> dict[str, Any]:
    note: dict[str, Any] = {
        "Type": "ACCRECCREDIT",
        "Contact": {"Name": "Midlands Steel Ltd"},
        "Date": "2026-10-05",
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": "Damaged pallet",
                "Quantity": 1,
                "UnitAmount": 100.00,
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            }
        ],
    }
    note.update(overrides)
    return note


def test_editing_an_invoice_changes_what_the_api_returns_and_fires_update(org: Org) -> None:
    posted = org.post_by_app("Invoices", sales_invoice())
    before = org.last_seq()
    first, second = posted["LineItems"]

    org.control.edit_invoice(
        org.tenant_id,
        posted["InvoiceID"],
        Reference="PO 4471",
        Date="2026-10-02",
        DueDate="2026-11-15",
        LineItems=[
            {"LineItemID": first["LineItemID"], "UnitAmount": 400.00, "AccountCode": "201"},
            {"LineItemID": second["LineItemID"], "TaxType": "ZERORATEDOUTPUT"},
        ],
    )

    seen = org.get("Invoices", posted["InvoiceID"])
    assert seen["Reference"] == "PO 4471"
    assert (seen["DateString"], seen["DueDateString"]) == (
        "2026-10-02T00:00:00",
        "2026-11-15T00:00:00",
    )
    lines = {line["LineItemID"]: line for line in seen["LineItems"]}
    assert lines[first["LineItemID"]]["LineAmount"] == 400.00
    assert lines[first["LineItemID"]]["AccountCode"] == "201"
    assert lines[first["LineItemID"]]["Description"] == "Full load Birmingham - Leeds"
    assert lines[second["LineItemID"]]["TaxType"] == "ZERORATEDOUTPUT"
    assert lines[second["LineItemID"]]["TaxAmount"] == 0.0
    # Totals recomputed from the lines: 400 at 20 % plus 36 zero-rated.
    assert (seen["SubTotal"], seen["TotalTax"], seen["Total"]) == (436.00, 80.00, 516.00)
    assert seen["AmountDue"] == 516.00
    assert seen["InvoiceNumber"] == posted["InvoiceNumber"]
    assert org.events(before) == [("INVOICE", "UPDATE", posted["InvoiceID"])]


def test_edits_move_updated_date_utc(org: Org) -> None:
    posted = org.post_by_app("Invoices", sales_invoice())
    org.control.clock(advance_seconds=60)

    edited = org.control.edit_invoice(org.tenant_id, posted["InvoiceNumber"], Reference="later")

    assert edited["UpdatedDateUTC"] > posted["UpdatedDateUTC"]
    assert org.get("Invoices", posted["InvoiceID"])["UpdatedDateUTC"] == edited["UpdatedDateUTC"]


def test_editing_contact_tracking_and_replacing_lines(org: Org) -> None:
    posted = org.post_by_app("Invoices", sales_invoice())
    other = org.control.create_contact(org.tenant_id, Name="Severn Freight plc")
    categories = org.http.get("/TrackingCategories").json()["TrackingCategories"]
    category = categories[0]
    option = category["Options"][0]["Name"]

    org.control.edit_invoice(
        org.tenant_id,
        posted["InvoiceID"],
        Contact={"ContactID": other["ContactID"]},
        LineItems=[
            {
                "Description": "Part load",
                "Quantity": 2,
                "UnitAmount": 150.00,
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
                "Tracking": [{"Name": category["Name"], "Option": option}],
            }
        ],
    )

    seen = org.get("Invoices", posted["InvoiceID"])
    assert seen["Contact"]["ContactID"] == other["ContactID"]
    assert [line["Description"] for line in seen["LineItems"]] == ["Part load"]
    assert seen["LineItems"][0]["Tracking"][0]["Option"] == option
    assert seen["Total"] == 360.00


def test_a_paid_invoice_cannot_be_edited(org: Org) -> None:
    posted = org.post_by_app("Invoices", sales_invoice())
    org.control.record_payment(org.tenant_id, invoice_id=posted["InvoiceID"])
    before = org.last_seq()

    messages = org.refused(org.control.edit_invoice, posted["InvoiceID"], Reference="x")

    assert messages == ["Invoice not of valid status for modification"]
    assert org.get("Invoices", posted["InvoiceID"])["Reference"] == ""
    assert org.events(before) == []


def test_a_part_paid_invoice_cannot_be_edited_or_voided(org: Org) -> None:
    posted = org.post_by_app("Invoices", sales_invoice())
    org.control.record_payment(org.tenant_id, invoice_id=posted["InvoiceID"], amount=100)

    edit = org.refused(org.control.edit_invoice, posted["InvoiceID"], Reference="x")
    void = org.refused(org.control.void_invoice, posted["InvoiceID"])

    has_payments = (
        "This document cannot be edited as it has a payment or credit note allocated to it."
    )
    assert edit == void == [has_payments]
    assert org.get("Invoices", posted["InvoiceID"])["Status"] == "AUTHORISED"


def test_an_edit_with_a_bad_account_is_refused_with_xeros_message(org: Org) -> None:
    posted = org.post_by_app("Invoices", sales_invoice())
    line = posted["LineItems"][0]

    messages = org.refused(
        org.control.edit_invoice,
        posted["InvoiceID"],
        LineItems=[{"LineItemID": line["LineItemID"], "AccountCode": "999"}],
    )

    assert messages == ["Account code '999' is not a valid code for this document."]
    assert org.get("Invoices", posted["InvoiceID"])["Total"] == posted["Total"]


def test_an_approved_invoice_in_a_locked_period_cannot_be_edited(org: Org) -> None:
    posted = org.post_by_app("Invoices", sales_invoice(Date="2026-09-15"))
    org.control.set_lock_date(org.tenant_id, "2026-09-30")

    messages = org.refused(
        org.control.edit_invoice, posted["InvoiceID"], Date="2026-10-15", Reference="moved"
    )

    assert messages == [
        "The document date cannot be before the period lock date, currently set to 30 Sep 2026."
    ]


def test_voiding_an_approved_invoice(org: Org) -> None:
    posted = org.post_by_app("Invoices", sales_invoice())
    before = org.last_seq()

    org.control.void_invoice(org.tenant_id, posted["InvoiceNumber"])

    seen = org.get("Invoices", posted["InvoiceID"])
    assert (seen["Status"], seen["AmountDue"]) == ("VOIDED", 0.0)
    assert org.events(before) == [("INVOICE", "UPDATE", posted["InvoiceID"])]
    again = org.refused(org.control.void_invoice, posted["InvoiceID"])
    assert again == ["Invoice not of valid status for modification"]


def test_deleting_a_draft_and_refusing_to_delete_an_approved_invoice(org: Org) -> None:
    draft = org.post_by_app("Invoices", sales_invoice(Status="DRAFT"))
    approved = org.post_by_app("Invoices", sales_invoice())
    before = org.last_seq()

    org.control.delete_invoice(org.tenant_id, draft["InvoiceID"])
    refused = org.refused(org.control.delete_invoice, approved["InvoiceID"])

    assert org.get("Invoices", draft["InvoiceID"])["Status"] == "DELETED"
    assert refused == ["Invoice not of valid status for modification"]
    assert org.get("Invoices", approved["InvoiceID"])["Status"] == "AUTHORISED"
    assert org.events(before) == [("INVOICE", "UPDATE", draft["InvoiceID"])]


def test_creating_an_invoice_by_hand_takes_the_next_number(org: Org) -> None:
    ours = org.post_by_app("Invoices", sales_invoice())
    before = org.last_seq()

    typed = org.control.create_invoice(
        org.tenant_id,
        Contact={"Name": "Midlands Steel Ltd"},
        Date="2026-10-03",
        Status="AUTHORISED",
        LineItems=[
            {
                "Description": "Waiting time",
                "Quantity": 3,
                "UnitAmount": 40,
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            }
        ],
    )

    assert ours["InvoiceNumber"] == "INV-0001"
    assert typed["InvoiceNumber"] == "INV-0002"
    seen = org.get("Invoices", typed["InvoiceID"])
    assert (seen["Type"], seen["Status"], seen["Total"]) == ("ACCREC", "AUTHORISED", 144.00)
    assert org.events(before) == [("INVOICE", "CREATE", typed["InvoiceID"])]
    mine = org.http.get("/Invoices", params={"createdByMyApp": "true"}).json()["Invoices"]
    assert [i["InvoiceID"] for i in mine] == [ours["InvoiceID"]]


def test_a_hand_typed_duplicate_number_is_refused(org: Org) -> None:
    ours = org.post_by_app("Invoices", sales_invoice(InvoiceNumber="TMS-100"))

    messages = org.refused(
        org.control.create_invoice, **sales_invoice(InvoiceNumber=ours["InvoiceNumber"])
    )

    assert messages == ["Invoice # must be unique."]


def test_a_hand_typed_bill_keeps_the_suppliers_number(org: Org) -> None:
    bill = org.control.create_invoice(
        org.tenant_id,
        **sales_invoice(
            Type="ACCPAY",
            InvoiceNumber="SUP-77",
            Contact={"Name": "Diesel Direct"},
            LineItems=[
                {
                    "Description": "Fuel",
                    "Quantity": 1,
                    "UnitAmount": 500,
                    "AccountCode": "310",
                    "TaxType": "INPUT2",
                }
            ],
        ),
    )

    assert org.get("Invoices", bill["InvoiceID"])["InvoiceNumber"] == "SUP-77"


def test_credit_notes_by_hand_edit_void_and_delete(org: Org) -> None:
    before = org.last_seq()
    typed = org.control.create_credit_note(org.tenant_id, **credit_note())
    draft = org.control.create_credit_note(org.tenant_id, **credit_note(Status="DRAFT"))

    org.control.edit_credit_note(
        org.tenant_id,
        typed["CreditNoteID"],
        LineItems=[{"LineItemID": typed["LineItems"][0]["LineItemID"], "UnitAmount": 50}],
    )
    assert org.get("CreditNotes", typed["CreditNoteID"])["Total"] == 60.00
    org.control.void_credit_note(org.tenant_id, typed["CreditNoteNumber"])
    org.control.delete_credit_note(org.tenant_id, draft["CreditNoteID"])

    assert typed["CreditNoteNumber"] == "CN-0001"
    voided = org.get("CreditNotes", typed["CreditNoteID"])
    assert (voided["Status"], voided["RemainingCredit"]) == ("VOIDED", 0.0)
    assert org.get("CreditNotes", draft["CreditNoteID"])["Status"] == "DELETED"
    # (the contact's CREATE, and UPDATE when it becomes a customer, come first)
    assert [e for e in org.events(before) if e[0] == "CREDITNOTE"] == [
        ("CREDITNOTE", "CREATE", typed["CreditNoteID"]),
        ("CREDITNOTE", "CREATE", draft["CreditNoteID"]),
        ("CREDITNOTE", "UPDATE", typed["CreditNoteID"]),
        ("CREDITNOTE", "UPDATE", typed["CreditNoteID"]),
        ("CREDITNOTE", "UPDATE", draft["CreditNoteID"]),
    ]
    statuses = [
        e["event"]["data"]["Status"]
        for e in org.control.webhook_events()
        if e["seq"] > before and e["event"]["eventCategory"] == "CREDITNOTE"
    ]
    assert statuses == ["AUTHORISED", "DRAFT", "AUTHORISED", "VOIDED", "DELETED"]


def test_an_allocated_credit_note_cannot_be_voided_or_edited(org: Org) -> None:
    invoice = org.post_by_app("Invoices", sales_invoice())
    note = org.post_by_app("CreditNotes", credit_note())
    allocated = org.http.put(
        f"/CreditNotes/{note['CreditNoteID']}/Allocations",
        json={"Allocations": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 50}]},
    )
    assert allocated.status_code == 200, allocated.text

    void = org.refused(org.control.void_credit_note, note["CreditNoteID"])
    edit = org.refused(org.control.edit_credit_note, note["CreditNoteID"], Reference="x")
    on_invoice = org.refused(org.control.edit_invoice, invoice["InvoiceID"], Reference="x")

    has_payments = (
        "This document cannot be edited as it has a payment or credit note allocated to it."
    )
    assert void == edit == on_invoice == [has_payments]


def test_contacts_by_hand_create_and_update(org: Org) -> None:
    before = org.last_seq()

    made = org.control.create_contact(
        org.tenant_id, Name="Pennine Haulage Ltd", ContactNumber="C-900", TaxNumber="GB123456789"
    )
    org.control.edit_contact(org.tenant_id, made["ContactID"], EmailAddress="ap@pennine.test")

    seen = org.get("Contacts", made["ContactID"])
    assert (seen["Name"], seen["ContactNumber"], seen["TaxNumber"]) == (
        "Pennine Haulage Ltd",
        "C-900",
        "GB123456789",
    )
    assert seen["EmailAddress"] == "ap@pennine.test"
    assert org.events(before) == [
        ("CONTACT", "CREATE", made["ContactID"]),
        ("CONTACT", "UPDATE", made["ContactID"]),
    ]


def test_a_contact_with_a_taken_name_is_refused(org: Org) -> None:
    org.control.create_contact(org.tenant_id, Name="Pennine Haulage Ltd")

    messages = org.refused(org.control.create_contact, Name="pennine haulage ltd")

    assert messages == [
        "The contact name pennine haulage ltd is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    ]


def test_unknown_documents_and_contacts_are_404(org: Org) -> None:
    for action, ref in (
        (org.control.edit_invoice, "INV-9999"),
        (org.control.void_credit_note, "CN-9999"),
        (org.control.edit_contact, "6c8e1f1e-0000-4000-8000-000000000000"),
    ):
        with pytest.raises(SandboxControlError) as raised:
            action(org.tenant_id, ref)
        assert raised.value.status == 404


def test_approving_a_draft_by_hand(org: Org) -> None:
    draft = org.post_by_app("Invoices", sales_invoice(Status="DRAFT"))
    before = org.last_seq()

    org.control.edit_invoice(org.tenant_id, draft["InvoiceID"], Status="AUTHORISED")

    seen = org.get("Invoices", draft["InvoiceID"])
    assert (seen["Status"], seen["AmountDue"]) == ("AUTHORISED", draft["Total"])
    assert org.events(before) == [("INVOICE", "UPDATE", draft["InvoiceID"])]
    back = org.refused(org.control.edit_invoice, draft["InvoiceID"], Status="DRAFT")
    assert back == ["Invoice not of valid status for modification"]


def test_an_edit_shows_in_an_if_modified_since_list(org: Org) -> None:
    first = org.post_by_app("Invoices", sales_invoice())
    org.post_by_app("Invoices", sales_invoice())
    org.control.clock(advance_seconds=60)
    since = org.control.clock()["iso"]
    org.control.clock(advance_seconds=1)

    org.control.edit_invoice(org.tenant_id, first["InvoiceID"], Reference="changed in Xero")

    listed = org.http.get("/Invoices", headers={"If-Modified-Since": since}).json()["Invoices"]
    assert [(i["InvoiceID"], i["Reference"]) for i in listed] == [
        (first["InvoiceID"], "changed in Xero")
    ]


def test_an_archived_contact_leaves_its_name_free(org: Org) -> None:
    old = org.control.create_contact(org.tenant_id, Name="Pennine Haulage Ltd")
    org.control.edit_contact(org.tenant_id, old["ContactID"], ContactStatus="ARCHIVED")

    new = org.control.create_contact(org.tenant_id, Name="Pennine Haulage Ltd")

    assert org.get("Contacts", old["ContactID"])["ContactStatus"] == "ARCHIVED"
    assert org.get("Contacts", new["ContactID"])["ContactStatus"] == "ACTIVE"
