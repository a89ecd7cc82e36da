"""Organisation, Accounts, TaxRates and TrackingCategories of the demo organisation."""

from __future__ import annotations

from starlette.testclient import TestClient

from xero_sandbox.seed import DEMO_TENANT_ID

from .conftest import XeroApi, error_messages


def test_demo_organisation_is_a_uk_company_in_gbp(api: XeroApi) -> None:
    org = api.get("/Organisation").json()["Organisations"][0]

    assert org["Name"] == "Demo Company (UK)"
    assert org["OrganisationID"] == DEMO_TENANT_ID
    assert org["CountryCode"] == "GB"
    assert org["Version"] == "UK"
    assert org["ShortCode"] == "!Demo1"


def test_demo_chart_has_haulage_revenue_and_cost_accounts(api: XeroApi) -> None:
    accounts = {a["Code"]: a for a in api.get("/Accounts").json()["Accounts"]}

    assert accounts["090"]["Type"] == "BANK"
    assert accounts["200"]["Name"] == "Sales - Freight"
    assert accounts["201"]["Name"] == "Fuel surcharge income"
    assert accounts["310"]["Name"] == "Cost of Goods Sold"
    assert (accounts["320"]["Name"], accounts["330"]["Name"], accounts["340"]["Name"]) == (
        "Subcontractor costs",
        "Fuel",
        "Tolls",
    )
    assert accounts["200"]["TaxType"] == "OUTPUT2"


def test_demo_tax_rates_use_xeros_uk_tax_types(api: XeroApi) -> None:
    rates = {r["TaxType"]: r for r in api.get("/TaxRates").json()["TaxRates"]}

    assert rates["OUTPUT2"]["Name"] == "20% (VAT on Income)"
    assert rates["INPUT2"]["Name"] == "20% (VAT on Expenses)"
    assert rates["NONE"]["Name"] == "No VAT"
    assert rates["RROUTPUT"]["EffectiveRate"] == 5.0
    assert {"ZERORATEDOUTPUT", "ZERORATEDINPUT", "EXEMPTOUTPUT", "EXEMPTINPUT", "RRINPUT"} <= set(
        rates
    )


def test_tax_rates_filter_by_tax_type(api: XeroApi) -> None:
    rates = api.get("/TaxRates", params={"TaxType": "INPUT2"}).json()["TaxRates"]

    assert [r["TaxType"] for r in rates] == ["INPUT2"]


def test_accounts_where_by_type(api: XeroApi) -> None:
    banks = api.get("/Accounts", params={"where": 'Type=="BANK"'}).json()["Accounts"]

    assert {a["Code"] for a in banks} == {"090", "091"}


def test_create_an_account(api: XeroApi) -> None:
    response = api.put(
        "/Accounts",
        {
            "Code": "350",
            "Name": "Ferry crossings",
            "Type": "DIRECTCOSTS",
            "TaxType": "ZERORATEDINPUT",
        },
    )

    assert response.status_code == 200
    assert response.json()["Accounts"][0]["Class"] == "EXPENSE"


def test_account_codes_must_be_unique(api: XeroApi) -> None:
    response = api.put("/Accounts", {"Code": "200", "Name": "Another", "Type": "SALES"})

    assert response.status_code == 400
    assert "Please enter a unique Code." in error_messages(response)


def test_archiving_an_account_through_the_api(api: XeroApi) -> None:
    account = api.get("/Accounts", params={"where": 'Code=="340"'}).json()["Accounts"][0]

    response = api.post(f"/Accounts/{account['AccountID']}", {"Accounts": [{"Status": "ARCHIVED"}]})

    assert response.json()["Accounts"][0]["Status"] == "ARCHIVED"


def test_demo_tracking_categories_and_options(api: XeroApi) -> None:
    categories = api.get("/TrackingCategories").json()["TrackingCategories"]

    assert [c["Name"] for c in categories] == ["Business unit", "Vehicle type"]
    assert [o["Name"] for o in categories[0]["Options"]] == [
        "Domestic",
        "International",
        "Warehousing",
    ]


def test_a_third_active_tracking_category_is_refused(api: XeroApi) -> None:
    response = api.put("/TrackingCategories", {"Name": "Region"})

    assert response.status_code == 400
    assert error_messages(response) == ["You can only have 2 active tracking categories."]


def test_archiving_a_category_makes_room_for_another(api: XeroApi) -> None:
    depot = api.get("/TrackingCategories").json()["TrackingCategories"][0]
    api.post(f"/TrackingCategories/{depot['TrackingCategoryID']}", {"Status": "ARCHIVED"})

    response = api.put("/TrackingCategories", {"Name": "Region"})

    assert response.status_code == 200
    assert [c["Name"] for c in api.get("/TrackingCategories").json()["TrackingCategories"]] == [
        "Vehicle type",
        "Region",
    ]


def test_reactivating_a_third_category_is_refused(api: XeroApi) -> None:
    depot = api.get("/TrackingCategories").json()["TrackingCategories"][0]
    api.post(f"/TrackingCategories/{depot['TrackingCategoryID']}", {"Status": "ARCHIVED"})
    api.put("/TrackingCategories", {"Name": "Region"})

    response = api.post(f"/TrackingCategories/{depot['TrackingCategoryID']}", {"Status": "ACTIVE"})

    assert response.status_code == 400


def test_adding_tracking_options(api: XeroApi) -> None:
    depot = api.get("/TrackingCategories").json()["TrackingCategories"][0]

    response = api.put(
        f"/TrackingCategories/{depot['TrackingCategoryID']}/Options", {"Name": "Cardiff"}
    )

    assert response.json()["Options"][0]["Name"] == "Cardiff"
    after = api.get(f"/TrackingCategories/{depot['TrackingCategoryID']}").json()[
        "TrackingCategories"
    ][0]
    assert "Cardiff" in [o["Name"] for o in after["Options"]]


def test_control_api_creates_an_organisation_with_its_own_chart(
    client: TestClient, api_for
) -> None:  # type: ignore[no-untyped-def]
    org = client.post(
        "/sandbox/orgs",
        json={
            "name": "Tiny Transport Ltd",
            "chart": "empty",
            "accounts": [{"Code": "4000", "Name": "Sales", "Type": "SALES", "TaxType": "OUTPUT2"}],
            "tax_rates": [
                {
                    "TaxType": "OUTPUT2",
                    "Name": "20% (VAT on Income)",
                    "Rate": "20",
                    "CanApplyToExpenses": False,
                }
            ],
            "tracking_categories": [{"Name": "Region", "Options": ["North"]}],
        },
    ).json()

    api = api_for(tenant_ids=[org["tenant_id"]])

    assert [a["Code"] for a in api.get("/Accounts").json()["Accounts"]] == ["4000"]
    assert [t["TaxType"] for t in api.get("/TaxRates").json()["TaxRates"]] == ["OUTPUT2"]
    assert api.get("/Organisation").json()["Organisations"][0]["Name"] == "Tiny Transport Ltd"


def test_currencies_lists_the_organisations_enabled_currencies(api: XeroApi) -> None:
    response = api.get("/Currencies")

    assert response.status_code == 200
    assert [c["Code"] for c in response.json()["Currencies"]] == ["GBP", "EUR", "USD"]
    assert response.json()["Currencies"][0]["Description"] == "British Pound"
