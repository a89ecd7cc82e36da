"""Contacts: create, create-or-update, lookups by where / IDs / ContactNumber, paging."""

from __future__ import annotations

from .conftest import XeroApi, error_messages


def put_contact(api: XeroApi, **fields: object) -> dict:  # type: ignore[type-arg]
    response = api.put("/Contacts", {"Contacts": [{"Name": "Acme Freight", **fields}]})
    assert response.status_code == 200, response.text
    return response.json()["Contacts"][0]  # type: ignore[no-any-return]


def test_create_a_contact(api: XeroApi) -> None:
    contact = put_contact(api, ContactNumber="CUST-1", EmailAddress="ap@acme.example")

    assert contact["ContactStatus"] == "ACTIVE"
    assert contact["ContactNumber"] == "CUST-1"
    assert contact["UpdatedDateUTC"].startswith("/Date(")


def test_contact_names_must_be_unique(api: XeroApi) -> None:
    put_contact(api)

    response = api.put("/Contacts", {"Contacts": [{"Name": "Acme Freight"}]})

    assert response.status_code == 400
    assert error_messages(response) == [
        "The contact name Acme Freight is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    ]


def test_post_updates_by_contact_number(api: XeroApi) -> None:
    created = put_contact(api, ContactNumber="CUST-2")

    response = api.post(
        "/Contacts", {"Contacts": [{"ContactNumber": "CUST-2", "Name": "Acme Freight Ltd"}]}
    )

    updated = response.json()["Contacts"][0]
    assert updated["ContactID"] == created["ContactID"]
    assert updated["Name"] == "Acme Freight Ltd"


def test_get_by_contact_number_in_the_path(api: XeroApi) -> None:
    created = put_contact(api, ContactNumber="CUST-3")

    response = api.get("/Contacts/CUST-3")

    assert response.json()["Contacts"][0]["ContactID"] == created["ContactID"]


def test_where_by_name_and_by_contact_number(api: XeroApi) -> None:
    created = put_contact(api, ContactNumber="CUST-4")
    put_contact(api, Name="Someone Else")

    by_name = api.get("/Contacts", params={"where": 'Name=="Acme Freight"'}).json()["Contacts"]
    by_number = api.get("/Contacts", params={"where": 'ContactNumber=="CUST-4"'}).json()["Contacts"]

    assert [c["ContactID"] for c in by_name] == [created["ContactID"]]
    assert [c["ContactID"] for c in by_number] == [created["ContactID"]]


def test_where_with_a_quote_and_and_inside_the_name(api: XeroApi) -> None:
    created = put_contact(api, Name="Smith AND Sons")

    found = api.get("/Contacts", params={"where": 'Name=="Smith AND Sons"'}).json()["Contacts"]

    assert [c["ContactID"] for c in found] == [created["ContactID"]]


def test_filter_by_ids(api: XeroApi) -> None:
    first = put_contact(api)
    put_contact(api, Name="B")

    found = api.get("/Contacts", params={"IDs": first["ContactID"]}).json()["Contacts"]

    assert [c["ContactID"] for c in found] == [first["ContactID"]]


def test_archived_contacts_are_hidden_unless_asked_for(api: XeroApi) -> None:
    created = put_contact(api)
    api.post(f"/Contacts/{created['ContactID']}", {"Contacts": [{"ContactStatus": "ARCHIVED"}]})

    assert api.get("/Contacts").json()["Contacts"] == []
    assert len(api.get("/Contacts", params={"includeArchived": "true"}).json()["Contacts"]) == 1


def test_contacts_page_with_pagination(api: XeroApi) -> None:
    api.put("/Contacts", {"Contacts": [{"Name": f"Customer {i}"} for i in range(3)]})

    body = api.get("/Contacts", params={"page": 1, "pageSize": 2}).json()

    assert len(body["Contacts"]) == 2
    assert body["pagination"]["pageCount"] == 2


def test_summarize_errors_false_for_contacts(api: XeroApi) -> None:
    put_contact(api)

    response = api.put(
        "/Contacts",
        {"Contacts": [{"Name": "Fresh"}, {"Name": "Acme Freight"}]},
        params={"summarizeErrors": "false"},
    )

    assert [c["StatusAttributeString"] for c in response.json()["Contacts"]] == ["OK", "ERROR"]
