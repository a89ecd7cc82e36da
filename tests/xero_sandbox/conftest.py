"""Fixtures for the sandbox's tests: an in-process sandbox with a contract-checking
client, the official spec as referee, and real servers for SDK tests."""

from __future__ import annotations

import contextlib
import json as jsonlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.responses.exceptions import ResponseNotFound
from starlette.testclient import TestClient
from werkzeug.datastructures import Headers, ImmutableMultiDict

from xero_sandbox import Sandbox, SandboxConfig, create_app
from xero_sandbox.seed import DEMO_TENANT_ID
from xero_sandbox.testing import RunningSandbox

# Xero's published OpenAPI spec (and its webhooks schema and fact sheet), kept in the
# repository so that a clone tests on its own.
SPEC_PATH = Path(__file__).resolve().parent / "spec" / "xero_accounting.yaml"
API = "/api.xro/2.0"


def pytest_configure(config: pytest.Config) -> None:
    # openapi-core cannot check OAuth2 security schemes; the sandbox tests scopes itself.
    config.addinivalue_line("filterwarnings", "ignore:Unsupported scheme type:UserWarning")
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


def _fix_boolean_defaults(node: Any) -> None:
    # The published spec has `default: "false"` on booleans; strict validators reject it.
    if isinstance(node, dict):
        if node.get("type") == "boolean" and isinstance(node.get("default"), str):
            node["default"] = node["default"].lower() == "true"
        for value in node.values():
            _fix_boolean_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _fix_boolean_defaults(value)


class SpecRequest:
    def __init__(self, request: httpx.Request, body: bytes | None) -> None:
        url = urlsplit(str(request.url))
        # The spec's server is https://api.xero.com/api.xro/2.0; the path keeps its prefix.
        self.host_url = "https://api.xero.com"
        self.path = url.path
        self.method = request.method.lower()
        query = ImmutableMultiDict(httpx.QueryParams(url.query).multi_items())
        self.parameters = RequestParameters(
            query=query, header=Headers(list(request.headers.items())), cookie=ImmutableMultiDict()
        )
        self.body = body
        self.content_type = request.headers.get("content-type", "application/json").lower()


class SpecResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.data = response.content
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "").lower()
        self.headers = Headers(list(response.headers.items()))


class Contract:
    """Checks accepted requests and every documented response against the spec."""

    def __init__(self, openapi: OpenAPI) -> None:
        self.openapi = openapi

    def check(
        self, response: httpx.Response, *, request_body: bool = True, request: bool = True
    ) -> None:
        body = response.request.content if request_body else None
        spec_request = SpecRequest(response.request, body or None)
        if response.status_code < 400 and request_body and request:
            self.openapi.validate_request(spec_request)
        # A status the spec does not document (404, 401, 429) is tested for shape directly.
        with contextlib.suppress(ResponseNotFound):
            self.openapi.validate_response(spec_request, SpecResponse(response))


def load_spec() -> dict[str, Any]:
    """Xero's accounting spec as a dict, booleans' defaults made strict-validator safe."""
    with SPEC_PATH.open() as handle:
        spec: dict[str, Any] = yaml.load(
            handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    _fix_boolean_defaults(spec)
    return spec


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract(OpenAPI.from_dict(load_spec()))


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(SandboxConfig(webhooks_enabled=False, public_url="http://testserver"))
    yield sb
    sb.store.close()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[TestClient]:
    with TestClient(create_app(sandbox=sandbox), follow_redirects=False) as test_client:
        yield test_client


class XeroApi:
    """An authorised accounting client for one tenant; every call is contract-checked."""

    def __init__(self, client: TestClient, contract: Contract, token: str, tenant_id: str) -> None:
        self.client = client
        self.contract = contract
        self.token = token
        self.tenant_id = tenant_id

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
        }
        headers.update(extra or {})
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        check_request_body: bool = True,
        check_request: bool = True,
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {"params": params, "headers": self.headers(headers)}
        if json is not None:
            kwargs["content"] = jsonlib.dumps(json).encode()
            kwargs["headers"]["Content-Type"] = "application/json"
        elif content is not None:
            kwargs["content"] = content
        response = self.client.request(method, f"{API}{path}", **kwargs)
        self.contract.check(response, request_body=check_request_body, request=check_request)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, json=json, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=json, **kwargs)


def mint(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/sandbox/tokens", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def api(client: TestClient, contract: Contract) -> XeroApi:
    return XeroApi(client, contract, mint(client)["access_token"], DEMO_TENANT_ID)


@pytest.fixture
def api_for(client: TestClient, contract: Contract) -> Any:
    """Build an XeroApi with particular scopes / tenants / app."""

    def build(**body: Any) -> XeroApi:
        tokens = mint(client, **body)
        return XeroApi(client, contract, tokens["access_token"], tokens["tenant_ids"][0])

    return build


def sales_invoice(**overrides: Any) -> dict[str, Any]:
    """A valid ACCREC invoice for the demo organisation."""
    invoice: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"Name": "Midlands Steel Ltd"},
        "Date": "2026-10-01",
        "DueDate": "2026-10-31",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": "Full load Birmingham - Leeds",
                "Quantity": 1,
                "UnitAmount": 450.00,
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            },
            {
                "Description": "Fuel surcharge",
                "Quantity": 1,
                "UnitAmount": 36.00,
                "AccountCode": "201",
                "TaxType": "OUTPUT2",
            },
        ],
    }
    invoice.update(overrides)
    return invoice


def create_invoice(api: XeroApi, **overrides: Any) -> dict[str, Any]:
    response = api.put("/Invoices", {"Invoices": [sales_invoice(**overrides)]})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["Invoices"][0]
    return result


def error_messages(response: httpx.Response) -> list[str]:
    body = response.json()
    return [
        error["Message"]
        for element in body.get("Elements", [])
        for error in element.get("ValidationErrors", [])
    ]


@pytest.fixture
def server(sandbox_servers) -> RunningSandbox:
    """A real sandbox server (the test process's, reset to its demo state)."""
    return sandbox_servers.get()
