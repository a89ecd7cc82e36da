"""Rate-limit use as the operations page reads it: per organisation and app-wide, one read."""

from __future__ import annotations

import random
import time
import uuid

import pytest

from ledgerbridge.xero.models import RateEvent
from ledgerbridge.xero.ratelimit import DatabaseBackend, RateLimiter, RedisBackend, rate_limiter

from .conftest import make_operated_company

REDIS_URL = "redis://127.0.0.1:6379/15"


def backends():
    return [
        pytest.param("database", marks=pytest.mark.django_db),
        pytest.param("redis", marks=[pytest.mark.redis, pytest.mark.django_db]),
    ]


class IsolatedRedisBackend(RedisBackend):
    """Keys of its own: the app-wide window is shared by every test using Redis."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.namespace = uuid.uuid4().hex

    def _key(self, scope: str) -> str:  # type: ignore[override]
        return f"test-{self.namespace}:{scope}"


def make(kind: str) -> RateLimiter:
    return RateLimiter(DatabaseBackend() if kind == "database" else IsolatedRedisBackend(REDIS_URL))


def a_clock_of_our_own() -> float:
    return 7e9 + random.randrange(10**6) * 100_000.0


@pytest.mark.parametrize("kind", backends())
def test_usage_counts_the_rolling_minute_and_day_per_organisation_and_the_apps_minute(kind):
    limiter, first, second, clock = (
        make(kind),
        uuid.uuid4().hex,
        uuid.uuid4().hex,
        a_clock_of_our_own(),
    )
    for _ in range(2):
        assert limiter.acquire(first, now=clock - 3_600) == 0  # in the day, not the minute
    for _ in range(3):
        assert limiter.acquire(first, now=clock - 10) == 0
    assert limiter.acquire(second, now=clock - 5) == 0
    assert limiter.acquire(second, now=clock - 90_000) == 0  # older than a day

    usage = limiter.usage([first, second, "unknown"], now=clock)

    assert (usage.minute[first].used, usage.day[first].used) == (3, 5)
    assert (usage.minute[second].used, usage.day[second].used) == (1, 1)
    assert (usage.minute["unknown"].used, usage.day["unknown"].used) == (0, 0)
    assert (usage.minute[first].limit, usage.day[first].limit) == (60, 5_000)
    assert (usage.app_minute.used, usage.app_minute.limit) == (4, 10_000)


@pytest.mark.parametrize("kind", backends())
def test_reading_usage_changes_nothing(kind):
    limiter, tenant, clock = make(kind), uuid.uuid4().hex, a_clock_of_our_own()
    limiter.acquire(tenant, now=clock - 100)  # has left the minute, still in the day
    assert limiter.usage([tenant], now=clock).minute[tenant].used == 0
    # The call is still in the minute's log: a reader does not trim (the writer does).
    if kind == "redis":
        stored = limiter.backend.redis.zcard(limiter.backend._key(f"min:{tenant}"))
    else:
        stored = RateEvent.objects.filter(scope=f"min:{tenant}").count()
    assert stored == 1


@pytest.mark.redis
def test_redis_usage_for_a_page_of_organisations_is_one_pipeline():
    backend = IsolatedRedisBackend(REDIS_URL)
    calls = {"pipeline": 0, "direct": 0}
    real = backend.redis

    class Counting:
        def pipeline(self, *args, **kwargs):
            calls["pipeline"] += 1
            return real.pipeline(*args, **kwargs)

        def execute_command(self, *args, **kwargs):
            calls["direct"] += 1
            return real.execute_command(*args, **kwargs)

    backend.redis = Counting()  # type: ignore[assignment]
    usage = RateLimiter(backend).usage(
        [uuid.uuid4().hex for _ in range(50)], now=a_clock_of_our_own()
    )
    assert len(usage.minute) == 50
    assert calls == {"pipeline": 1, "direct": 0}


@pytest.mark.django_db
def test_the_database_usage_for_a_page_of_organisations_is_one_query(django_assert_num_queries):
    limiter = RateLimiter(DatabaseBackend())
    with django_assert_num_queries(1):
        limiter.usage([uuid.uuid4().hex for _ in range(50)], now=time.time())


@pytest.mark.parametrize("kind", backends())
def test_the_page_shows_each_organisations_calls_against_xeros_limits(kind, settings, staff_client):
    settings.HUEY_URL = REDIS_URL if kind == "redis" else ""
    company = make_operated_company("Busy Ltd")
    quiet = make_operated_company("Quiet Ltd")
    tenant = f"tenant-{company.pk}"
    if kind == "redis":
        # Test runs reuse primary keys; start from a clean log for these organisations.
        for scope in (
            f"min:{tenant}",
            f"day:{tenant}",
            f"min:tenant-{quiet.pk}",
            f"day:tenant-{quiet.pk}",
        ):
            rate_limiter().backend.redis.delete(f"ledgerbridge:xero-rate:{scope}")  # type: ignore[attr-defined]
    limiter = rate_limiter()
    now = time.time()
    for _ in range(3):
        assert limiter.acquire(tenant, now=now) == 0
    limiter.acquire(tenant, now=now - 7_200)

    html = staff_client.get("/platform/operations").content.decode()

    row = html[html.index(f'data-company="{company.pk}"') :].split("</tr>")[0]
    assert '<div>3 / 60 <span class="muted">a minute</span></div>' in row
    assert '<div>4 / 5,000 <span class="muted">a day</span></div>' in row
    quiet_row = html[html.index(f'data-company="{quiet.pk}"') :].split("</tr>")[0]
    assert '<div>0 / 60 <span class="muted">a minute</span></div>' in quiet_row
    app = int(html.split('id="app-minute"')[1].split('class="ops-figure">')[1].split("<")[0])
    assert app >= 3 if kind == "redis" else app == 3
