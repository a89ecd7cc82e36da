"""Invoices through the accounting API: creating, reading, filtering, batches, idempotency."""

from __future__ import annotations

from decimal import Decimal

from starlette.testclient import TestClient

from .conftest import XeroApi, create_invoice, error_messages, sales_invoice


def test_creating_an_invoice_prices_lines_and_returns_xero_shapes(api: XeroApi) -> None:
    invoice = create_invoice(api)

    assert invoice["Type"] == "ACCREC"
    assert invoice["InvoiceNumber"] == "INV-0001"
    assert invoice["SubTotal"] == 486.0
    assert invoice["TotalTax"] == 97.2
    assert invoice["Total"] == 583.2
    assert invoice["AmountDue"] == 583.2
    assert invoice["Date"] == "/Date(1790812800000+0000)/"
    assert invoice["DateString"] == "2026-10-01T00:00:00"
    assert invoice["UpdatedDateUTC"].startswith("/Date(")
    assert invoice["LineItems"][0]["LineAmount"] == 450.0
    assert invoice["LineItems"][0]["TaxAmount"] == 90.0


def test_response_envelope_carries_id_status_provider_and_time(api: XeroApi) -> None:
    body = api.get("/Organisation").json()

    assert body["Status"] == "OK"
    assert body["ProviderName"] == "LedgerBridge (demo)"
    assert body["DateTimeUTC"].startswith("/Date(")
    assert body["Organisations"][0]["BaseCurrency"] == "GBP"


def test_tax_inclusive_lines_split_out_the_vat(api: XeroApi) -> None:
    invoice = create_invoice(
        api,
        LineAmountTypes="Inclusive",
        LineItems=[
            {"Description": "Pallet", "Quantity": 1, "UnitAmount": 120, "AccountCode": "200"}
        ],
    )

    assert invoice["Total"] == 120.0
    assert invoice["TotalTax"] == 20.0
    assert invoice["SubTotal"] == 100.0


def test_an_unknown_contact_name_creates_the_contact(api: XeroApi) -> None:
    create_invoice(api, Contact={"Name": "Brand New Freight Co"})

    contacts = api.get("/Contacts", params={"where": 'Name=="Brand New Freight Co"'}).json()
    assert len(contacts["Contacts"]) == 1
    assert contacts["Contacts"][0]["IsCustomer"] is True


def test_get_by_id_and_by_number_return_the_same_invoice(api: XeroApi) -> None:
    invoice = create_invoice(api)

    by_id = api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    # Xero accepts a number where the spec says uuid, so only the response is checked.
    by_number = api.get(f"/Invoices/{invoice['InvoiceNumber']}", check_request=False)
    by_number = by_number.json()["Invoices"][0]

    assert by_id["InvoiceID"] == by_number["InvoiceID"] == invoice["InvoiceID"]
    assert by_id["LineItems"]


def test_unknown_invoice_is_a_404(api: XeroApi) -> None:
    response = api.get("/Invoices/7c8f9a86-0000-4000-8000-000000000000")

    assert response.status_code == 404
    assert "cannot be found" in response.text


def test_filter_by_ids_and_invoice_numbers(api: XeroApi) -> None:
    first = create_invoice(api)
    second = create_invoice(api)
    create_invoice(api)

    by_ids = api.get("/Invoices", params={"IDs": f"{first['InvoiceID']},{second['InvoiceID']}"})
    by_numbers = api.get("/Invoices", params={"InvoiceNumbers": first["InvoiceNumber"]})

    assert {i["InvoiceID"] for i in by_ids.json()["Invoices"]} == {
        first["InvoiceID"],
        second["InvoiceID"],
    }
    assert [i["InvoiceID"] for i in by_numbers.json()["Invoices"]] == [first["InvoiceID"]]


def test_filter_by_statuses(api: XeroApi) -> None:
    create_invoice(api, Status="DRAFT")
    authorised = create_invoice(api)

    body = api.get("/Invoices", params={"Statuses": "AUTHORISED"}).json()

    assert [i["InvoiceID"] for i in body["Invoices"]] == [authorised["InvoiceID"]]


