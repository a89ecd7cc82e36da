"""People first: calls a person waits for go ahead of the backlog, on both stores.

The backlog (posting, polling) gets every call we allow while no one waits;
while someone does, it leaves them 10 of the minute; it always leaves them the
last 100 of the organisation's day and of the app's minute.
"""

from __future__ import annotations

import uuid

import pytest

from ledgerbridge.xero.ratelimit import (
    PEOPLE_APP_MINUTE,
    PEOPLE_DAY,
    PEOPLE_MINUTE_WHILE_WAITING,
    PER_DAY,
    PER_MINUTE,
    WAITING_SPAN,
    XERO_PER_DAY,
    DatabaseBackend,
    RateLimiter,
    RedisBackend,
)

# Not db 15, which the other rate-limit tests use.
REDIS_URL = "redis://127.0.0.1:6379/14"
BACKLOG_WHILE_WAITING = PER_MINUTE - PEOPLE_MINUTE_WHILE_WAITING  # 49


class IsolatedRedisBackend(RedisBackend):
    """Keys of its own: the app-wide window would otherwise be shared between tests."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.namespace = uuid.uuid4().hex

    def _key(self, scope: str) -> str:  # type: ignore[override]
        return f"test-{self.namespace}:{scope}"


def backends():
    return [
        pytest.param("database", marks=pytest.mark.django_db),
        pytest.param("redis", marks=[pytest.mark.redis, pytest.mark.django_db]),
    ]


def make(kind: str) -> RateLimiter:
    return RateLimiter(DatabaseBackend() if kind == "database" else IsolatedRedisBackend(REDIS_URL))


def backlog_calls(limiter: RateLimiter, tenant: str, now: float, most: int = 200) -> int:
    """How many backlog calls go at ``now`` before the limiter says wait."""
    for n in range(most):
        if limiter.acquire(tenant, now=now) > 0:
            return n
    return most


@pytest.mark.parametrize("kind", backends())
def test_with_no_one_waiting_the_backlog_gets_every_call_of_the_minute(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    assert backlog_calls(limiter, tenant, 1_000.0) == PER_MINUTE


@pytest.mark.parametrize("kind", backends())
def test_while_someone_waits_the_backlog_leaves_them_ten_calls_of_the_minute(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    assert limiter.acquire(tenant, interactive=True, now=1_000.0) == 0
    assert backlog_calls(limiter, tenant, 1_001.0) == BACKLOG_WHILE_WAITING - 1
    for _ in range(PEOPLE_MINUTE_WHILE_WAITING):
        assert limiter.acquire(tenant, interactive=True, now=1_002.0) == 0
    # Everything we allow ourselves is used: the person waits for the oldest call to leave.
    assert limiter.acquire(tenant, interactive=True, now=1_003.0) == pytest.approx(57.0)


@pytest.mark.parametrize("kind", backends())
def test_a_person_arriving_after_the_backlog_used_the_minute_only_waits_for_the_first_room(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    for second in range(PER_MINUTE):
        assert limiter.acquire(tenant, now=2_000.0 + second * 0.5) == 0
    assert limiter.acquire(tenant, interactive=True, now=2_040.0) == pytest.approx(20.0)
    # From then on the backlog waits until ten calls are free for people.
    assert limiter.acquire(tenant, now=2_061.0) == pytest.approx(4.0)
    assert limiter.acquire(tenant, interactive=True, now=2_061.0) == 0


@pytest.mark.parametrize("kind", backends())
def test_the_reserve_is_released_when_no_one_has_waited_for_two_minutes(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    assert limiter.acquire(tenant, interactive=True, now=3_000.0) == 0
    later = 3_000.0 + WAITING_SPAN + 1
    assert backlog_calls(limiter, tenant, later) == PER_MINUTE


@pytest.mark.parametrize("kind", backends())
def test_the_backlog_is_held_back_only_until_no_one_is_waiting(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    limiter.someone_waiting(tenant, now=4_000.0)  # lapses at 4,120
    assert backlog_calls(limiter, tenant, 4_100.0) == BACKLOG_WHILE_WAITING
    # Room below 49 would come back at 4,160, but the ten are the backlog's at 4,120.
    assert limiter.acquire(tenant, now=4_100.0) == pytest.approx(20.0)


@pytest.mark.parametrize("kind", backends())
def test_someone_waiting_makes_the_backlog_leave_room_before_the_first_interactive_call(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    limiter.someone_waiting(tenant, now=5_000.0)
    assert backlog_calls(limiter, tenant, 5_001.0) == BACKLOG_WHILE_WAITING


@pytest.mark.parametrize("kind", backends())
def test_the_last_hundred_calls_of_the_day_are_kept_for_people(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    # Xero says the day has 150 calls left, 140 of them for us.
    limiter.observe(tenant, {"X-DayLimit-Remaining": str(150)}, now=6_000.0)
    used = XERO_PER_DAY - 150
    assert backlog_calls(limiter, tenant, 6_100.0) == PER_DAY - PEOPLE_DAY - used  # 40
    wait = limiter.acquire(tenant, now=6_200.0)
    assert wait > 3_600  # until the day's oldest calls leave
    for n in range(PEOPLE_DAY):  # two seconds apart, so the minute never fills
        assert limiter.acquire(tenant, interactive=True, now=6_300.0 + 2 * n) == 0


@pytest.mark.parametrize("kind", backends())
def test_the_last_hundred_calls_of_the_apps_minute_are_kept_for_people(kind):
    limiter, tenant, other = make(kind), uuid.uuid4().hex, uuid.uuid4().hex
    limiter.observe(tenant, {"X-AppMinLimit-Remaining": str(PEOPLE_APP_MINUTE + 50)}, now=7_000.0)
    assert limiter.acquire(other, now=7_001.0) > 0  # the backlog of any organisation
    assert limiter.acquire(other, interactive=True, now=7_001.0) == 0
