"""Xero's rate limits: windows on an injectable, fast clock; headers; 429 answers."""

from __future__ import annotations

import concurrent.futures

import httpx

from xero_sandbox.clock import Clock
from xero_sandbox.ratelimit import RateLimiter
from xero_sandbox.testing import RunningSandbox

from .conftest import XeroApi


def frozen_clock() -> Clock:
    clock = Clock(start=1_800_000_000.0)
    clock.set(frozen=True)
    return clock


def test_sixty_calls_a_minute_then_minute_problem() -> None:
    limiter = RateLimiter(frozen_clock())
    decisions = []
    for _ in range(61):
        decisions.append(limiter.acquire("app", "t"))
        limiter.release("app", "t")

    assert all(d.allowed for d in decisions[:60])
    assert decisions[60].allowed is False
    assert decisions[60].problem == "minute"
    assert decisions[60].headers["X-Rate-Limit-Problem"] == "minute"
    assert decisions[60].headers["Retry-After"] == "60"


def test_the_minute_window_rolls() -> None:
    clock = frozen_clock()
    limiter = RateLimiter(clock)
    for _ in range(60):
        limiter.acquire("app", "t")
        limiter.release("app", "t")

    clock.advance(59.9)
    blocked = limiter.acquire("app", "t")
    clock.advance(0.1)  # the 60 calls are now a minute old
    allowed = limiter.acquire("app", "t")

    assert blocked.allowed is False
    assert allowed.allowed is True


def test_five_thousand_calls_a_day_then_day_problem() -> None:
    clock = frozen_clock()
    limiter = RateLimiter(clock)
    for _ in range(5000):
        assert limiter.acquire("app", "t").allowed
        limiter.release("app", "t")
        clock.advance(1.01)  # stay under 60 a minute

    blocked = limiter.acquire("app", "t")
    clock.advance(86_400)
    allowed = limiter.acquire("app", "t")

    assert blocked.problem == "day"
    assert 0 < int(blocked.headers["Retry-After"]) <= 86_400
    assert allowed.allowed


def test_five_concurrent_calls_per_tenant() -> None:
    limiter = RateLimiter(frozen_clock())
    decisions = [limiter.acquire("app", "t") for _ in range(6)]

    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert decisions[5].problem == "concurrent"
    limiter.release("app", "t")
    assert limiter.acquire("app", "t").allowed


def test_ten_thousand_calls_a_minute_per_app_across_tenants() -> None:
    limiter = RateLimiter(frozen_clock())
    for i in range(10_000):
        assert limiter.acquire("app", f"tenant-{i // 50}").allowed
        limiter.release("app", f"tenant-{i // 50}")

    blocked = limiter.acquire("app", "fresh-tenant")

    assert blocked.problem == "appminute"
    assert blocked.headers["X-AppMinLimit-Remaining"] == "0"


def test_limits_are_per_tenant() -> None:
    limiter = RateLimiter(frozen_clock())
    for _ in range(60):
        limiter.acquire("app", "a")
        limiter.release("app", "a")

    assert limiter.acquire("app", "b").allowed


def test_retry_after_is_in_real_seconds_on_a_fast_clock() -> None:
    clock = frozen_clock()
    clock.set(frozen=False, scale=60.0)
    limiter = RateLimiter(clock)
    for _ in range(60):
        limiter.acquire("app", "t")
        limiter.release("app", "t")

    blocked = limiter.acquire("app", "t")

    assert blocked.headers["Retry-After"] == "1"


def test_responses_carry_the_remaining_headers(api: XeroApi) -> None:
    response = api.get("/Organisation")

    assert response.headers["X-DayLimit-Remaining"] == "4999"
    assert response.headers["X-MinLimit-Remaining"] == "59"
    assert response.headers["X-AppMinLimit-Remaining"] == "9999"


def test_the_sixty_first_call_in_a_minute_gets_429_until_the_clock_moves(
    api: XeroApi, sandbox
) -> None:  # type: ignore[no-untyped-def]
    sandbox.clock.set(frozen=True)
    for _ in range(60):
        assert api.get("/Organisation").status_code == 200

    blocked = api.get("/Organisation")
    sandbox.clock.advance(61)
    after = api.get("/Organisation")

    assert blocked.status_code == 429
    assert blocked.headers["X-Rate-Limit-Problem"] == "minute"
    assert blocked.headers["Retry-After"] == "60"
    assert blocked.json()["Status"] == 429
    assert after.status_code == 200


def test_six_concurrent_calls_to_one_tenant_get_one_concurrent_429(server: RunningSandbox) -> None:
    token = server.control.mint_token()["access_token"]
    server.control.add_fault("latency", seconds=0.5, path="/Organisation")
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": server.tenant_id}

    def call(_: int) -> httpx.Response:
        return httpx.get(f"{server.base_url}/api.xro/2.0/Organisation", headers=headers, timeout=10)

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(call, range(6)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [429]
    limited = next(r for r in responses if r.status_code == 429)
    assert limited.headers["X-Rate-Limit-Problem"] == "concurrent"
