"""Xero's limits, kept on our side so that no call is refused.

Per organisation: 60 calls in any rolling minute and 5,000 in a rolling day;
per app: 10,000 a minute across organisations. (Xero's 5-in-flight limit is
met by construction: one worker at a time serves a company.) Every worker
process shares one log of calls — Redis sorted sets when the queue is on Redis,
a database table otherwise — so the limits hold with any number of workers.
Xero's ``X-*-Remaining`` headers correct the log when Xero has counted calls
we did not (another process of ours that died, or a clock drift).

People first: a call a person is waiting for (Check setup, Authorise, Check
payments now, a Retry...) is *interactive* and may use every call we allow;
the backlog (posting, polling, webhooks) leaves some to people. While someone
is waiting for an organisation — a marker set by each interactive call, live
for two minutes — the backlog stops 10 calls short of the minute; it always
stops 100 short of the organisation's day and of the app's minute. With no one
waiting the backlog still gets 59 calls a minute.

Reading the books (reconciliation, going live) comes after both: it stops 20
calls short of the organisation's minute (and 10 more while someone waits), so
posting always finds room, and it uses at most its share of the organisation's
day (``RECONCILE_DAILY_SHARE``), counted in a window of its own.
"""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from .models import RateEvent

MINUTE = 60.0
DAY = 86_400.0
# One call below Xero's figures: our clock and Xero's never agree to the
# millisecond, and a refused call costs more than the one we leave unused.
PER_MINUTE, XERO_PER_MINUTE = 59, 60
PER_DAY, XERO_PER_DAY = 4_990, 5_000
APP_PER_MINUTE, XERO_APP_PER_MINUTE = 9_950, 10_000
# What the backlog leaves to people: of the organisation's minute while someone
# waits (a Check setup takes about five calls), and always of its day and of
# the app's minute, so that a backlog that used them up cannot lock people out.
PEOPLE_MINUTE_WHILE_WAITING = 10
PEOPLE_DAY = 100
PEOPLE_APP_MINUTE = 100
# What reading the books leaves to posting of the organisation's minute.
POSTING_MINUTE = 20
# How long one interactive call says "someone is waiting". Real seconds, not
# scaled with a fast sandbox clock: people do not speed up with it.
WAITING_SPAN = 120.0


def reading_allowance(share: float) -> int:
    """Calls a day reading the books may use of an organisation's: ``share`` of Xero's."""
    return max(1, int(XERO_PER_DAY * share))


@dataclass(frozen=True)
class Window:
    scope: str
    span: float
    limit: int  # what we allow ourselves (an interactive call may use all of it)
    xero_limit: int  # what Xero counts against (its Remaining headers)
    reserve: int = 0  # calls of ``limit`` the backlog always leaves to people
    reserve_while_waiting: int = 0  # and these too while someone is waiting

    def limits(self, *, interactive: bool) -> tuple[int, int]:
        """The caller's limit with no one waiting, and while someone is."""
        if interactive:
            return self.limit, self.limit
        base = self.limit - self.reserve
        return base, base - self.reserve_while_waiting


def waiting_window(tenant_id: str) -> Window:
    """The marker "someone is waiting for this organisation": its last call, live for a span."""
    return Window(f"waiting:{tenant_id}", WAITING_SPAN, 0, 0)


def _wait(waits_now: float, waits_later: float, waiting_left: float) -> float:
    """While someone waits the backlog goes when room appears below its reduced
    limit, or when the marker has lapsed and there is room below its full one."""
    if waiting_left <= 0:
        return waits_later
    return min(waits_now, max(waits_later, waiting_left))


class Backend(Protocol):
    def try_record(
        self,
        windows: Sequence[Window],
        now: float,
        *,
        waiting: Window | None = None,
        interactive: bool = False,
    ) -> float:
        """Record one call in every window if all have room (returns 0), else the wait.

        ``waiting``: the organisation's waiting marker. An interactive call sets
        it (whether it goes or waits); any other call reads it.
        """
        ...

    def mark(self, waiting: Window, now: float) -> None:
        """Set the waiting marker: a person is about to need calls."""
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

    def try_record(
        self,
        windows: Sequence[Window],
        now: float,
        *,
        waiting: Window | None = None,
        interactive: bool = False,
    ) -> float:
        with transaction.atomic():
            self._lock(windows)
            waiting_left = 0.0
            if waiting is not None and interactive:
                self._mark(waiting, now)
            elif waiting is not None:
                last = (
                    RateEvent.objects.filter(scope=waiting.scope, at__gt=now - waiting.span)
                    .order_by("-at")
                    .values_list("at", flat=True)
                    .first()
                )
                waiting_left = 0.0 if last is None else last + waiting.span - now
            waits_later = waits_now = 0.0
            for window in windows:
                events = RateEvent.objects.filter(scope=window.scope, at__gt=now - window.span)
                used = events.count()
                later, held = window.limits(interactive=interactive)
                waits_later = max(waits_later, self._wait_below(events, used, later, window, now))
                if waiting_left > 0:
                    waits_now = max(waits_now, self._wait_below(events, used, held, window, now))
            wait = _wait(waits_now, waits_later, waiting_left)
            if wait > 0:
                return wait
            RateEvent.objects.bulk_create([RateEvent(scope=w.scope, at=now) for w in windows])
            if int(now) % 97 == 0:  # now and then, forget calls older than a day
                RateEvent.objects.filter(at__lt=now - DAY).delete()
            return 0.0

    @staticmethod
    def _wait_below(
        events: QuerySet[RateEvent], used: int, limit: int, window: Window, now: float
    ) -> float:
        """Until enough of the oldest calls have left the window for one more below ``limit``."""
        if used < limit:
            return 0.0
        oldest = events.order_by("at").values_list("at", flat=True)[used - limit]
        return float(oldest) + window.span - now

    @staticmethod
    def _mark(waiting: Window, now: float) -> None:
        RateEvent.objects.filter(scope=waiting.scope).delete()
        RateEvent.objects.create(scope=waiting.scope, at=now)

    def mark(self, waiting: Window, now: float) -> None:
        with transaction.atomic():
            self._lock([waiting])
            self._mark(waiting, now)

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


