"""Webhook delivery as Xero does it.

Each app has a delivery URL and a signing key. INVOICE and CONTACT CREATE /
UPDATE events for organisations connected to the app are queued in the store
and delivered in batches (``{"events", "firstEventSequence",
"lastEventSequence", "entropy"}``) signed with ``x-xero-signature`` =
base64(HMAC-SHA256(key, raw body)). Credit notes raise CREDITNOTE events with
``data: {Type, Status}`` as the current webhook spec describes. Before the first delivery, and whenever the
URL or key changes, the subscription must pass "intent to receive": a correctly
signed empty batch must get 200 and a wrongly signed one 401. Failed deliveries
are retried with growing gaps for up to 24 hours of sandbox time, after which
the subscription is disabled, as Xero does.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import logging
import secrets
import ssl
import string
from dataclasses import dataclass

import httpx

from .clock import Clock
from .dates import datetime_string
from .store import Json, Store

log = logging.getLogger("xero_sandbox.webhooks")

DISABLE_AFTER_SECONDS = 24 * 3600
MAX_EVENTS_PER_BATCH = 100
DELIVERY_TIMEOUT_SECONDS = 5.0


def sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loaded once: a new client per delivery would read the CA bundle each time,
    # blocking the server's event loop for tens of milliseconds.
    return httpx.create_ssl_context()


def _entropy() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


@dataclass
class _Backoff:
    failures: int = 0
    first_failure: float = 0.0
    next_attempt: float = 0.0


class WebhookDispatcher:
    def __init__(self, store: Store, clock: Clock, *, batch_seconds: float = 1.0) -> None:
        self.store = store
        self.clock = clock
        self.batch_seconds = batch_seconds
        self._backoff: dict[str, _Backoff] = {}
        self.delivering = asyncio.Lock()  # held while batches go out

    def reset(self) -> None:
        """Forget every app's delivery back-off (the sandbox's reset)."""
        self._backoff.clear()

    # -- recording ---------------------------------------------------------------
    def record(
        self,
        *,
        tenant_id: str,
        category: str,
        event_type: str,
        resource_id: str,
        api_root: str,
        data: Json | None = None,
    ) -> None:
        """Queue an event for every app connected to the organisation that has webhooks."""
        resource = {"INVOICE": "Invoices", "CONTACT": "Contacts", "CREDITNOTE": "CreditNotes"}[
            category
        ]
        now = self.clock.now()
        event: Json = {
            "resourceUrl": f"{api_root}/api.xro/2.0/{resource}/{resource_id}",
            "resourceId": resource_id,
            "eventDateUtc": datetime_string(now) + f".{int(now * 1000) % 1000:03d}",
            "eventType": event_type,
            "eventCategory": category,
            "tenantId": tenant_id,
            "tenantType": "ORGANISATION",
        }
        if data is not None:
            event["data"] = data
        client_ids = {c["client_id"] for c in self.store.connections(tenant_id=tenant_id)}
        for client_id in sorted(client_ids):
            app = self.store.get_app(client_id)
            if app and app.get("webhook_url") and app.get("webhook_key"):
                self.store.add_webhook_event(client_id, event)

    # -- delivery ------------------------------------------------------------------
    async def run(self) -> None:
        """Background loop of the server: deliver what is due, forever."""
        while True:
            try:
                await self.flush()
            except Exception:  # a bad receiver must never kill the loop
                log.exception("webhook flush failed")
            await asyncio.sleep(self.batch_seconds)

    async def flush(self, *, ignore_backoff: bool = False) -> list[Json]:
        """Deliver pending batches now; returns one summary per app attempted."""
        async with self.delivering:
            results = []
            for client_id in self.store.clients_with_pending_events():
                result = await self._deliver_app(client_id, ignore_backoff=ignore_backoff)
                if result is not None:
                    results.append(result)
            return results

    async def _deliver_app(self, client_id: str, *, ignore_backoff: bool) -> Json | None:
        app = self.store.get_app(client_id)
        if not app or not app.get("webhook_url") or app.get("webhook_status") == "DISABLED":
            return None
        state = self._backoff.setdefault(client_id, _Backoff())
        now = self.clock.now()
        if not ignore_backoff and state.next_attempt > now:
            return None
        if app.get("webhook_status") != "OK":
            itr = await self.intent_to_receive(client_id)
            if not itr["passed"]:
                self._failed(app, state, now)
                return {"client_id": client_id, "delivered": 0, "intent_to_receive": itr}
            app = self.store.get_app(client_id) or app
        pending = self.store.pending_webhook_events(client_id, MAX_EVENTS_PER_BATCH)
        if not pending:
            return None
        seqs = [seq for seq, _ in pending]
        payload = {
            "events": [event for _, event in pending],
            "firstEventSequence": seqs[0],
            "lastEventSequence": seqs[-1],
            "entropy": _entropy(),
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        status, error = await self._post(app["webhook_url"], body, sign(app["webhook_key"], body))
        self.store.log_delivery(
            {
                "client_id": client_id,
                "at": now,
                "kind": "events",
                "status": status,
                "signed_correctly": 1,
                "event_count": len(seqs),
                "error": error,
            }
        )
        if status == 200:
            self.store.mark_events_delivered(seqs)
            self._backoff.pop(client_id, None)
            return {"client_id": client_id, "delivered": len(seqs), "status": status}
        self._failed(app, state, now)
        return {"client_id": client_id, "delivered": 0, "status": status, "error": error}

    def _failed(self, app: Json, state: _Backoff, now: float) -> None:
        if state.failures == 0:
            state.first_failure = now
        state.failures += 1
        # Xero retries "with decreasing frequency": 10 s, 20 s, 40 s ... at most hourly.
        state.next_attempt = now + min(3600.0, 10.0 * 2 ** (state.failures - 1))
        if now - state.first_failure >= DISABLE_AFTER_SECONDS:
            app["webhook_status"] = "DISABLED"
            self.store.put_app(app)
            self._backoff.pop(app["client_id"], None)

    async def _post(self, url: str, body: bytes, signature: str) -> tuple[int, str | None]:
        try:
            async with httpx.AsyncClient(
                timeout=DELIVERY_TIMEOUT_SECONDS, verify=_tls_context()
            ) as client:
                response = await client.post(
                    url,
                    content=body,
                    headers={"Content-Type": "application/json", "x-xero-signature": signature},
                )
            return response.status_code, None
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}"

    async def intent_to_receive(self, client_id: str) -> Json:
        """Xero's handshake: good signature must get 200, bad signature 401."""
        app = self.store.get_app(client_id)
        if not app or not app.get("webhook_url") or not app.get("webhook_key"):
            return {"passed": False, "reason": "no webhook URL or key registered"}
        checks = []
        for correctly_signed in (True, False, True, False):
            payload = {
                "events": [],
                "firstEventSequence": 0,
                "lastEventSequence": 0,
                "entropy": _entropy(),
            }
            body = json.dumps(payload, separators=(",", ":")).encode()
            signature = sign(app["webhook_key"], body)
            if not correctly_signed:
                signature = sign(app["webhook_key"] + "-wrong", body)
            status, error = await self._post(app["webhook_url"], body, signature)
            expected = 200 if correctly_signed else 401
            checks.append(
                {"signed_correctly": correctly_signed, "status": status, "expected": expected}
            )
            self.store.log_delivery(
                {
                    "client_id": client_id,
                    "at": self.clock.now(),
                    "kind": "intent_to_receive",
                    "status": status,
                    "signed_correctly": 1 if correctly_signed else 0,
                    "event_count": 0,
                    "error": error,
                }
            )
        passed = all(c["status"] == c["expected"] for c in checks)
        app["webhook_status"] = "OK" if passed else "UNVERIFIED"
        self.store.put_app(app)
        return {"passed": passed, "checks": checks}
