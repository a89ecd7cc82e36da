"""A real sandbox server in a thread, and a client for its control API: what
``ledgerbridge up``, the benchmarks and the test suites start the sandbox with.

    from xero_sandbox.testing import running_sandbox

    with running_sandbox() as sandbox:
        token = sandbox.control.mint_token()
        ... point the code under test at sandbox.base_url ...

Each server listens on its own free loopback port with an in-memory database,
so tests can run in parallel (pytest-xdist). The pytest fixture that keeps one
server per test process and resets it between tests lives with the tests
(``tests/sandbox_server.py``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from .app import create_app
from .seed import DemoSettings
from .state import Sandbox, SandboxConfig
from .store import Json


class ControlClient:
    """The ``/sandbox`` control API, as methods."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, body: Json | None = None, **params: Any) -> Any:
        response = self.http.request(method, f"/sandbox{path}", json=body, params=params or None)
        if response.status_code >= 400:
            raise SandboxControlError(response.status_code, response.text)
        return response.json()

    def info(self) -> Json:
        result: Json = self._call("GET", "")
        return result

    def reset(self) -> None:
        self._call("POST", "/reset")

    def mint_token(
        self,
        *,
        tenant_ids: list[str] | None = None,
        scopes: list[str] | None = None,
        client_id: str | None = None,
        user_email: str | None = None,
    ) -> Json:
        """A token set (access, refresh, id token) with connections already made."""
        body: Json = {}
        if tenant_ids is not None:
            body["tenant_ids"] = tenant_ids
        if scopes is not None:
            body["scopes"] = scopes
        if client_id is not None:
            body["client_id"] = client_id
        if user_email is not None:
            body["user_email"] = user_email
        result: Json = self._call("POST", "/tokens", body)
        return result

    def create_org(self, name: str, **fields: Any) -> Json:
        result: Json = self._call("POST", "/orgs", {"name": name, **fields})
        return result

    def create_app(self, client_id: str, **fields: Any) -> Json:
        result: Json = self._call("POST", "/apps", {"client_id": client_id, **fields})
        return result

    def update_app(self, client_id: str, **fields: Any) -> Json:
        result: Json = self._call("PATCH", f"/apps/{client_id}", fields)
        return result

    def intent_to_receive(self, client_id: str) -> Json:
        result: Json = self._call("POST", f"/apps/{client_id}/intent-to-receive")
        return result

    def record_payment(self, tenant_id: str, *, invoice_id: str, **fields: Any) -> Json:
        result: Json = self._call(
            "POST", f"/orgs/{tenant_id}/payments", {"invoice_id": invoice_id, **fields}
        )
        return result

    # A Xero user at work: fields are Xero's (``Contact``, ``Date``, ``DueDate``,
    # ``Reference``, ``LineItems``, ``LineAmountTypes``, ``CurrencyCode``, ``Status`` ...).
    # A refusal raises SandboxControlError (400, ``{"errors": [...]}``).
    def create_invoice(self, tenant_id: str, **fields: Any) -> Json:
        """Type an invoice (``Type`` ACCREC by default, numbered by the organisation)."""
        result: Json = self._call("POST", f"/orgs/{tenant_id}/invoices", fields)
        return result

    def create_credit_note(self, tenant_id: str, **fields: Any) -> Json:
        result: Json = self._call("POST", f"/orgs/{tenant_id}/credit-notes", fields)
        return result

    def edit_invoice(self, tenant_id: str, invoice: str, **fields: Any) -> Json:
        """Change an invoice (id or number); a line with its ``LineItemID`` changes that line."""
        result: Json = self._call("POST", f"/orgs/{tenant_id}/invoices/{invoice}", fields)
        return result

    def edit_credit_note(self, tenant_id: str, credit_note: str, **fields: Any) -> Json:
        result: Json = self._call("POST", f"/orgs/{tenant_id}/credit-notes/{credit_note}", fields)
        return result

    def void_invoice(self, tenant_id: str, invoice_id: str) -> Json:
        """Void an approved invoice (a draft or submitted one is deleted instead)."""
        result: Json = self._call("POST", f"/orgs/{tenant_id}/invoices/{invoice_id}/void")
        return result

    def void_credit_note(self, tenant_id: str, credit_note: str) -> Json:
        result: Json = self._call("POST", f"/orgs/{tenant_id}/credit-notes/{credit_note}/void")
        return result

    def delete_invoice(self, tenant_id: str, invoice: str) -> Json:
        """Delete a draft or submitted invoice (an approved one must be voided)."""
        result: Json = self._call("POST", f"/orgs/{tenant_id}/invoices/{invoice}/delete")
        return result

    def delete_credit_note(self, tenant_id: str, credit_note: str) -> Json:
        result: Json = self._call("POST", f"/orgs/{tenant_id}/credit-notes/{credit_note}/delete")
        return result

    def create_contact(self, tenant_id: str, **fields: Any) -> Json:
        result: Json = self._call("POST", f"/orgs/{tenant_id}/contacts", fields)
        return result

    def edit_contact(self, tenant_id: str, contact_id: str, **fields: Any) -> Json:
        result: Json = self._call("POST", f"/orgs/{tenant_id}/contacts/{contact_id}", fields)
        return result

    def set_lock_date(self, tenant_id: str, period_lock_date: str | None) -> Json:
        result: Json = self._call(
            "POST", f"/orgs/{tenant_id}/lock-date", {"period_lock_date": period_lock_date}
        )
        return result

    def archive_account(self, tenant_id: str, code: str) -> Json:
        result: Json = self._call("POST", f"/orgs/{tenant_id}/accounts/{code}/archive")
        return result

    def revoke(self, tenant_id: str, client_id: str | None = None) -> Json:
        result: Json = self._call("POST", f"/orgs/{tenant_id}/revoke", {"client_id": client_id})
        return result

    def add_fault(self, kind: str, **fields: Any) -> Json:
        result: Json = self._call("POST", "/faults", {"kind": kind, **fields})
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def calls(self, *, since: int = 0, tenant_id: str | None = None) -> list[Json]:
        params: dict[str, Any] = {"since": since}
        if tenant_id:
            params["tenant_id"] = tenant_id
        result: list[Json] = self._call("GET", "/calls", **params)
        return result

    def clear_calls(self) -> None:
        self._call("DELETE", "/calls")

    def clock(self, **fields: Any) -> Json:
        """``now`` (ISO or epoch), ``scale``, ``advance_seconds``, ``frozen``."""
        result: Json = (
            self._call("POST", "/clock", fields) if fields else self._call("GET", "/clock")
        )
        return result

    def reset_rate_limits(self) -> None:
        self._call("POST", "/rate-limits/reset")

    def flush_webhooks(self) -> list[Json]:
        result: list[Json] = self._call("POST", "/webhooks/flush")
        return result

    def webhook_events(self) -> list[Json]:
        result: list[Json] = self._call("GET", "/webhooks/events")
        return result

    def webhook_deliveries(self) -> list[Json]:
        result: list[Json] = self._call("GET", "/webhooks/deliveries")
        return result


