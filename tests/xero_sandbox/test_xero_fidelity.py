"""Where the sandbox once differed from recorded Xero responses (issue 17), pinned down."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from xero_sandbox.store import Store

from .conftest import XeroApi, create_invoice
from .test_documents import allocate, credit_note

NO_OFFSET = re.compile(r"^/Date\(\d+\)/$")
WITH_OFFSET = re.compile(r"^/Date\(\d+\+0000\)/$")


def test_envelope_and_organisation_timestamps_carry_no_offset(api: XeroApi) -> None:
    body = api.get("/Organisation").json()

    assert NO_OFFSET.match(body["DateTimeUTC"]), body["DateTimeUTC"]
    assert NO_OFFSET.match(body["Organisations"][0]["CreatedDateUTC"])


def test_document_dates_keep_their_offset(api: XeroApi) -> None:
    invoice = create_invoice(api)

    assert WITH_OFFSET.match(invoice["UpdatedDateUTC"])
    assert WITH_OFFSET.match(invoice["Date"])


def test_an_attachment_sent_as_octet_stream_is_kept_as_its_file_names_type(
    api: XeroApi,
) -> None:
    invoice = create_invoice(api)
    base = f"/Invoices/{invoice['InvoiceID']}/Attachments"

    uploaded = api.put(
        f"{base}/INV-001.pdf",
        content=b"%PDF-1.4 invoice",
        headers={"Content-Type": "application/octet-stream"},  # as the official SDK sends it
        check_request_body=False,
    ).json()["Attachments"][0]
    listed = api.get(base).json()["Attachments"][0]
    raw = api.client.get(f"/api.xro/2.0{base}/INV-001.pdf", headers=api.headers())

    assert uploaded["MimeType"] == "application/pdf"
    assert listed["MimeType"] == "application/pdf"
    assert raw.headers["content-type"] == "application/pdf"
    assert raw.content == b"%PDF-1.4 invoice"


def test_an_attachment_whose_name_says_nothing_keeps_the_type_it_was_sent_with(
    api: XeroApi,
) -> None:
    invoice = create_invoice(api)

    uploaded = api.put(
        f"/Invoices/{invoice['InvoiceID']}/Attachments/manifest",
        content=b"a,b\n",
        headers={"Content-Type": "text/csv"},
        check_request_body=False,
    ).json()["Attachments"][0]

    assert uploaded["MimeType"] == "text/csv"


def test_fully_paid_on_date_is_the_payments_date_not_when_it_was_recorded(api: XeroApi) -> None:
    invoice = create_invoice(api)
    payment = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": "2026-10-10",
    }

    api.put("/Payments", {"Payments": [{**payment, "Amount": 10}]})
    api.put(
        "/Payments",
        {"Payments": [{**payment, "Amount": invoice["AmountDue"] - 10, "Date": "2026-10-12"}]},
    )
    after = api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]

    assert after["Status"] == "PAID"
    assert after["FullyPaidOnDate"] == "/Date(1791763200000+0000)/"  # 2026-10-12


def test_a_credit_note_used_up_is_fully_paid_on_its_allocation_date(api: XeroApi) -> None:
    invoice = create_invoice(api)
    note = credit_note(api, invoice["Contact"]["ContactID"], amount=50.0)

    assert allocate(api, note, invoice, 60.0).status_code == 200
    after = api.get(f"/CreditNotes/{note['CreditNoteID']}").json()["CreditNotes"][0]

    assert after["Status"] == "PAID"
    assert after["FullyPaidOnDate"] == "/Date(1790985600000+0000)/"  # 2026-10-03


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def test_every_answer_carries_a_correlation_id_and_xeros_cache_headers(
    api: XeroApi, client: TestClient
) -> None:
    answers = {
        "organisation": api.get("/Organisation"),
        "not found": client.get(f"/api.xro/2.0/Invoices/{uuid.uuid4()}", headers=api.headers()),
        "no token": client.get("/api.xro/2.0/Organisation"),
        "connections": client.get("/connections", headers=api.headers()),
        "token": client.post("/connect/token", data={"grant_type": "refresh_token"}),
    }

    for name, response in answers.items():
        assert _is_uuid(response.headers.get("Xero-Correlation-Id", "")), name
        assert response.headers["Cache-Control"] == "max-age=0, no-cache, no-store", name
        assert response.headers["Pragma"] == "no-cache", name
    ids = {r.headers["Xero-Correlation-Id"] for r in answers.values()}
    assert len(ids) == len(answers)
    assert (
        answers["organisation"].json()["Id"]
        == answers["organisation"].headers["Xero-Correlation-Id"]
    )


def test_the_organisation_has_xeros_fields_and_empty_ones_as_xero_returns_them(
    api: XeroApi,
) -> None:
    org = api.get("/Organisation").json()["Organisations"][0]

    assert "APIKey" not in org
    assert org["Phones"] == []
    assert org["ExternalLinks"] == []
    assert org["PaymentTerms"] == {}
    address = org["Addresses"][0]
    assert address["Region"] == ""
    assert address["AttentionTo"] == ""


def test_sales_invoices_carry_the_organisations_branding_theme_bills_none(api: XeroApi) -> None:
    first = create_invoice(api)
    second = create_invoice(api)
    bill = create_invoice(
        api,
        Type="ACCPAY",
        InvoiceNumber="SUP-1",
        LineItems=[
            {
                "Description": "Diesel",
                "Quantity": 1,
                "UnitAmount": 100,
                "AccountCode": "330",
                "TaxType": "INPUT2",
            }
        ],
    )

    assert _is_uuid(first["BrandingThemeID"])
    assert second["BrandingThemeID"] == first["BrandingThemeID"]
    assert "BrandingThemeID" not in bill


def test_a_refused_contact_is_echoed_as_sent_with_xeros_nested_validation_errors(
    api: XeroApi,
) -> None:
    contact = {
        "Name": "Buzz Lightyear",
        "Addresses": [{"AddressType": "STREET", "City": "Leeds"}],
        "PaymentTerms": {"Sales": {"Day": 10, "Type": "DAYSAFTERBILLMONTH"}},
    }
    api.put("/Contacts", {"Contacts": [contact]})

    refused = api.put("/Contacts", {"Contacts": [contact]})

    assert refused.status_code == 400
    [element] = refused.json()["Elements"]
    assert element["ContactID"] == "00000000-0000-0000-0000-000000000000"
    assert "ContactStatus" not in element and "IsCustomer" not in element
    assert element["Addresses"] == [{**contact["Addresses"][0], "ValidationErrors": []}]
    assert element["PaymentTerms"]["Sales"]["ValidationErrors"] == []
    assert element["HasValidationErrors"] is True
    assert "is already assigned to another contact" in element["ValidationErrors"][0]["Message"]


def test_an_invoice_lists_its_credit_notes_and_tracking_with_the_fields_xero_records(
    api: XeroApi,
) -> None:
    invoice = create_invoice(
        api,
        LineItems=[
            {
                "Description": "Pallet storage",
                "Quantity": 1,
                "UnitAmount": 100,
                "AccountCode": "202",
                "TaxType": "OUTPUT2",
                "Tracking": [{"Name": "Business unit", "Option": "Warehousing"}],
            }
        ],
    )
    note = credit_note(api, invoice["Contact"]["ContactID"], amount=10.0)
    assert allocate(api, note, invoice, 12.0).status_code == 200

    after = api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]

    [credit] = after["CreditNotes"]
    assert credit["ID"] == credit["CreditNoteID"] == note["CreditNoteID"]
    assert credit["DateString"] == "2026-10-03T00:00:00"
    assert credit["Date"] == "/Date(1790985600000+0000)/"
    assert credit["LineItems"] == []
    assert after["LineItems"][0]["Tracking"][0]["Options"] == []


def test_the_call_log_keeps_each_answers_correlation_id(api: XeroApi, client: TestClient) -> None:
    answer = api.get("/Organisation")

    [call] = [c for c in client.get("/sandbox/calls").json() if c["path"].endswith("/Organisation")]

    assert call["correlation_id"] == answer.headers["Xero-Correlation-Id"]


def test_a_database_file_from_before_the_correlation_column_is_still_opened(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "sandbox.db")
    old = Store(path)
    old.execute("ALTER TABLE calls DROP COLUMN correlation_id")
    old.close()

    store = Store(path)
    store.log_call(
        {
            "at": 0.0,
            "method": "GET",
            "path": "/connections",
            "query": "",
            "tenant_id": None,
            "client_id": None,
            "status": 200,
            "idempotency_key": None,
            "duration_ms": 1.0,
            "correlation_id": "5b34a493-2126-46fa-9877-56d9a7a11cdb",
        }
    )

    assert store.calls()[0]["correlation_id"] == "5b34a493-2126-46fa-9877-56d9a7a11cdb"
    store.close()


# -- closed against Xero's documented answers (documentation examples, see recorded/) ------
def _pay(api: XeroApi, invoice: dict[str, Any], amount: float, on: str) -> dict[str, Any]:
    body = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": on,
        "Amount": amount,
    }
    answer: dict[str, Any] = api.put("/Payments", {"Payments": [body]}).json()["Payments"][0]
    return answer


def test_a_payment_shows_its_invoice_after_the_payment_and_its_accounts_name(
    api: XeroApi,
) -> None:
    invoice = create_invoice(api)

    payment = _pay(api, invoice, 10, "2026-10-10")

    shown = payment["Invoice"]
    assert shown["AmountPaid"] == 10.0
    assert shown["AmountDue"] == invoice["AmountDue"] - 10
    assert shown["Total"] == invoice["Total"]
    assert shown["Date"] == invoice["Date"] and shown["DueDate"] == invoice["DueDate"]
    assert shown["Contact"] == {
        "ContactID": invoice["Contact"]["ContactID"],
        "Name": invoice["Contact"]["Name"],
        "ContactPersons": [],
        "HasValidationErrors": False,
    }
    assert "Payments" not in shown and "CreditNotes" not in shown
    assert payment["Account"]["Name"]


def test_a_payment_read_alone_shows_its_invoices_payments_and_in_a_list_a_bare_invoice(
    api: XeroApi,
) -> None:
    invoice = create_invoice(api)
    first = _pay(api, invoice, 10, "2026-10-10")
    _pay(api, invoice, invoice["AmountDue"] - 10, "2026-10-12")

    alone = api.get(f"/Payments/{first['PaymentID']}").json()["Payments"][0]["Invoice"]
    listed = next(
        p["Invoice"]
        for p in api.get("/Payments").json()["Payments"]
        if p["PaymentID"] == first["PaymentID"]
    )

    assert alone["Status"] == "PAID" and alone["AmountDue"] == 0.0
    assert len(alone["Payments"]) == 2
    assert alone["FullyPaidOnDate"] == "/Date(1791763200000+0000)/"  # 2026-10-12
    assert "AmountDue" not in listed and listed["LineItems"] == []
    assert listed["Contact"]["Addresses"] == [] and listed["Payments"] == []


def test_a_credit_note_repeats_its_id_and_carries_no_applied_amount_or_error_flag(
    api: XeroApi,
) -> None:
    invoice = create_invoice(api)
    note = credit_note(api, invoice["Contact"]["ContactID"])
    allocated = allocate(api, note, invoice, 20).json()["Allocations"][0]
    read = api.get(f"/CreditNotes/{note['CreditNoteID']}").json()["CreditNotes"][0]
    on_invoice = api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]

    assert note["ID"] == note["CreditNoteID"]
    assert "AppliedAmount" not in read and "HasErrors" not in read
    assert read["RemainingCredit"] == note["Total"] - 20
    # Inside an invoice Xero does show what was applied (recorded).
    assert on_invoice["CreditNotes"][0]["AppliedAmount"] == 20.0
    assert allocated["ValidationErrors"] == [] and allocated["Invoice"]["ValidationErrors"] == []
    assert allocated["CreditNote"]["ID"] == note["CreditNoteID"]


def test_a_document_read_or_written_alone_embeds_the_whole_contact_a_list_a_summary(
    api: XeroApi,
) -> None:
    invoice = create_invoice(api)

    alone = api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]["Contact"]
    listed = api.get("/Invoices", params={"page": "1"}).json()["Invoices"][0]["Contact"]

    for whole in (invoice["Contact"], alone):
        assert whole["ContactStatus"] == "ACTIVE"
        assert WITH_OFFSET.match(whole["UpdatedDateUTC"])
        assert whole["IsCustomer"] is True
        assert "HasAttachments" not in whole
    assert "ContactStatus" not in listed and "UpdatedDateUTC" not in listed


def test_a_contacts_addresses_and_phones_carry_xeros_empty_fields(api: XeroApi) -> None:
    sent = {
        "Name": "Leeds Cold Store",
        "Addresses": [{"AddressType": "POBOX", "AddressLine1": "1 Dock St", "City": "Leeds"}],
        "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "555-1212"}],
    }

    contact = api.put("/Contacts", {"Contacts": [sent]}).json()["Contacts"][0]

    assert contact["Addresses"] == [
        {
            "AddressType": "POBOX",
            "AddressLine1": "1 Dock St",
            "City": "Leeds",
            "Region": "",
            "PostalCode": "",
            "Country": "",
            "AttentionTo": "",
        }
    ]
    assert contact["Phones"] == [
        {
            "PhoneType": "MOBILE",
            "PhoneNumber": "555-1212",
            "PhoneAreaCode": "",
            "PhoneCountryCode": "",
        }
    ]
    assert contact["BankAccountDetails"] == ""
    assert contact["SalesTrackingCategories"] == contact["PurchasesTrackingCategories"] == []


def test_an_attachment_names_include_online_only_when_it_is_shown_online(api: XeroApi) -> None:
    invoice = create_invoice(api)
    base = f"/Invoices/{invoice['InvoiceID']}/Attachments"

    def upload(name: str, **params: str) -> dict[str, Any]:
        answer = api.put(
            f"{base}/{name}",
            content=b"%PDF-1.4 body",
            params=params or None,
            headers={"Content-Type": "application/octet-stream"},
            check_request_body=False,
        )
        attachment: dict[str, Any] = answer.json()["Attachments"][0]
        return attachment

    hidden = upload("POD.pdf")
    online = upload("INV-001.pdf", IncludeOnline="true")

    assert "IncludeOnline" not in hidden
    assert online["IncludeOnline"] is True


def test_accounts_leave_out_reporting_codes_that_are_not_set(api: XeroApi) -> None:
    accounts = api.get("/Accounts").json()["Accounts"]

    assert all("ReportingCode" not in a and "ReportingCodeName" not in a for a in accounts)
    assert all(a["Status"] and a["Class"] for a in accounts)


def test_numbers_are_written_with_xeros_fixed_decimals(api: XeroApi) -> None:
    invoice = create_invoice(api)

    raw = api.get(f"/Invoices/{invoice['InvoiceID']}").text

    assert re.search(r'"Total":\d+\.\d{2}[,}]', raw)  # money: 583.20, never 583.2
    assert re.search(r'"UnitAmount":450\.00[,}]', raw)
    assert re.search(r'"Quantity":1\.0000[,}]', raw)
    assert re.search(r'"CurrencyRate":1\.000000[,}]', raw)
    assert (
        api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]["Total"]
        == (invoice["Total"])
    )


def test_a_unit_price_kept_to_four_places_is_written_with_four(api: XeroApi) -> None:
    answer = api.put(
        "/Invoices",
        {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"Name": "Midlands Steel Ltd"},
                    "Date": "2026-10-01",
                    "DueDate": "2026-10-31",
                    "LineItems": [
                        {
                            "Description": "Pallet space, per day",
                            "Quantity": 3,
                            "UnitAmount": 1.2345,
                            "AccountCode": "202",
                            "TaxType": "OUTPUT2",
                        }
                    ],
                }
            ]
        },
        params={"unitdp": "4"},
    )

    assert '"UnitAmount":1.2345' in answer.text
    assert re.search(r'"LineAmount":3\.70[,}]', answer.text)
