"""Xero's limits, kept on our side so that no call is refused.

Per organisation: 60 calls in any rolling minute and 5,000 in a rolling day;
per app: 10,000 a minute across organisations. (Xero's 5-in-flight limit is
met by construction: one worker at a time serves a company.) Every worker
process shares one log of calls — Redis sorted sets when the queue is on Redis,
a database table otherwise — so the limits hold with any number of workers.
Xero's ``X-*-Remaining`` headers correct the log when Xero has counted calls
we did not (another process of ours that died, or a clock drift).
"""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q

from .models import RateEvent

MINUTE = 60.0
DAY = 86_400.0
# One call below Xero's figures: our clock and Xero's never agree to the
# millisecond, and a refused call costs more than the one we leave unused.
PER_MINUTE, XERO_PER_MINUTE = 59, 60
PER_DAY, XERO_PER_DAY = 4_990, 5_000
APP_PER_MINUTE, XERO_APP_PER_MINUTE = 9_950, 10_000


@dataclass(frozen=True)
class Window:
    scope: str
    span: float
    limit: int  # what we allow ourselves
    xero_limit: int  # what Xero counts against (its Remaining headers)


class Backend(Protocol):
    def try_record(self, windows: Sequence[Window], now: float) -> float:
        """Record one call in every window if all have room (returns 0), else the wait."""
        ...

    def pad(self, window: Window, used: int, now: float) -> None:
        """Make the window count at least ``used`` calls (Xero counted more than we did)."""
        ...

    def count(self, window: Window, now: float) -> int: ...

    def count_many(self, windows: Sequence[Window], now: float) -> list[int]:
        """Calls in each window, read in one round trip, changing nothing."""
        ...


class DatabaseBackend:
    def _lock(self, windows: Sequence[Window]) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for window in sorted(windows, key=lambda w: w.scope):
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(window.scope.encode())]
                    )
        # SQLite runs write transactions one at a time (IMMEDIATE), which is the lock.

    def try_record(self, windows: Sequence[Window], now: float) -> float:
        with transaction.atomic():
            self._lock(windows)
            wait = 0.0
            for window in windows:
                events = RateEvent.objects.filter(scope=window.scope, at__gt=now - window.span)
                used = events.count()
                if used >= window.limit:
                    # Room again when enough of the oldest calls leave the window.
                    oldest = events.order_by("at").values_list("at", flat=True)[used - window.limit]
                    wait = max(wait, oldest + window.span - now)
            if wait > 0:
                return wait
            RateEvent.objects.bulk_create([RateEvent(scope=w.scope, at=now) for w in windows])
            if int(now) % 97 == 0:  # now and then, forget calls older than a day
                RateEvent.objects.filter(at__lt=now - DAY).delete()
            return 0.0

    def pad(self, window: Window, used: int, now: float) -> None:
        with transaction.atomic():
            self._lock([window])
            missing = used - self.count(window, now)
            if missing > 0:
                RateEvent.objects.bulk_create(
                    [RateEvent(scope=window.scope, at=now) for _ in range(missing)]
                )

    def count(self, window: Window, now: float) -> int:
        return RateEvent.objects.filter(scope=window.scope, at__gt=now - window.span).count()

    def count_many(self, windows: Sequence[Window], now: float) -> list[int]:
        if not windows:
            return []
        recent = Q()
        for window in windows:
            recent |= Q(scope=window.scope, at__gt=now - window.span)
        counts = dict(
            RateEvent.objects.filter(recent)
            .values("scope")
            .annotate(n=Count("id"))
            .values_list("scope", "n")
        )
        return [counts.get(window.scope, 0) for window in windows]


# Atomic across processes: trim each window, check room in all, then record in all.
_TRY_RECORD = """
local now = tonumber(ARGV[1])
local n = #KEYS
local wait = 0
for i = 1, n do
  local span = tonumber(ARGV[1 + i * 2])
  local limit = tonumber(ARGV[2 + i * 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - span)
  local used = redis.call('ZCARD', KEYS[i])
  if used >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], used - limit, used - limit, 'WITHSCORES')
    local w = tonumber(oldest[2]) + span - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return tostring(wait) end
for i = 1, n do
  local span = tonumber(ARGV[1 + i * 2])
  redis.call('ZADD', KEYS[i], now, ARGV[2] .. ':' .. i)
  redis.call('EXPIRE', KEYS[i], math.ceil(span) + 60)
end
return '0'
"""