def test_where_with_type_and_status_combined_by_and(api: XeroApi) -> None:
    create_invoice(api, Status="DRAFT")
    wanted = create_invoice(api)
    api.put(
        "/Invoices",
        {
            "Invoices": [
                sales_invoice(
                    Type="ACCPAY",
                    InvoiceNumber="SUP-1",
                    LineItems=[
                        {
                            "Description": "Diesel",
                            "Quantity": 1,
                            "UnitAmount": 100,
                            "AccountCode": "330",
                        }
                    ],
                )
            ]
        },
    )

    body = api.get("/Invoices", params={"where": 'Type=="ACCREC" AND Status=="AUTHORISED"'}).json()

    assert [i["InvoiceID"] for i in body["Invoices"]] == [wanted["InvoiceID"]]


def test_where_on_contact_and_date(api: XeroApi) -> None:
    create_invoice(api, Contact={"Name": "North Co"}, Date="2026-01-05")
    late = create_invoice(api, Contact={"Name": "North Co"}, Date="2026-06-05")

    body = api.get(
        "/Invoices",
        params={"where": 'Contact.Name=="North Co" && Date>=DateTime(2026, 03, 01)'},
    ).json()

    assert [i["InvoiceID"] for i in body["Invoices"]] == [late["InvoiceID"]]


def test_a_where_clause_that_cannot_be_read_is_a_validation_error(api: XeroApi) -> None:
    response = api.get("/Invoices", params={"where": "Status=DRAFT"})

    assert response.status_code == 400
    assert response.json()["Type"] == "ValidationException"


def test_paging_returns_pages_of_100_with_line_items(api: XeroApi) -> None:
    api.put("/Invoices", {"Invoices": [sales_invoice() for _ in range(105)]})

    first = api.get("/Invoices", params={"page": 1}).json()
    second = api.get("/Invoices", params={"page": 2}).json()

    assert len(first["Invoices"]) == 100
    assert len(second["Invoices"]) == 5
    assert first["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 2, "itemCount": 105}
    assert first["Invoices"][0]["LineItems"]


def test_lists_without_paging_leave_out_line_items(api: XeroApi) -> None:
    create_invoice(api)

    body = api.get("/Invoices").json()

    assert "LineItems" not in body["Invoices"][0]


def test_if_modified_since_returns_only_later_changes(api: XeroApi, sandbox) -> None:  # type: ignore[no-untyped-def]
    create_invoice(api)
    sandbox.clock.advance(60)
    cutoff = sandbox.clock.now_dt().strftime("%Y-%m-%dT%H:%M:%SZ")
    sandbox.clock.advance(60)
    later = create_invoice(api)

    body = api.get("/Invoices", headers={"If-Modified-Since": cutoff}).json()

    assert [i["InvoiceID"] for i in body["Invoices"]] == [later["InvoiceID"]]


def test_one_bad_invoice_fails_the_whole_batch_by_default(api: XeroApi) -> None:
    bad = sales_invoice(
        LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "999"}]
    )

    response = api.put("/Invoices", {"Invoices": [sales_invoice(), bad]})

    assert response.status_code == 400
    assert response.json()["ErrorNumber"] == 10
    assert len(response.json()["Elements"]) == 1
    assert api.get("/Invoices").json()["Invoices"] == []


def test_summarize_errors_false_reports_each_item(api: XeroApi) -> None:
    bad = sales_invoice(
        LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "999"}]
    )

    response = api.put(
        "/Invoices", {"Invoices": [sales_invoice(), bad]}, params={"summarizeErrors": "false"}
    )

    items = response.json()["Invoices"]
    assert response.status_code == 200
    assert [i["StatusAttributeString"] for i in items] == ["OK", "ERROR"]
    assert items[1]["HasErrors"] is True
    assert items[1]["InvoiceID"] == "00000000-0000-0000-0000-000000000000"
    assert items[1]["ValidationErrors"][0]["Message"].startswith("Account code '999'")
    assert len(api.get("/Invoices").json()["Invoices"]) == 1


