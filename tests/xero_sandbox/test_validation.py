"""One test per validation rule, each checked against Xero's ApiException shape."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.testclient import TestClient

from xero_sandbox.seed import DEMO_TENANT_ID

from .conftest import XeroApi, create_invoice, error_messages, sales_invoice


def line(**overrides: Any) -> dict[str, Any]:
    item = {
        "Description": "Freight",
        "Quantity": 1,
        "UnitAmount": 100,
        "AccountCode": "200",
        "TaxType": "OUTPUT2",
    }
    item.update(overrides)
    return item


def put_invoice(api: XeroApi, **overrides: Any) -> httpx.Response:
    return api.put("/Invoices", {"Invoices": [sales_invoice(**overrides)]})


def assert_validation_exception(response: httpx.Response, message: str) -> None:
    body = response.json()
    assert response.status_code == 400
    assert body["ErrorNumber"] == 10
    assert body["Type"] == "ValidationException"
    assert body["Message"] == "A validation exception occurred"
    assert message in error_messages(response)


def test_unknown_account_code(api: XeroApi) -> None:
    response = put_invoice(api, LineItems=[line(AccountCode="999")])

    assert_validation_exception(
        response, "Account code '999' is not a valid code for this document."
    )


def test_bank_account_code_is_not_valid_on_an_invoice_line(api: XeroApi) -> None:
    response = put_invoice(api, LineItems=[line(AccountCode="090")])

    assert_validation_exception(
        response, "Account code '090' is not a valid code for this document."
    )


def test_archived_account(api: XeroApi, client: TestClient) -> None:
    client.post(f"/sandbox/orgs/{DEMO_TENANT_ID}/accounts/201/archive")

    response = put_invoice(api, LineItems=[line(AccountCode="201")])

    assert_validation_exception(
        response,
        "Account code '201' has been archived, or has been deleted. "
        "Each line item must reference a valid account.",
    )


def test_unknown_tax_type(api: XeroApi) -> None:
    response = put_invoice(api, LineItems=[line(TaxType="VAT20")])

    assert_validation_exception(
        response,
        "The TaxType code 'VAT20' does not exist or cannot be used for this type of transaction.",
    )


def test_purchase_tax_type_on_a_sales_invoice(api: XeroApi) -> None:
    response = put_invoice(api, LineItems=[line(TaxType="INPUT2")])

    assert_validation_exception(
        response,
        "The TaxType code 'INPUT2' does not exist or cannot be used for this type of transaction.",
    )


def test_sales_tax_type_on_a_bill(api: XeroApi) -> None:
    response = put_invoice(
        api, Type="ACCPAY", LineItems=[line(AccountCode="330", TaxType="OUTPUT2")]
    )

    assert_validation_exception(
        response,
        "The TaxType code 'OUTPUT2' does not exist or cannot be used for this type of transaction.",
    )


def test_tracking_option_that_does_not_exist(api: XeroApi) -> None:
    response = put_invoice(
        api, LineItems=[line(Tracking=[{"Name": "Business unit", "Option": "Cardiff"}])]
    )

    assert_validation_exception(
        response,
        "The tracking option 'Cardiff' does not exist for the tracking category 'Business unit'.",
    )


def test_tracking_category_that_does_not_exist(api: XeroApi) -> None:
    response = put_invoice(api, LineItems=[line(Tracking=[{"Name": "Fleet", "Option": "A"}])])

    assert_validation_exception(response, "The tracking category 'Fleet' does not exist.")


def test_contact_missing(api: XeroApi) -> None:
    invoice = sales_invoice()
    del invoice["Contact"]

    response = api.put("/Invoices", {"Invoices": [invoice]})

    assert_validation_exception(
        response, "A Contact must be specified for this type of transaction"
    )


def test_contact_id_that_does_not_exist(api: XeroApi) -> None:
    response = put_invoice(api, Contact={"ContactID": "0b6e7c2a-0000-4000-8000-000000000000"})

    assert_validation_exception(
        response, "The contact with ContactID 0b6e7c2a-0000-4000-8000-000000000000 does not exist."
    )


def test_duplicate_sales_invoice_number(api: XeroApi) -> None:
    create_invoice(api, InvoiceNumber="TMS-1")

    response = put_invoice(api, InvoiceNumber="TMS-1")

    assert_validation_exception(response, "Invoice # must be unique.")


def test_duplicate_sales_invoice_number_within_one_batch(api: XeroApi) -> None:
    response = api.put(
        "/Invoices",
        {"Invoices": [sales_invoice(InvoiceNumber="TMS-2"), sales_invoice(InvoiceNumber="TMS-2")]},
    )

    assert_validation_exception(response, "Invoice # must be unique.")


def test_line_amount_not_equal_to_quantity_times_unit_amount(api: XeroApi) -> None:
    response = put_invoice(api, LineItems=[line(Quantity=2, UnitAmount=100, LineAmount=150)])

    assert_validation_exception(
        response,
        "The line amount 150.00 does not equal the quantity multiplied by the unit amount (200.00).",
    )


def test_total_not_equal_to_the_sum_of_the_lines(api: XeroApi) -> None:
    response = put_invoice(api, LineItems=[line()], Total=500)

    assert_validation_exception(response, "The document total does not equal the sum of the lines.")


def test_date_on_or_before_the_lock_date(api: XeroApi, client: TestClient) -> None:
    client.post(
        f"/sandbox/orgs/{DEMO_TENANT_ID}/lock-date", json={"period_lock_date": "2026-09-30"}
    )

    response = put_invoice(api, Date="2026-09-15")

    assert_validation_exception(
        response,
        "The document date cannot be before the period lock date, currently set to 30 Sep 2026.",
    )


def test_a_draft_may_be_dated_inside_the_lock_period(api: XeroApi, client: TestClient) -> None:
    client.post(
        f"/sandbox/orgs/{DEMO_TENANT_ID}/lock-date", json={"period_lock_date": "2026-09-30"}
    )

    response = put_invoice(api, Date="2026-09-15", Status="DRAFT")

    assert response.status_code == 200


def test_an_approved_invoice_in_the_lock_period_cannot_be_moved_out(
    api: XeroApi, client: TestClient
) -> None:
    invoice = create_invoice(api, Date="2026-09-15")
    client.post(
        f"/sandbox/orgs/{DEMO_TENANT_ID}/lock-date", json={"period_lock_date": "2026-09-30"}
    )

    response = api.post(f"/Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Date": "2026-10-15"}]})

    assert_validation_exception(
        response,
        "The document date cannot be before the period lock date, currently set to 30 Sep 2026.",
    )


def test_editing_a_paid_invoice(api: XeroApi, client: TestClient) -> None:
    invoice = create_invoice(api)
    client.post(
        f"/sandbox/orgs/{DEMO_TENANT_ID}/payments", json={"invoice_id": invoice["InvoiceID"]}
    )

    response = api.post(
        f"/Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Reference": "changed"}]}
    )

    assert_validation_exception(response, "Invoice not of valid status for modification")


def test_editing_a_part_paid_invoice(api: XeroApi, client: TestClient) -> None:
    invoice = create_invoice(api)
    client.post(
        f"/sandbox/orgs/{DEMO_TENANT_ID}/payments",
        json={"invoice_id": invoice["InvoiceID"], "amount": 10},
    )

    response = api.post(
        f"/Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Reference": "changed"}]}
    )

    assert_validation_exception(
        response,
        "This document cannot be edited as it has a payment or credit note allocated to it.",
    )


def test_editing_a_voided_invoice(api: XeroApi) -> None:
    invoice = create_invoice(api)
    api.post(f"/Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]})

    response = api.post(
        f"/Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Status": "AUTHORISED"}]}
    )

    assert_validation_exception(response, "Invoice not of valid status for modification")


def test_allocation_above_the_amount_due(api: XeroApi) -> None:
    invoice = create_invoice(api, LineItems=[line(UnitAmount=100)])
    note = api.put(
        "/CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"ContactID": invoice["Contact"]["ContactID"]},
                    "Date": "2026-10-02",
                    "Status": "AUTHORISED",
                    "LineItems": [line(UnitAmount=500)],
                }
            ]
        },
    ).json()["CreditNotes"][0]

    response = api.put(
        f"/CreditNotes/{note['CreditNoteID']}/Allocations",
        {
            "Allocations": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Amount": 130,
                    "Date": "2026-10-03",
                }
            ]
        },
    )

    assert_validation_exception(
        response, "The amount being allocated exceeds the amount outstanding on the invoice."
    )


def test_payment_above_the_amount_due(api: XeroApi) -> None:
    invoice = create_invoice(api, LineItems=[line(UnitAmount=100)])

    response = api.put(
        "/Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Account": {"Code": "090"},
                    "Amount": 500,
                    "Date": "2026-10-05",
                }
            ]
        },
    )

    assert_validation_exception(
        response, "Payment amount exceeds the amount outstanding on this document"
    )


def test_currency_the_organisation_does_not_use(api: XeroApi) -> None:
    response = put_invoice(api, CurrencyCode="NZD")

    assert_validation_exception(response, "Organisation is not subscribed to currency NZD")


def test_a_currency_the_organisation_has_enabled_is_accepted(api: XeroApi) -> None:
    response = put_invoice(api, CurrencyCode="EUR")

    assert response.status_code == 200
    assert response.json()["Invoices"][0]["CurrencyCode"] == "EUR"


def test_authorised_invoice_needs_line_items(api: XeroApi) -> None:
    response = put_invoice(api, LineItems=[])

    assert_validation_exception(response, "One or more line items must be specified")


def test_validation_elements_echo_the_submitted_document(api: XeroApi) -> None:
    response = put_invoice(api, Reference="ECHO-ME", LineItems=[line(AccountCode="999")])

    element = response.json()["Elements"][0]
    assert element["Reference"] == "ECHO-ME"
    assert element["HasErrors"] is True