class SandboxControlError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass
class RunningSandbox:
    base_url: str
    control: ControlClient
    sandbox: Sandbox
    tenant_id: str
    client_id: str
    client_secret: str
    webhook_key: str
    user_email: str
    user_password: str
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self.control.close()
        self._server.should_exit = True
        self._thread.join(timeout=10)


def free_port_socket(host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def start_sandbox(
    *,
    db_path: str = ":memory:",
    time_scale: float = 1.0,
    demo: DemoSettings | None = None,
    webhook_batch_seconds: float = 0.2,
    webhooks_enabled: bool = True,
    host: str = "127.0.0.1",
) -> RunningSandbox:
    """Start a sandbox server on a free port in a daemon thread; returns once it answers."""
    sock = free_port_socket(host)
    port = sock.getsockname()[1]
    base_url = f"http://{host}:{port}"
    demo = demo or DemoSettings()
    config = SandboxConfig(
        db_path=db_path,
        time_scale=time_scale,
        public_url=base_url,
        demo=demo,
        webhook_batch_seconds=webhook_batch_seconds,
        webhooks_enabled=webhooks_enabled,
    )
    sandbox = Sandbox(config)
    app = create_app(sandbox=sandbox)
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the Xero sandbox did not start")
        time.sleep(0.01)
    return RunningSandbox(
        base_url=base_url,
        control=ControlClient(base_url),
        sandbox=sandbox,
        tenant_id=demo.tenant_id,
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        webhook_key=demo.webhook_key,
        user_email=demo.user_email,
        user_password=demo.user_password,
        _server=server,
        _thread=thread,
    )


@contextmanager
def running_sandbox(**kwargs: Any) -> Iterator[RunningSandbox]:
    sandbox = start_sandbox(**kwargs)
    try:
        yield sandbox
    finally:
        sandbox.stop()
