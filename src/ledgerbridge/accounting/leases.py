"""Leases: one worker at a time on a company's outbox, a poll or a build.

A worker takes a lease for a short time and renews it while it works; if it
dies (SIGKILL, a lost machine) the lease simply runs out and the next worker
takes over. Queue locks (Huey's ``lock_task``) never run out, so one killed
worker would stop that work for good.

The lease is a row in the database, taken with one conditional UPDATE, so it
works the same on SQLite and PostgreSQL and with any number of processes.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import WorkerLease

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class LeaseLost(Exception):
    """The lease ran out while the work went on: another worker may have it now."""


class Lease:
    def __init__(self, name: str, holder: str, ttl: dt.timedelta, started: dt.datetime) -> None:
        self.name, self.holder, self.ttl = name, holder, ttl
        self.started = started  # on the caller's clock
        self._since = time.monotonic()

    def _now(self) -> dt.datetime:
        return self.started + dt.timedelta(seconds=time.monotonic() - self._since)

    def renew(self) -> None:
        """Call before each step that can take a while; raises LeaseLost if it is gone."""
        kept = WorkerLease.objects.filter(name=self.name, holder=self.holder).update(
            until=self._now() + self.ttl
        )
        if not kept:
            raise LeaseLost(f"The lease on {self.name} ran out.")

    def release(self) -> None:
        WorkerLease.objects.filter(name=self.name, holder=self.holder).update(
            holder="", until=_EPOCH
        )


def lease_ttl() -> dt.timedelta:
    return dt.timedelta(seconds=settings.WORKER_LEASE_SECONDS)


def lease_take(name: str, *, now: dt.datetime | None = None) -> Lease | None:
    """The lease, or None while another worker holds it."""
    now = now or timezone.now()
    ttl = lease_ttl()
    WorkerLease.objects.bulk_create(
        [WorkerLease(name=name, holder="", until=_EPOCH)], ignore_conflicts=True
    )
    holder = uuid.uuid4().hex
    taken = (
        WorkerLease.objects.filter(name=name)
        .filter(Q(holder="") | Q(until__lt=now))
        .update(holder=holder, until=now + ttl)
    )
    return Lease(name, holder, ttl, now) if taken else None


@contextmanager
def leased(name: str, *, now: dt.datetime | None = None) -> Iterator[Lease | None]:
    """``with leased(name) as lease:`` — ``lease`` is None if someone else has it."""
    lease = lease_take(name, now=now)
    try:
        yield lease
    finally:
        if lease is not None:
            lease.release()


def leases_held(prefix: str, *, now: dt.datetime | None = None) -> list[str]:
    """Names under ``prefix`` that a live worker holds now."""
    now = now or timezone.now()
    return list(
        WorkerLease.objects.filter(name__startswith=prefix, until__gte=now)
        .exclude(holder="")
        .values_list("name", flat=True)
    )
