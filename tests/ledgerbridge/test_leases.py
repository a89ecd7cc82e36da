"""Leases: one worker at a time, and a dead worker's lease runs out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ledgerbridge.accounting.leases import LeaseLost, lease_take, leased, leases_held

pytestmark = pytest.mark.django_db


def test_a_lease_is_held_by_one_worker_until_released():
    first = lease_take("sync-company-1")
    assert first is not None
    assert lease_take("sync-company-1") is None
    assert lease_take("sync-company-2") is not None  # other work is free
    first.release()
    assert lease_take("sync-company-1") is not None


def test_a_dead_workers_lease_runs_out(settings):
    settings.WORKER_LEASE_SECONDS = 60
    now = timezone.now()
    dead = lease_take("sync-company-1", now=now)
    assert dead is not None
    assert lease_take("sync-company-1", now=now + dt.timedelta(seconds=59)) is None
    taker = lease_take("sync-company-1", now=now + dt.timedelta(seconds=61))
    assert taker is not None
    with pytest.raises(LeaseLost):
        dead.renew()  # it woke up: too late, and it is told so
    taker.renew()


def test_leases_held_lists_only_live_leases():
    now = timezone.now()
    with leased("sync-company-7", now=now) as lease:
        assert lease is not None
        lease_take("sync-company-8", now=now - dt.timedelta(hours=1))  # long dead
        assert leases_held("sync-company-", now=now) == ["sync-company-7"]
    assert leases_held("sync-company-", now=now) == []