def test_post_updates_an_existing_invoice(api: XeroApi) -> None:
    invoice = create_invoice(api, Status="DRAFT")

    response = api.post(
        f"/Invoices/{invoice['InvoiceID']}",
        {"Invoices": [{"Reference": "PO-77", "Status": "AUTHORISED"}]},
    )

    updated = response.json()["Invoices"][0]
    assert updated["Reference"] == "PO-77"
    assert updated["Status"] == "AUTHORISED"
    assert updated["InvoiceNumber"] == invoice["InvoiceNumber"]


def test_post_matches_a_sales_invoice_by_number(api: XeroApi) -> None:
    invoice = create_invoice(api, Status="DRAFT", InvoiceNumber="TMS-100")

    response = api.post(
        "/Invoices", {"Invoices": [sales_invoice(InvoiceNumber="TMS-100", Reference="again")]}
    )

    assert response.json()["Invoices"][0]["InvoiceID"] == invoice["InvoiceID"]
    assert len(api.get("/Invoices").json()["Invoices"]) == 1


def test_bills_may_repeat_a_supplier_invoice_number(api: XeroApi) -> None:
    bill = sales_invoice(
        Type="ACCPAY",
        InvoiceNumber="HAULIER-9",
        Contact={"Name": "Sub Haulier Ltd"},
        LineItems=[
            {"Description": "Subcontract", "Quantity": 1, "UnitAmount": 300, "AccountCode": "320"}
        ],
    )

    response = api.put("/Invoices", {"Invoices": [bill, bill]})

    assert response.status_code == 200
    assert len(response.json()["Invoices"]) == 2


def test_draft_submitted_authorised_voided_transitions(api: XeroApi) -> None:
    invoice = create_invoice(api, Status="DRAFT")
    path = f"/Invoices/{invoice['InvoiceID']}"

    statuses = []
    for status in ("SUBMITTED", "AUTHORISED", "VOIDED"):
        response = api.post(path, {"Invoices": [{"Status": status}]})
        statuses.append(response.json()["Invoices"][0]["Status"])

    assert statuses == ["SUBMITTED", "AUTHORISED", "VOIDED"]


def test_an_authorised_invoice_cannot_be_deleted(api: XeroApi) -> None:
    invoice = create_invoice(api)

    response = api.post(f"/Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Status": "DELETED"}]})

    assert response.status_code == 400
    assert error_messages(response) == ["Invoice not of valid status for modification"]


def test_a_draft_can_be_deleted(api: XeroApi) -> None:
    invoice = create_invoice(api, Status="DRAFT")

    response = api.post(f"/Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Status": "DELETED"}]})

    assert response.json()["Invoices"][0]["Status"] == "DELETED"


def test_an_invoice_cannot_be_created_as_paid(api: XeroApi) -> None:
    response = api.put("/Invoices", {"Invoices": [sales_invoice(Status="PAID")]})

    assert error_messages(response) == ["Invoice not of valid status for creation"]


def test_idempotency_key_replays_the_first_response(api: XeroApi) -> None:
    body = {"Invoices": [sales_invoice()]}
    headers = {"Idempotency-Key": "tms-inv-1-attempt-1"}

    first = api.put("/Invoices", body, headers=headers)
    second = api.put("/Invoices", body, headers=headers)

    assert second.status_code == 200
    assert second.json() == first.json()
    assert len(api.get("/Invoices").json()["Invoices"]) == 1


def test_idempotency_key_reused_with_another_body_is_refused(api: XeroApi) -> None:
    headers = {"Idempotency-Key": "tms-inv-2"}
    api.put("/Invoices", {"Invoices": [sales_invoice()]}, headers=headers)

    response = api.put(
        "/Invoices", {"Invoices": [sales_invoice(Reference="other")]}, headers=headers
    )

    assert response.status_code == 400
    assert (
        response.json()["Message"] == "Idempotency Key: tms-inv-2 is used with a different request."
    )
    assert len(api.get("/Invoices").json()["Invoices"]) == 1


