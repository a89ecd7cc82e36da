"""The sandbox's configuration and the objects every route shares."""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock
from .ratelimit import Limits, RateLimiter
from .seed import DemoSettings, seed_demo
from .store import Json, Store
from .tokens import TokenSigner
from .webhooks import WebhookDispatcher


@dataclass
class SandboxConfig:
    db_path: str = ":memory:"
    time_scale: float = 1.0
    public_url: str = "http://127.0.0.1:8765"
    seed_demo: bool = True
    demo: DemoSettings = field(default_factory=DemoSettings)
    limits: Limits = field(default_factory=Limits)
    webhook_batch_seconds: float = 1.0
    webhooks_enabled: bool = True
    attachment_max_bytes: int = 25 * 1024 * 1024


@dataclass
class Fault:
    """A misbehaviour injected by the control API.

    ``kind``: ``latency`` (sleep, then answer normally), ``error`` (answer
    ``status``, 500 by default, without doing anything), ``rate_limit`` (a 429
    with ``problem``), ``timeout`` (hold the request ``seconds`` then 504,
    nothing done), ``drop`` (do the work and commit, then close the connection
    without answering), ``revoke`` (the organisation disconnects the app: this
    call and every later one get 403).
    """

    id: int
    kind: str
    tenant_id: str | None = None
    method: str | None = None
    path: str | None = None
    status: int = 500
    seconds: float = 0.0
    problem: str = "minute"
    retry_after: int = 60
    times: int | None = None

    def matches(self, method: str, path: str, tenant_id: str | None) -> bool:
        if self.tenant_id and self.tenant_id != tenant_id:
            return False
        if self.method and self.method.upper() != method:
            return False
        return not (self.path and not re.search(self.path, path))

    def as_json(self) -> Json:
        return dict(self.__dict__)


class Sandbox:
    """Holds store, clock, signer, limiter, webhooks and faults for one server."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.clock = Clock(scale=self.config.time_scale)
        self.store = Store(self.config.db_path)
        self.signer = TokenSigner(self.store)
        self.limiter = RateLimiter(self.clock, self.config.limits)
        self.webhooks = WebhookDispatcher(
            self.store, self.clock, batch_seconds=self.config.webhook_batch_seconds
        )
        self._faults: list[Fault] = []
        self._fault_ids = itertools.count(1)
        self._fault_lock = threading.Lock()
        # Counts resets: a request that began before one must not touch the state after it.
        self.generation = 0
        if self.config.seed_demo and not self.store.list_apps():
            seed_demo(self.store, self.clock, self.config.demo)

    @property
    def api_root(self) -> str:
        return self.config.public_url.rstrip("/")

    def reset(self) -> None:
        """Forget everything (organisations, apps, users, connections, tokens,
        documents, webhook events and back-off, the call log, faults, rate windows,
        clock changes) and come back up in the demo state, as a new server would."""
        self.generation += 1
        self.store.wipe()
        self.clock.set(now=time.time(), scale=self.config.time_scale, frozen=False)
        self.signer = TokenSigner(self.store)
        self.limiter.reset()
        self.webhooks.reset()
        self.clear_faults()
        if self.config.seed_demo:
            seed_demo(self.store, self.clock, self.config.demo)

    # -- faults ------------------------------------------------------------------
    def add_fault(self, **fields: Any) -> Fault:
        with self._fault_lock:
            fault = Fault(id=next(self._fault_ids), **fields)
            self._faults.append(fault)
            return fault

    def faults(self) -> list[Fault]:
        with self._fault_lock:
            return list(self._faults)

    def clear_faults(self, fault_id: int | None = None) -> None:
        with self._fault_lock:
            self._faults = [f for f in self._faults if fault_id is not None and f.id != fault_id]

    def take_fault(self, method: str, path: str, tenant_id: str | None) -> Fault | None:
        """The first matching fault, using up one of its ``times``."""
        with self._fault_lock:
            if not self._faults:
                return None
            for fault in self._faults:
                if fault.matches(method, path, tenant_id):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None
