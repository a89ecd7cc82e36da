"""The official xero-python SDK against a real sandbox server: every response must
deserialise into the SDK's models, and errors must map to the SDK's exceptions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from xero_python.accounting import Account as AccountModel
from xero_python.accounting import (
    AccountingApi,
    AccountType,
    Allocation,
    Allocations,
    Contact,
    Contacts,
    CreditNote,
    CreditNotes,
    CurrencyCode,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    LineItemTracking,
    Payment,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException
from xero_python.exceptions.http_status_exceptions import (
    BadRequestException,
    NotFoundException,
    RateLimitException,
)
from xero_python.identity import IdentityApi

from xero_sandbox.testing import RunningSandbox

TOKEN_KEYS = ("access_token", "refresh_token", "id_token", "expires_in", "token_type")


@dataclass
class Sdk:
    server: RunningSandbox
    client: ApiClient
    accounting: AccountingApi
    identity: IdentityApi
    store: dict[str, Any]

    @property
    def tenant(self) -> str:
        return self.server.tenant_id


@pytest.fixture
def sdk(server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sdk]:
    # The SDK hard-codes Xero's identity host for refresh and revocation.
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{server.base_url}/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{server.base_url}/connect/revocation")
    tokens = server.control.mint_token()
    store: dict[str, Any] = {
        "token": {
            **{k: tokens[k] for k in TOKEN_KEYS},
            "scope": tokens["scope"].split(),
            "expires_at": time.time() + tokens["expires_in"],
        }
    }
    # Configuration() returns copies of the first one made in the process, sharing
    # its token object; give this client a token object of its own.
    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(
        client_id=server.client_id, client_secret=server.client_secret
    )
    client = ApiClient(
        configuration,
        pool_threads=1,
        oauth2_token_getter=lambda: store["token"],
        oauth2_token_saver=lambda token: store.__setitem__("token", token),
    )
    yield Sdk(
        server,
        client,
        AccountingApi(client, base_url=f"{server.base_url}/api.xro/2.0"),
        IdentityApi(client, base_url=server.base_url),
        store,
    )


def sdk_invoice(**overrides: Any) -> Invoice:
    fields: dict[str, Any] = {
        "type": "ACCREC",
        "contact": Contact(name="Northern Pallets Ltd"),
        "date": date(2026, 10, 1),
        "due_date": date(2026, 10, 31),
        "status": "AUTHORISED",
        "line_amount_types": LineAmountTypes.EXCLUSIVE,
        "line_items": [
            LineItem(
                description="Pallet network delivery",
                quantity=Decimal(2),
                unit_amount=Decimal("55.50"),
                account_code="200",
                tax_type="OUTPUT2",
                tracking=[LineItemTracking(name="Business unit", option="Domestic")],
            )
        ],
    }
    fields.update(overrides)
    return Invoice(**fields)


def test_organisation_deserialises(sdk: Sdk) -> None:
    org = sdk.accounting.get_organisations(sdk.tenant).organisations[0]

    assert org.name == "Demo Company (UK)"
    assert org.base_currency == CurrencyCode.GBP
    assert str(org.organisation_id) == sdk.tenant


def test_accounts_tax_rates_and_tracking_deserialise(sdk: Sdk) -> None:
    accounts = sdk.accounting.get_accounts(sdk.tenant, where='Type=="BANK"').accounts
    rates = sdk.accounting.get_tax_rates(sdk.tenant).tax_rates
    categories = sdk.accounting.get_tracking_categories(sdk.tenant).tracking_categories

    assert {a.code for a in accounts} == {"090", "091"}
    assert "OUTPUT2" in {r.tax_type for r in rates}
    assert categories[0].options[0].name == "Domestic"
    currencies = sdk.accounting.get_currencies(sdk.tenant).currencies
    assert [c.code.value for c in currencies] == ["GBP", "EUR", "USD"]


def test_create_and_read_an_invoice(sdk: Sdk) -> None:
    created = sdk.accounting.create_invoices(
        sdk.tenant, Invoices(invoices=[sdk_invoice()])
    ).invoices[0]

    fetched = sdk.accounting.get_invoice(sdk.tenant, created.invoice_id).invoices[0]

    assert fetched.invoice_number == "INV-0001"
    assert fetched.date == date(2026, 10, 1)
    assert fetched.total == Decimal("133.2")
    assert fetched.line_items[0].tracking[0].option == "Domestic"
    assert fetched.updated_date_utc is not None


def test_filters_through_the_sdk(sdk: Sdk) -> None:
    first = sdk.accounting.create_invoices(sdk.tenant, Invoices(invoices=[sdk_invoice()])).invoices[
        0
    ]
    sdk.accounting.create_invoices(sdk.tenant, Invoices(invoices=[sdk_invoice(status="DRAFT")]))

    by_number = sdk.accounting.get_invoices(sdk.tenant, invoice_numbers=[first.invoice_number])
    by_id = sdk.accounting.get_invoices(sdk.tenant, i_ds=[first.invoice_id])
    by_status = sdk.accounting.get_invoices(sdk.tenant, statuses=["DRAFT"], page=1)

    assert [i.invoice_id for i in by_number.invoices] == [first.invoice_id]
    assert [i.invoice_id for i in by_id.invoices] == [first.invoice_id]
    assert [i.status for i in by_status.invoices] == ["DRAFT"]
    assert by_status.pagination.item_count == 1


def test_per_item_errors_deserialise_with_summarize_errors_false(sdk: Sdk) -> None:
    bad = sdk_invoice(
        line_items=[
            LineItem(
                description="x", quantity=Decimal(1), unit_amount=Decimal(1), account_code="999"
            )
        ]
    )

    result = sdk.accounting.create_invoices(
        sdk.tenant, Invoices(invoices=[sdk_invoice(), bad]), summarize_errors=False
    ).invoices

    assert [i.status_attribute_string for i in result] == ["OK", "ERROR"]
    assert result[1].has_errors is True
    assert (
        result[1].validation_errors[0].message
        == "Account code '999' is not a valid code for this document."
    )


def test_a_validation_error_raises_the_sdks_bad_request(sdk: Sdk) -> None:
    bad = sdk_invoice(
        line_items=[
            LineItem(
                description="x", quantity=Decimal(1), unit_amount=Decimal(1), account_code="999"
            )
        ]
    )

    with pytest.raises(BadRequestException) as raised:
        sdk.accounting.create_invoices(sdk.tenant, Invoices(invoices=[bad]))

    assert raised.value.error_data["Type"] == "ValidationException"
    assert raised.value.error_data["Elements"][0]["ValidationErrors"][0]["Message"].startswith(
        "Account code"
    )


def test_idempotency_key_through_the_sdk(sdk: Sdk) -> None:
    body = Invoices(invoices=[sdk_invoice()])

    first = sdk.accounting.create_invoices(sdk.tenant, body, idempotency_key="sdk-key-1").invoices[
        0
    ]
    again = sdk.accounting.create_invoices(sdk.tenant, body, idempotency_key="sdk-key-1").invoices[
        0
    ]

    assert first.invoice_id == again.invoice_id
    assert len(sdk.accounting.get_invoices(sdk.tenant).invoices) == 1
    assert sdk.server.control.calls()[-2]["idempotency_key"] == "sdk-key-1"


def test_contacts_through_the_sdk(sdk: Sdk) -> None:
    created = sdk.accounting.create_contacts(
        sdk.tenant, Contacts(contacts=[Contact(name="Acme Haulage", contact_number="C-1")])
    ).contacts[0]

    found = sdk.accounting.get_contacts(sdk.tenant, where='ContactNumber=="C-1"').contacts
    updated = sdk.accounting.update_or_create_contacts(
        sdk.tenant, Contacts(contacts=[Contact(contact_number="C-1", name="Acme Haulage Ltd")])
    ).contacts[0]

    assert [c.contact_id for c in found] == [created.contact_id]
    assert updated.contact_id == created.contact_id
    assert updated.name == "Acme Haulage Ltd"


def test_credit_note_allocation_through_the_sdk(sdk: Sdk) -> None:
    invoice = sdk.accounting.create_invoices(
        sdk.tenant, Invoices(invoices=[sdk_invoice()])
    ).invoices[0]
    note = sdk.accounting.create_credit_notes(
        sdk.tenant,
        CreditNotes(
            credit_notes=[
                CreditNote(
                    type="ACCRECCREDIT",
                    contact=Contact(contact_id=invoice.contact.contact_id),
                    date=date(2026, 10, 2),
                    status="AUTHORISED",
                    line_items=[
                        LineItem(
                            description="Refund",
                            quantity=Decimal(1),
                            unit_amount=Decimal(10),
                            account_code="200",
                            tax_type="OUTPUT2",
                        )
                    ],
                )
            ]
        ),
    ).credit_notes[0]

    allocation = sdk.accounting.create_credit_note_allocation(
        sdk.tenant,
        note.credit_note_id,
        Allocations(
            allocations=[
                Allocation(
                    invoice=Invoice(invoice_id=invoice.invoice_id),
                    amount=Decimal(12),
                    date=date(2026, 10, 3),
                )
            ]
        ),
    ).allocations[0]

    assert allocation.amount == Decimal(12)
    assert sdk.accounting.get_invoice(sdk.tenant, invoice.invoice_id).invoices[
        0
    ].amount_credited == Decimal(12)


def test_attachment_through_the_sdk(sdk: Sdk) -> None:
    invoice = sdk.accounting.create_invoices(
        sdk.tenant, Invoices(invoices=[sdk_invoice()])
    ).invoices[0]

    attachment = sdk.accounting.create_invoice_attachment_by_file_name(
        sdk.tenant, invoice.invoice_id, "INV-0001.pdf", b"%PDF-1.4 body", include_online=True
    ).attachments[0]

    assert attachment.file_name == "INV-0001.pdf"
    assert attachment.include_online is True
    assert attachment.content_length == len(b"%PDF-1.4 body")


def test_payment_through_the_sdk(sdk: Sdk) -> None:
    invoice = sdk.accounting.create_invoices(
        sdk.tenant, Invoices(invoices=[sdk_invoice()])
    ).invoices[0]

    payment = sdk.accounting.create_payment(
        sdk.tenant,
        Payment(
            invoice=Invoice(invoice_id=invoice.invoice_id),
            account=AccountModel(code="090"),
            amount=invoice.amount_due,
            date=date(2026, 10, 20),
        ),
    ).payments[0]

    assert payment.amount == invoice.amount_due
    assert sdk.accounting.get_invoice(sdk.tenant, invoice.invoice_id).invoices[0].status == "PAID"
    assert sdk.accounting.get_payments(sdk.tenant).payments[0].payment_id == payment.payment_id


def test_not_found_maps_to_the_sdks_exception(sdk: Sdk) -> None:
    with pytest.raises(NotFoundException):
        sdk.accounting.get_invoice(sdk.tenant, "7c8f9a86-0000-4000-8000-000000000000")


def test_a_429_on_a_post_maps_to_the_sdks_rate_limit_exception(sdk: Sdk) -> None:
    sdk.server.control.add_fault("rate_limit", problem="minute", retry_after=30, times=1)

    with pytest.raises(RateLimitException) as raised:
        sdk.accounting.update_or_create_invoices(sdk.tenant, Invoices(invoices=[sdk_invoice()]))

    assert raised.value.rate_limit == "minute"


def test_urllib3_under_the_sdk_honours_retry_after_on_a_get(sdk: Sdk) -> None:
    sdk.server.control.add_fault("rate_limit", problem="minute", retry_after=1, times=1)

    org = sdk.accounting.get_organisations(sdk.tenant).organisations[0]

    assert org.name == "Demo Company (UK)"
    assert [c["status"] for c in sdk.server.control.calls()] == [429, 200]


def test_forbidden_tenant_raises_401_or_403_api_exception(sdk: Sdk) -> None:
    sdk.server.control.revoke(sdk.tenant)

    with pytest.raises(ApiException) as raised:
        sdk.accounting.get_organisations(sdk.tenant)

    assert raised.value.status == 403


def test_connections_through_the_identity_api(sdk: Sdk) -> None:
    connections = sdk.identity.get_connections()

    assert [str(c.tenant_id) for c in connections] == [sdk.tenant]
    assert connections[0].tenant_type == "ORGANISATION"
    sdk.identity.delete_connection(connections[0].id)
    assert sdk.identity.get_connections() == []


def test_the_sdk_refreshes_an_expired_token_and_carries_on(sdk: Sdk) -> None:
    old_refresh = sdk.store["token"]["refresh_token"]
    sdk.store["token"]["expires_at"] = time.time() - 10

    org = sdk.accounting.get_organisations(sdk.tenant).organisations[0]

    assert org.name == "Demo Company (UK)"
    assert sdk.store["token"]["refresh_token"] != old_refresh


def test_the_sdk_revokes_a_token(sdk: Sdk) -> None:
    sdk.client.revoke_oauth2_token()

    assert sdk.server.control.info()["orgs"][0]["connections"] == []


def test_account_creation_through_the_sdk(sdk: Sdk) -> None:
    account = sdk.accounting.create_account(
        sdk.tenant,
        AccountModel(
            code="345", name="Congestion charges", type=AccountType.DIRECTCOSTS, tax_type="NONE"
        ),
    ).accounts[0]

    assert account.code == "345"
    assert account.type == AccountType.DIRECTCOSTS


def test_polling_with_if_modified_since_through_the_sdk(sdk: Sdk) -> None:
    sdk.accounting.create_invoices(sdk.tenant, Invoices(invoices=[sdk_invoice()]))
    sdk.server.sandbox.clock.advance(120)
    since = sdk.server.sandbox.clock.now_dt() - timedelta(seconds=60)
    sdk.server.sandbox.clock.advance(1)
    later = sdk.accounting.create_invoices(sdk.tenant, Invoices(invoices=[sdk_invoice()])).invoices[
        0
    ]

    changed = sdk.accounting.get_invoices(sdk.tenant, if_modified_since=since, page=1).invoices

    assert [i.invoice_id for i in changed] == [later.invoice_id]
