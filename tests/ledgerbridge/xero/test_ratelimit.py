import threading
import uuid

import pytest
from django.db import connection, connections

from ledgerbridge.xero.ratelimit import DatabaseBackend, RateLimiter, RedisBackend

REDIS_URL = "redis://127.0.0.1:6379/15"


def backends():
    return [
        pytest.param("database", marks=pytest.mark.django_db(transaction=True)),
        pytest.param("redis", marks=[pytest.mark.redis, pytest.mark.django_db]),
    ]


def make(kind: str) -> RateLimiter:
    return RateLimiter(DatabaseBackend() if kind == "database" else RedisBackend(REDIS_URL))


@pytest.mark.parametrize("kind", backends())
def test_sixty_calls_a_rolling_minute_then_a_wait_until_the_oldest_leaves(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    for second in range(59):
        assert limiter.acquire(tenant, now=1_000.0 + second * 0.5) == 0
    wait = limiter.acquire(tenant, now=1_030.0)
    assert wait == pytest.approx(
        30.0
    )  # the first call leaves the window at 1,060 (59 a minute, one below Xero)
    assert limiter.acquire(tenant, now=1_060.5) == 0


@pytest.mark.parametrize("kind", backends())
def test_each_organisation_has_its_own_minute(kind):
    limiter, first, second = make(kind), uuid.uuid4().hex, uuid.uuid4().hex
    for _ in range(60):
        limiter.acquire(first, now=2_000.0)
    assert limiter.acquire(first, now=2_001.0) > 0
    assert limiter.acquire(second, now=2_001.0) == 0


@pytest.mark.parametrize("kind", backends())
def test_xeros_remaining_headers_correct_our_count(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    limiter.observe(
        tenant, {"X-MinLimit-Remaining": "3", "X-DayLimit-Remaining": "4990"}, now=3_000.0
    )
    assert limiter.acquire(tenant, now=3_000.1) == 0
    assert limiter.acquire(tenant, now=3_000.2) == 0
    assert limiter.acquire(tenant, now=3_000.3) > 0


@pytest.mark.parametrize("kind", backends())
def test_the_daily_limit_holds(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    limiter.observe(tenant, {"X-DayLimit-Remaining": "0"}, now=4_000.0)
    wait = limiter.acquire(tenant, now=5_000.0)
    assert wait == pytest.approx(86_400 - 1_000)


@pytest.mark.parametrize("kind", backends())
def test_eight_workers_at_once_never_exceed_the_minute(kind):
    if kind == "database" and connection.vendor != "postgresql":
        pytest.skip("cross-connection locking is what this checks; run on PostgreSQL")
    limiter, tenant = make(kind), uuid.uuid4().hex
    granted = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(20):
            if limiter.acquire(tenant, now=6_000.0) == 0:
                granted.append(1)
        connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(granted) == 59  # one below Xero's 60, as a margin