# Atomic across processes: set or read the waiting marker (the last key), trim
# each window, check room in all, then record in all. The same rule as
# DatabaseBackend.try_record and _wait.
_TRY_RECORD = """
local now = tonumber(ARGV[1])
local interactive = ARGV[3] == '1'
local waiting_span = tonumber(ARGV[4])
local n = #KEYS - 1
local waiting_left = 0
if interactive then
  redis.call('SET', KEYS[n + 1], ARGV[1], 'EX', math.ceil(waiting_span) + 60)
else
  local set_at = redis.call('GET', KEYS[n + 1])
  if set_at then
    local left = tonumber(set_at) + waiting_span - now
    if left > 0 then waiting_left = left end
  end
end
local function wait_below(key, used, limit, span)
  if used < limit then return 0 end
  local oldest = redis.call('ZRANGE', key, used - limit, used - limit, 'WITHSCORES')
  return tonumber(oldest[2]) + span - now
end
local waits_later, waits_now = 0, 0
for i = 1, n do
  local span = tonumber(ARGV[2 + i * 3])
  local later = tonumber(ARGV[3 + i * 3])
  local held = tonumber(ARGV[4 + i * 3])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - span)
  local used = redis.call('ZCARD', KEYS[i])
  waits_later = math.max(waits_later, wait_below(KEYS[i], used, later, span))
  if waiting_left > 0 then
    waits_now = math.max(waits_now, wait_below(KEYS[i], used, held, span))
  end
end
local wait = waits_later
if waiting_left > 0 then wait = math.min(waits_now, math.max(waits_later, waiting_left)) end
if wait > 0 then return tostring(wait) end
for i = 1, n do
  local span = tonumber(ARGV[2 + i * 3])
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

    def try_record(
        self,
        windows: Sequence[Window],
        now: float,
        *,
        waiting: Window | None = None,
        interactive: bool = False,
    ) -> float:
        # With no marker given, a key nobody sets: never live, and never set.
        marker = waiting or Window("waiting:none", 0.0, 0, 0)
        flag = "1" if interactive and waiting is not None else "0"
        args: list[str | float] = [now, uuid.uuid4().hex, flag, marker.span]
        for window in windows:
            args += [window.span, *window.limits(interactive=interactive)]
        keys = [self._key(w.scope) for w in windows] + [self._key(marker.scope)]
        result = self.script(keys=keys, args=args)
        return float(result)

    def mark(self, waiting: Window, now: float) -> None:
        self.redis.set(self._key(waiting.scope), now, ex=int(waiting.span) + 60)

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
        minute, day = MINUTE / self.scale, DAY / self.scale
        return [
            Window(
                f"min:{tenant_id}",
                minute,
                PER_MINUTE,
                XERO_PER_MINUTE,
                reserve_while_waiting=PEOPLE_MINUTE_WHILE_WAITING,
            ),
            Window(f"day:{tenant_id}", day, PER_DAY, XERO_PER_DAY, reserve=PEOPLE_DAY),
            Window("app", minute, APP_PER_MINUTE, XERO_APP_PER_MINUTE, reserve=PEOPLE_APP_MINUTE),
        ]

    def reading_windows(self, tenant_id: str, *, share: float) -> list[Window]:
        """A reading call's windows: the backlog's, with the minute's last calls left
        to posting, and the reading's own share of the day."""
        minute, day, app = self.windows(tenant_id)
        return [
            replace(minute, reserve=POSTING_MINUTE),
            day,
            app,
            Window(
                f"read-day:{tenant_id}", DAY / self.scale, reading_allowance(share), XERO_PER_DAY
            ),
        ]

    def reading_used(self, tenant_id: str, *, share: float, now: float | None = None) -> int:
        """Calls spent reading the organisation's books in the rolling day."""
        window = self.reading_windows(tenant_id, share=share)[-1]
        return self.backend.count(window, time.time() if now is None else now)

    def acquire(
        self,
        tenant_id: str,
        *,
        interactive: bool = False,
        reading_share: float | None = None,
        now: float | None = None,
    ) -> float:
        """0 when the call may go (it is counted), else how many seconds to wait.

        ``interactive``: a person is waiting for this call. It may use every
        call we allow, and it tells the backlog to leave room for the next ones.
        ``reading_share``: the call reads the books (reconciliation), after posting
        and people, within this share of the organisation's day.
        """
        windows = (
            self.windows(tenant_id)
            if reading_share is None
            else self.reading_windows(tenant_id, share=reading_share)
        )
        return self.backend.try_record(
            windows,
            time.time() if now is None else now,
            waiting=waiting_window(tenant_id),
            interactive=interactive,
        )

    def someone_waiting(self, tenant_id: str, *, now: float) -> None:
        """A person started something that will soon need calls (a job they wait
        for): the backlog starts leaving room now, not at the job's first call."""
        self.backend.mark(waiting_window(tenant_id), now)

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