def test_idempotency_keys_longer_than_128_characters_are_refused(api: XeroApi) -> None:
    response = api.put(
        "/Invoices", {"Invoices": [sales_invoice()]}, headers={"Idempotency-Key": "k" * 129}
    )

    assert response.status_code == 400


def test_created_by_my_app_filters_other_apps_documents(
    api: XeroApi,
    client: TestClient,
    api_for,  # type: ignore[no-untyped-def]
) -> None:
    client.post("/sandbox/apps", json={"client_id": "OTHER", "client_secret": "s"})
    other = api_for(client_id="OTHER")
    create_invoice(other)
    mine = create_invoice(api)

    body = api.get("/Invoices", params={"createdByMyApp": "true"}).json()

    assert [i["InvoiceID"] for i in body["Invoices"]] == [mine["InvoiceID"]]


def test_unit_amounts_keep_four_decimals_with_unitdp_4(api: XeroApi) -> None:
    response = api.put(
        "/Invoices",
        {
            "Invoices": [
                sales_invoice(
                    LineItems=[
                        {
                            "Description": "Per km",
                            "Quantity": 100,
                            "UnitAmount": 1.2345,
                            "AccountCode": "200",
                        }
                    ]
                )
            ]
        },
        params={"unitdp": 4},
    )

    line = response.json()["Invoices"][0]["LineItems"][0]
    assert line["UnitAmount"] == 1.2345
    assert Decimal(str(line["LineAmount"])) == Decimal("123.45")


def test_a_batch_naming_one_new_contact_creates_it_once(api: XeroApi) -> None:
    api.put(
        "/Invoices", {"Invoices": [sales_invoice(Contact={"Name": "Once Ltd"}) for _ in range(3)]}
    )

    contacts = api.get("/Contacts", params={"where": 'Name=="Once Ltd"'}).json()["Contacts"]

    assert len(contacts) == 1


def test_where_by_contact_id_guid(api: XeroApi) -> None:
    wanted = create_invoice(api, Contact={"Name": "Guid Co"})
    create_invoice(api, Contact={"Name": "Other Co"})

    body = api.get(
        "/Invoices",
        params={"where": f'Contact.ContactID==Guid("{wanted["Contact"]["ContactID"]}")'},
    ).json()

    assert [i["InvoiceID"] for i in body["Invoices"]] == [wanted["InvoiceID"]]


def test_where_with_or(api: XeroApi) -> None:
    draft = create_invoice(api, Status="DRAFT")
    submitted = create_invoice(api, Status="SUBMITTED")
    create_invoice(api)

    body = api.get("/Invoices", params={"where": 'Status=="DRAFT" OR Status=="SUBMITTED"'}).json()

    assert {i["InvoiceID"] for i in body["Invoices"]} == {
        draft["InvoiceID"],
        submitted["InvoiceID"],
    }


def test_order_by_invoice_number_descending(api: XeroApi) -> None:
    for _ in range(3):
        create_invoice(api)

    body = api.get("/Invoices", params={"order": "InvoiceNumber DESC"}).json()

    assert [i["InvoiceNumber"] for i in body["Invoices"]] == ["INV-0003", "INV-0002", "INV-0001"]


def test_lists_keep_creation_order_after_updates(api: XeroApi) -> None:
    first = create_invoice(api, Status="DRAFT")
    second = create_invoice(api, Status="DRAFT")
    api.post(f"/Invoices/{first['InvoiceID']}", {"Invoices": [{"Reference": "touched"}]})

    body = api.get("/Invoices").json()

    assert [i["InvoiceID"] for i in body["Invoices"]] == [first["InvoiceID"], second["InvoiceID"]]