class RedisBackend:
    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.script = self.redis.register_script(_TRY_RECORD)

    @staticmethod
    def _key(scope: str) -> str:
        return f"ledgerbridge:xero-rate:{scope}"

    def try_record(self, windows: Sequence[Window], now: float) -> float:
        args: list[str | float] = [now, uuid.uuid4().hex]
        for window in windows:
            args += [window.span, window.limit]
        result = self.script(keys=[self._key(w.scope) for w in windows], args=args)
        return float(result)

    def pad(self, window: Window, used: int, now: float) -> None:
        key = self._key(window.scope)
        missing = used - self.count(window, now)
        if missing > 0:
            self.redis.zadd(key, {f"pad:{uuid.uuid4().hex}:{i}": now for i in range(missing)})
            self.redis.expire(key, int(window.span) + 60)

    def count(self, window: Window, now: float) -> int:
        key = self._key(window.scope)
        self.redis.zremrangebyscore(key, "-inf", now - window.span)
        return int(self.redis.zcard(key))

    def count_many(self, windows: Sequence[Window], now: float) -> list[int]:
        # ZCOUNT instead of trim-and-ZCARD: a reader must not write.
        pipe = self.redis.pipeline(transaction=False)
        for window in windows:
            pipe.zcount(self._key(window.scope), f"({now - window.span}", "+inf")
        return [int(n) for n in pipe.execute()]


class RateLimiter:
    def __init__(self, backend: Backend, *, time_scale: float = 1.0) -> None:
        self.backend = backend
        # A sandbox on a fast clock has shorter minutes; so must we.
        self.scale = time_scale

    def windows(self, tenant_id: str) -> list[Window]:
        return [
            Window(f"min:{tenant_id}", MINUTE / self.scale, PER_MINUTE, XERO_PER_MINUTE),
            Window(f"day:{tenant_id}", DAY / self.scale, PER_DAY, XERO_PER_DAY),
            Window("app", MINUTE / self.scale, APP_PER_MINUTE, XERO_APP_PER_MINUTE),
        ]

    def acquire(self, tenant_id: str, *, now: float | None = None) -> float:
        """0 when the call may go (it is counted), else how many seconds to wait."""
        return self.backend.try_record(self.windows(tenant_id), time.time() if now is None else now)

    def observe(
        self, tenant_id: str, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        """Align our count with what Xero says is left."""
        now = time.time() if now is None else now
        lowered = {k.lower(): v for k, v in headers.items()}
        minute, day, app = self.windows(tenant_id)
        for window, header in (
            (minute, "x-minlimit-remaining"),
            (day, "x-daylimit-remaining"),
            (app, "x-appminlimit-remaining"),
        ):
            value = lowered.get(header)
            if value is not None and value.strip().lstrip("-").isdigit():
                self.backend.pad(window, window.xero_limit - int(value), now)

    def usage(self, tenant_ids: Sequence[str], *, now: float | None = None) -> RateUsage:
        """Calls in the current rolling minute and day per organisation, and the
        app's minute, in one read of the shared log. Records nothing."""
        now = time.time() if now is None else now
        tenants = list(dict.fromkeys(t for t in tenant_ids if t))
        per_tenant = [self.windows(t)[:2] for t in tenants]
        app = self.windows("")[2]
        windows = [w for pair in per_tenant for w in pair] + [app]
        counts = self.backend.count_many(windows, now)
        minute: dict[str, Usage] = {}
        day: dict[str, Usage] = {}
        for i, tenant in enumerate(tenants):
            minute[tenant] = Usage(counts[2 * i], XERO_PER_MINUTE)
            day[tenant] = Usage(counts[2 * i + 1], XERO_PER_DAY)
        return RateUsage(minute=minute, day=day, app_minute=Usage(counts[-1], app.xero_limit))


@dataclass(frozen=True)
class Usage:
    """Calls counted in a window against the limit Xero counts them against."""

    used: int
    limit: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.limit)) if self.limit else 0


@dataclass(frozen=True)
class RateUsage:
    """What the shared log says right now, for the operations page."""

    minute: dict[str, Usage]  # per organisation (tenant id)
    day: dict[str, Usage]
    app_minute: Usage


@lru_cache(maxsize=1)
def _limiter_for(huey_url: str, scale: float) -> RateLimiter:
    if huey_url.startswith(("redis://", "rediss://")):
        return RateLimiter(RedisBackend(huey_url), time_scale=scale)
    return RateLimiter(DatabaseBackend(), time_scale=scale)


def rate_limiter() -> RateLimiter:
    return _limiter_for(settings.HUEY_URL, settings.XERO_LIMIT_TIME_SCALE)
