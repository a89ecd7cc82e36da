"""Every request body we send Xero is valid by Xero's spec, read-only properties refused.

A full posting run against the sandbox (sales invoice, bill, sales and purchase
credit notes, the credit note's allocation, new and changed contacts, the PDFs)
with every request the SDK puts on the wire recorded at urllib3, then each write
checked against the published OpenAPI spec as a request. The spec's validator
refuses a read-only property in a request ("Tried to write read-only property").
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import urllib3
from openapi_core import OpenAPI

from ledgerbridge.accounting.models import StepStatus, SyncRecord, SyncStatus
from ledgerbridge.invoicing.models import Task, TaskStatus
from ledgerbridge.invoicing.services import (
    credit_note_create_from_invoice,
    document_finalise,
    partner_update,
)
from ledgerbridge.invoicing.workflow import task_complete
from ledgerbridge.xero.payloads import READ_ONLY
from tests.ledgerbridge.factories import line, make_document, make_partner
from tests.xero_sandbox.conftest import SpecRequest, load_spec

from .conftest import authorise

pytestmark = [
    pytest.mark.django_db,
    # openapi-core cannot check OAuth2 security schemes; scopes are the sandbox's to test.
    pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning"),
]

API = "/api.xro/2.0/"


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return httpx.URL(self.url).path.removeprefix(API)


def _raw_bytes_as_binary(node: Any) -> None:
    # The published spec gives attachments' raw request bodies as `format: byte`
    # (base64 text) while describing them as the file's bytes, which is what Xero and
    # the SDK send; OpenAPI 3.0 spells raw bytes `format: binary`.
    if isinstance(node, dict):
        octets = node.get("content", {}).get("application/octet-stream", {}).get("schema")
        if octets is not None and octets.get("format") == "byte":
            octets["format"] = "binary"
        for value in node.values():
            _raw_bytes_as_binary(value)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec()


@pytest.fixture(scope="module")
def openapi(spec) -> OpenAPI:
    spec = copy.deepcopy(spec)
    for path in spec["paths"].values():
        for operation in path.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                _raw_bytes_as_binary(operation["requestBody"])
    return OpenAPI.from_dict(spec)


@pytest.fixture
def sent(monkeypatch) -> Iterator[list[Sent]]:
    """Every accounting request the SDK sends, as it goes on the wire."""
    requests: list[Sent] = []
    urlopen = urllib3.PoolManager.urlopen

    def recording(self: urllib3.PoolManager, method: str, url: str, *args: Any, **kw: Any):
        if API in url:
            body = kw.get("body") or b""
            requests.append(
                Sent(
                    method=method,
                    url=url,
                    headers=dict(kw.get("headers") or {}),
                    body=body.encode() if isinstance(body, str) else body,
                )
            )
        return urlopen(self, method, url, *args, **kw)

    monkeypatch.setattr(urllib3.PoolManager, "urlopen", recording)
    yield requests


def _post(actor, document) -> None:
    task = Task.objects.get(document=document, type="post_to_xero")
    if task.status == TaskStatus.OPEN:  # else it completed itself (auto-post)
        task_complete(actor=actor, task_id=task.pk)


def test_every_request_body_of_a_posting_run_is_valid_by_xeros_spec(
    sandbox, admin, sent, openapi, django_capture_on_commit_callbacks
):
    authorise(sandbox, admin, [sandbox.tenant_id])
    customer = make_partner(admin.company, name="Brightwater Beverages plc")
    supplier = make_partner(admin.company, "supplier", name="M62 Fuels Ltd")
    with django_capture_on_commit_callbacks(execute=True):
        invoice = make_document(
            admin,
            partner=customer,
            lines=[
                line("freight", quantity="2", unit_price="450"),
                line("fuel_surcharge", unit_price="63.50", discount="5"),
            ],
            finalise=True,
        )
        _post(admin, invoice)
    with django_capture_on_commit_callbacks(execute=True):
        credit = credit_note_create_from_invoice(actor=admin, invoice_id=invoice.pk)
        document_finalise(actor=admin, document_id=credit.pk)
        _post(admin, credit)
        bill = make_document(
            admin,
            "purchase_invoice",
            partner=supplier,
            lines=[line("freight", sales=False, unit_price="300")],
            supplier_reference="M62-88411",
            finalise=True,
        )
        _post(admin, bill)
    with django_capture_on_commit_callbacks(execute=True):
        bill_credit = credit_note_create_from_invoice(
            actor=admin, invoice_id=bill.pk, supplier_reference="M62-CR-17"
        )
        document_finalise(actor=admin, document_id=bill_credit.pk)
        _post(admin, bill_credit)
    # A changed partner is sent again (POST Contacts) with its next document.
    partner_update(actor=admin, partner_id=customer.pk, city="Grimsby")
    with django_capture_on_commit_callbacks(execute=True):
        again = make_document(admin, partner=customer, lines=1, finalise=True)
        _post(admin, again)

    for document in (invoice, credit, bill, bill_credit, again):
        record = SyncRecord.objects.get(document=document)
        assert record.status == SyncStatus.POSTED, (document.number, record.message)
        assert record.attachment_status == StepStatus.DONE, record.attachment_message
    assert SyncRecord.objects.get(document=credit).allocation_status == StepStatus.DONE

    writes = [s for s in sent if s.method in ("PUT", "POST")]
    kinds = {
        (s.method, s.path.split("/")[0] + ("/Attachments" if "/Attachments/" in s.path else ""))
        for s in writes
    }
    allocations = {s.path.split("/")[-1] for s in writes if s.path.endswith("/Allocations")}
    assert {
        ("PUT", "Contacts"),
        ("POST", "Contacts"),
        ("PUT", "Invoices"),
        ("PUT", "CreditNotes"),
        ("PUT", "Invoices/Attachments"),
        ("PUT", "CreditNotes/Attachments"),
    } <= kinds, kinds
    assert allocations == {"Allocations"}
    refused = []
    for request in writes:
        http_request = httpx.Request(
            request.method, request.url, headers=request.headers, content=request.body
        )
        try:
            openapi.validate_request(SpecRequest(http_request, request.body))
        except Exception as error:  # the validator's errors say which property and why
            cause = error.__cause__
            reasons = [
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in getattr(cause, "schema_errors", [])
            ]
            refused.append(f"{request.method} {request.path}: {reasons or error}")
    assert refused == [], "\n".join(refused)


@pytest.mark.parametrize(
    "schema",
    ["Invoice", "CreditNote", "Contact", "Allocation", "LineItem", "LineItemTracking", "Address"],
)
def test_the_read_only_properties_dropped_from_requests_are_the_specs(spec, schema):
    properties = spec["components"]["schemas"][schema]["properties"]
    read_only = {name for name, prop in properties.items() if prop.get("readOnly")}
    assert READ_ONLY.get(schema, frozenset()) == read_only
