"""An injectable clock for the sandbox.

Everything that depends on time (token expiry, rate-limit windows, webhook
retries, ``UpdatedDateUTC``) reads this clock instead of the system clock, so
tests and benchmarks can freeze it, move it forward, or run it faster than real
time (``scale``) to exercise a 24-hour window in seconds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Sandbox time: ``start + (real elapsed) * scale + offset``."""

    def __init__(self, *, scale: float = 1.0, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._scale = scale
        self._origin_real = time.monotonic()
        self._origin_virtual = time.time() if start is None else start
        self._frozen = False

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> float:
        """Seconds since the epoch, in sandbox time."""
        with self._lock:
            if self._frozen:
                return self._origin_virtual
            return self._origin_virtual + (time.monotonic() - self._origin_real) * self._scale

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def set(
        self,
        *,
        now: float | None = None,
        scale: float | None = None,
        frozen: bool | None = None,
    ) -> None:
        """Re-anchor the clock; keeps the current sandbox time unless ``now`` is given."""
        current = self.now()
        with self._lock:
            self._origin_real = time.monotonic()
            self._origin_virtual = current if now is None else now
            if scale is not None:
                self._scale = scale
            if frozen is not None:
                self._frozen = frozen

    def advance(self, seconds: float) -> None:
        self.set(now=self.now() + seconds)

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long to really wait for ``sandbox_seconds`` of sandbox time to pass."""
        if self._frozen or self._scale <= 0:
            return sandbox_seconds
        return sandbox_seconds / self._scale
