"""What reading the books cheaply relies on, as Xero does it: summaries, large pages,
batches of ids, and If-Modified-Since on invoices and credit notes alike."""

from __future__ import annotations

from .conftest import API, XeroApi, create_invoice, sales_invoice
from .test_documents import credit_note


def test_a_summary_page_of_invoices_has_no_lines_but_keeps_totals_and_amount_due(
    api: XeroApi,
) -> None:
    create_invoice(api)

    body = api.get("/Invoices", params={"page": 1, "summaryOnly": "true"}).json()

    [invoice] = body["Invoices"]
    assert "LineItems" not in invoice
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (486.0, 97.2, 583.2)
    assert invoice["AmountDue"] == 583.2
    assert invoice["Contact"]["ContactID"]


def test_a_page_of_invoices_not_asked_as_summaries_carries_their_lines(api: XeroApi) -> None:
    create_invoice(api)

    body = api.get("/Invoices", params={"page": 1, "pageSize": 1000}).json()

    [invoice] = body["Invoices"]
    assert invoice["LineItems"]
    assert invoice["LineItems"][0]["AccountCode"]


def test_a_page_holds_up_to_a_thousand_documents_and_no_more(api: XeroApi) -> None:
    for _ in range(11):
        api.put("/Invoices", {"Invoices": [sales_invoice() for _ in range(100)]})

    largest = api.get("/Invoices", params={"page": 1, "pageSize": 1000}).json()
    beyond = api.get("/Invoices", params={"page": 1, "pageSize": 5000}).json()

    assert len(largest["Invoices"]) == 1000
    assert largest["pagination"] == {
        "page": 1,
        "pageSize": 1000,
        "pageCount": 2,
        "itemCount": 1100,
    }
    assert beyond["pagination"]["pageSize"] == 1000


def test_invoices_asked_for_by_ids_come_with_their_lines(api: XeroApi) -> None:
    first, _, third = (create_invoice(api) for _ in range(3))

    body = api.get(
        "/Invoices", params={"IDs": f"{first['InvoiceID']},{third['InvoiceID']}", "page": 1}
    ).json()

    assert {i["InvoiceID"] for i in body["Invoices"]} == {first["InvoiceID"], third["InvoiceID"]}
    assert all(i["LineItems"] for i in body["Invoices"])


def test_credit_notes_have_no_summary_their_pages_carry_lines(api: XeroApi) -> None:
    contact_id = create_invoice(api)["Contact"]["ContactID"]
    credit_note(api, contact_id)

    # summaryOnly is not a CreditNotes parameter: Xero ignores it.
    body = api.get(
        "/CreditNotes", params={"page": 1, "summaryOnly": "true"}, check_request=False
    ).json()

    assert body["CreditNotes"][0]["LineItems"]


def test_if_modified_since_on_credit_notes_returns_only_later_changes(
    api: XeroApi,
    sandbox,  # type: ignore[no-untyped-def]
) -> None:
    contact_id = create_invoice(api)["Contact"]["ContactID"]
    credit_note(api, contact_id)
    sandbox.clock.advance(60)
    cutoff = sandbox.clock.now_dt().strftime("%Y-%m-%dT%H:%M:%SZ")
    sandbox.clock.advance(60)
    later = credit_note(api, contact_id)

    body = api.get("/CreditNotes", params={"page": 1}, headers={"If-Modified-Since": cutoff}).json()

    assert [c["CreditNoteID"] for c in body["CreditNotes"]] == [later["CreditNoteID"]]


def test_a_url_longer_than_xeros_gateway_takes_is_not_found(api: XeroApi) -> None:
    # Xero's gateway refuses a URL beyond about 2,091 characters with its plain 404:
    # 52 ids fit in IDs= (commas sent as %2C), 53 do not.
    created = api.put("/Invoices", {"Invoices": [sales_invoice() for _ in range(53)]}).json()
    ids = [i["InvoiceID"] for i in created["Invoices"]]

    fits = api.get("/Invoices", params={"IDs": ",".join(ids[:52]), "page": 1})
    # Not contract-checked: the gateway's answer is not the API's.
    too_long = api.client.get(
        f"{API}/Invoices", params={"IDs": ",".join(ids), "page": 1}, headers=api.headers()
    )

    assert len(fits.json()["Invoices"]) == 52
    assert too_long.status_code == 404
    assert too_long.text == "The resource you're looking for cannot be found"
