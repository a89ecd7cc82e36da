"""Xero's API limits: per app and organisation 60 calls a minute, 5,000 a day and
5 in flight at once; per app 10,000 calls a minute across all organisations.

Windows are rolling and measured on the sandbox clock, so a fast clock (or a
clock moved forward by the control API) lets tests watch a window reopen.
``Retry-After`` is given in real seconds: with a time scale of 60 a one-minute
wait is one real second, which is what a client honouring it should sleep.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field

from .clock import Clock


@dataclass(frozen=True)
class Limits:
    per_minute: int = 60
    per_day: int = 5000
    concurrent: int = 5
    app_per_minute: int = 10_000


# For load benchmarks: every call is still counted, none is ever refused.
UNLIMITED = Limits(per_minute=10**12, per_day=10**12, concurrent=10**6, app_per_minute=10**12)


@dataclass
class Decision:
    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    retry_after: int = 0


class RateLimiter:
    MINUTE = 60.0
    DAY = 86_400.0

    def __init__(self, clock: Clock, limits: Limits | None = None) -> None:
        self.clock = clock
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._minute: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._day: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._app_minute: dict[str, deque[float]] = defaultdict(deque)
        self._in_flight: dict[tuple[str, str], int] = defaultdict(int)

    def reset(self) -> None:
        with self._lock:
            self._minute.clear()
            self._day.clear()
            self._app_minute.clear()
            self._in_flight.clear()

    @staticmethod
    def _trim(window: deque[float], now: float, span: float) -> None:
        while window and window[0] <= now - span:
            window.popleft()

    def _wait(self, window: deque[float], now: float, span: float) -> int:
        sandbox_seconds = window[0] + span - now if window else 1.0
        return max(1, math.ceil(self.clock.real_seconds(sandbox_seconds)))

    def acquire(self, client_id: str, tenant_id: str) -> Decision:
        """Count a call if every limit allows it; the caller must ``release`` it."""
        now = self.clock.now()
        key = (client_id, tenant_id)
        limits = self.limits
        with self._lock:
            minute = self._minute[key]
            day = self._day[key]
            app_minute = self._app_minute[client_id]
            self._trim(minute, now, self.MINUTE)
            self._trim(day, now, self.DAY)
            self._trim(app_minute, now, self.MINUTE)
            problem: str | None = None
            retry_after = 0
            if len(day) >= limits.per_day:
                problem, retry_after = "day", self._wait(day, now, self.DAY)
            elif len(app_minute) >= limits.app_per_minute:
                problem, retry_after = "appminute", self._wait(app_minute, now, self.MINUTE)
            elif len(minute) >= limits.per_minute:
                problem, retry_after = "minute", self._wait(minute, now, self.MINUTE)
            elif self._in_flight[key] >= limits.concurrent:
                problem, retry_after = "concurrent", 1
            if problem is None:
                minute.append(now)
                day.append(now)
                app_minute.append(now)
                self._in_flight[key] += 1
            headers = {
                "X-DayLimit-Remaining": str(max(0, limits.per_day - len(day))),
                "X-MinLimit-Remaining": str(max(0, limits.per_minute - len(minute))),
                "X-AppMinLimit-Remaining": str(max(0, limits.app_per_minute - len(app_minute))),
            }
        if problem is None:
            return Decision(True, headers)
        headers["Retry-After"] = str(retry_after)
        headers["X-Rate-Limit-Problem"] = problem
        return Decision(False, headers, problem, retry_after)

    def release(self, client_id: str, tenant_id: str) -> None:
        with self._lock:
            key = (client_id, tenant_id)
            self._in_flight[key] = max(0, self._in_flight[key] - 1)
