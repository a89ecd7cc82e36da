"""Credit notes and their allocations, payments, and attachments."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from xero_sandbox.seed import DEMO_TENANT_ID

from .conftest import XeroApi, create_invoice


def credit_note(
    api: XeroApi, contact_id: str, amount: float = 50.0, **overrides: Any
) -> dict[str, Any]:
    body = {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-10-02",
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": "Damaged pallet",
                "Quantity": 1,
                "UnitAmount": amount,
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            }
        ],
        **overrides,
    }
    response = api.put("/CreditNotes", {"CreditNotes": [body]})
    assert response.status_code == 200, response.text
    return response.json()["CreditNotes"][0]  # type: ignore[no-any-return]


def allocate(api: XeroApi, note: dict[str, Any], invoice: dict[str, Any], amount: float):  # type: ignore[no-untyped-def]
    return api.put(
        f"/CreditNotes/{note['CreditNoteID']}/Allocations",
        {
            "Allocations": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Amount": amount,
                    "Date": "2026-10-03",
                }
            ]
        },
    )


def test_credit_notes_are_numbered_and_priced(api: XeroApi) -> None:
    invoice = create_invoice(api)

    note = credit_note(api, invoice["Contact"]["ContactID"])

    assert note["CreditNoteNumber"] == "CN-0001"
    assert note["Total"] == 60.0
    assert note["RemainingCredit"] == 60.0


def test_allocating_a_credit_note_reduces_the_invoice_amount_due(api: XeroApi) -> None:
    invoice = create_invoice(api)
    note = credit_note(api, invoice["Contact"]["ContactID"])

    response = allocate(api, note, invoice, 60.0)

    assert response.status_code == 200
    after = api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert after["AmountCredited"] == 60.0
    assert after["AmountDue"] == invoice["AmountDue"] - 60.0
    assert after["CreditNotes"][0]["CreditNoteID"] == note["CreditNoteID"]
    assert (
        api.get(f"/CreditNotes/{note['CreditNoteID']}").json()["CreditNotes"][0]["Status"] == "PAID"
    )


def test_a_fully_credited_invoice_becomes_paid(api: XeroApi) -> None:
    invoice = create_invoice(
        api, LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 50, "AccountCode": "200"}]
    )
    note = credit_note(api, invoice["Contact"]["ContactID"])

    allocate(api, note, invoice, 60.0)

    assert api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]["Status"] == "PAID"


def test_a_draft_credit_note_cannot_be_allocated(api: XeroApi) -> None:
    invoice = create_invoice(api)
    note = credit_note(api, invoice["Contact"]["ContactID"], Status="DRAFT")

    assert allocate(api, note, invoice, 10).status_code == 400


def test_credit_notes_filter_by_number(api: XeroApi) -> None:
    invoice = create_invoice(api)
    note = credit_note(api, invoice["Contact"]["ContactID"])
    credit_note(api, invoice["Contact"]["ContactID"])

    found = api.get(
        "/CreditNotes", params={"where": f'CreditNoteNumber=="{note["CreditNoteNumber"]}"'}
    )

    assert [c["CreditNoteID"] for c in found.json()["CreditNotes"]] == [note["CreditNoteID"]]


def test_paying_an_invoice_through_the_api(api: XeroApi) -> None:
    invoice = create_invoice(api)

    response = api.put(
        "/Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Account": {"Code": "090"},
                    "Amount": invoice["AmountDue"],
                    "Date": "2026-10-10",
                }
            ]
        },
    )

    payment = response.json()["Payments"][0]
    assert payment["Status"] == "AUTHORISED"
    assert payment["PaymentType"] == "ACCRECPAYMENT"
    after = api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert after["Status"] == "PAID"
    assert after["AmountPaid"] == invoice["Total"]
    assert after["FullyPaidOnDate"].startswith("/Date(")


def test_payments_can_be_listed_and_read(api: XeroApi, client: TestClient) -> None:
    invoice = create_invoice(api)
    paid = client.post(
        f"/sandbox/orgs/{DEMO_TENANT_ID}/payments",
        json={"invoice_id": invoice["InvoiceID"], "amount": 100},
    ).json()

    listed = api.get("/Payments").json()["Payments"]
    single = api.get(f"/Payments/{paid['PaymentID']}").json()["Payments"][0]

    assert [p["PaymentID"] for p in listed] == [paid["PaymentID"]]
    assert single["Amount"] == 100.0
    assert single["Invoice"]["InvoiceID"] == invoice["InvoiceID"]


def test_deleting_a_payment_reopens_the_invoice(api: XeroApi, client: TestClient) -> None:
    invoice = create_invoice(api)
    paid = client.post(
        f"/sandbox/orgs/{DEMO_TENANT_ID}/payments", json={"invoice_id": invoice["InvoiceID"]}
    ).json()

    api.post(f"/Payments/{paid['PaymentID']}", {"Status": "DELETED"})

    after = api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert after["Status"] == "AUTHORISED"
    assert after["AmountDue"] == invoice["Total"]


def test_a_payment_to_a_non_bank_account_is_refused(api: XeroApi) -> None:
    invoice = create_invoice(api)

    response = api.put(
        "/Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Account": {"Code": "200"},
                    "Amount": 1,
                    "Date": "2026-10-10",
                }
            ]
        },
    )

    assert response.status_code == 400


def test_attach_a_pdf_to_an_invoice(api: XeroApi) -> None:
    invoice = create_invoice(api)
    pdf = b"%PDF-1.4 fake invoice"

    response = api.put(
        f"/Invoices/{invoice['InvoiceID']}/Attachments/INV-0001.pdf",
        content=pdf,
        params={"IncludeOnline": "true"},
        headers={"Content-Type": "application/pdf"},
        check_request_body=False,
    )

    attachment = response.json()["Attachments"][0]
    assert attachment["FileName"] == "INV-0001.pdf"
    assert attachment["MimeType"] == "application/pdf"
    assert attachment["ContentLength"] == len(pdf)
    assert attachment["IncludeOnline"] is True
    assert (
        api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]["HasAttachments"] is True
    )


def test_attachment_content_comes_back_raw(api: XeroApi) -> None:
    invoice = create_invoice(api)
    api.put(
        f"/Invoices/{invoice['InvoiceID']}/Attachments/a.pdf",
        content=b"%PDF-raw",
        headers={"Content-Type": "application/pdf"},
        check_request_body=False,
    )

    listed = api.get(f"/Invoices/{invoice['InvoiceID']}/Attachments").json()["Attachments"]
    raw = api.client.get(
        f"/api.xro/2.0/Invoices/{invoice['InvoiceID']}/Attachments/{listed[0]['AttachmentID']}",
        headers=api.headers(),
    )

    assert raw.content == b"%PDF-raw"
    assert raw.headers["content-type"].startswith("application/pdf")


def test_attachments_on_credit_notes(api: XeroApi) -> None:
    invoice = create_invoice(api)
    note = credit_note(api, invoice["Contact"]["ContactID"])

    response = api.post(
        f"/CreditNotes/{note['CreditNoteID']}/Attachments/CN-0001.pdf",
        content=b"%PDF",
        headers={"Content-Type": "application/pdf"},
        check_request_body=False,
    )

    assert response.status_code == 200


def test_attachments_over_the_size_limit_are_refused(api: XeroApi, sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox.config.attachment_max_bytes = 10
    invoice = create_invoice(api)

    response = api.put(
        f"/Invoices/{invoice['InvoiceID']}/Attachments/big.pdf",
        content=b"x" * 11,
        headers={"Content-Type": "application/pdf"},
        check_request_body=False,
    )

    assert response.status_code == 413


def test_attachments_need_the_attachments_scope(api_for) -> None:  # type: ignore[no-untyped-def]
    api = api_for(scopes=["accounting.invoices"])
    invoice = create_invoice(api)

    response = api.put(
        f"/Invoices/{invoice['InvoiceID']}/Attachments/a.pdf",
        content=b"%PDF",
        check_request_body=False,
    )

    assert response.status_code == 401


def test_two_payments_that_together_overpay_fail_together_by_default(api: XeroApi) -> None:
    invoice = create_invoice(api)
    half = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": "2026-10-10",
    }

    response = api.put(
        "/Payments",
        {"Payments": [{**half, "Amount": invoice["AmountDue"] - 1}, {**half, "Amount": 2}]},
    )

    assert response.status_code == 400
    assert api.get("/Payments").json()["Payments"] == []
    assert api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]["AmountPaid"] == 0.0


def test_two_payments_with_summarize_errors_false_keep_the_one_that_fits(api: XeroApi) -> None:
    invoice = create_invoice(api)
    half = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": "2026-10-10",
    }

    response = api.put(
        "/Payments",
        {"Payments": [{**half, "Amount": invoice["AmountDue"] - 1}, {**half, "Amount": 2}]},
        params={"summarizeErrors": "false"},
    )

    assert [p["StatusAttributeString"] for p in response.json()["Payments"]] == ["OK", "ERROR"]
    assert len(api.get("/Payments").json()["Payments"]) == 1


def test_a_failed_allocation_batch_leaves_earlier_allocations_undone(api: XeroApi) -> None:
    invoice = create_invoice(api)
    note = credit_note(api, invoice["Contact"]["ContactID"])
    ref = {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Date": "2026-10-03"}

    response = api.put(
        f"/CreditNotes/{note['CreditNoteID']}/Allocations",
        {"Allocations": [{**ref, "Amount": 50}, {**ref, "Amount": 50}]},
    )

    assert response.status_code == 400
    after = api.get(f"/CreditNotes/{note['CreditNoteID']}").json()["CreditNotes"][0]
    assert after["RemainingCredit"] == 60.0
