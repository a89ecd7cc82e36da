"""A small supervisor for the product's processes: sandbox, web and workers.

``ledgerbridge up`` runs one of each (or N workers with ``--production-like``);
the scale and fault benchmarks use the same group to start, SIGKILL and restart
workers and to read their peak memory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


@dataclass
class Managed:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    # Peak resident memory (kB) of the processes this name ran before a restart.
    earlier_peaks_kb: list[int] = field(default_factory=list)


class ProcessGroup:
    def __init__(self, *, env: Mapping[str, str] | None = None, quiet: bool = False) -> None:
        self.env = dict(os.environ if env is None else env)
        self.quiet = quiet
        self.members: dict[str, Managed] = {}

    def start(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> Managed:
        full_env = {**self.env, **(env or {})}
        output = subprocess.DEVNULL if self.quiet else None
        # A process group of its own: a signal reaches the process and anything it
        # started (gunicorn's workers), and a terminal's Ctrl-C reaches only ``up``,
        # which stops the group in order.
        process = subprocess.Popen(
            list(argv), env=full_env, stdout=output, stderr=output, process_group=0
        )
        member = Managed(name, list(argv), full_env, process)
        previous = self.members.get(name)
        if previous is not None:
            member.earlier_peaks_kb = previous.earlier_peaks_kb
        self.members[name] = member
        return member

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        member = self.members[name]
        peak = peak_rss_kb(member.process.pid)
        _signal_group(member.process, sig)
        member.process.wait(timeout=30)
        if peak:
            member.earlier_peaks_kb.append(peak)

    def restart(self, name: str) -> Managed:
        member = self.members[name]
        if member.process.poll() is None:
            self.kill(name, signal.SIGTERM)
        return self.start(name, member.argv, env=member.env)

    def stopped(self) -> list[tuple[str, int]]:
        return [
            (m.name, m.process.returncode)
            for m in self.members.values()
            if m.process.poll() is not None
        ]

    def peak_rss_mb(self, name: str) -> float:
        member = self.members[name]
        peaks = [*member.earlier_peaks_kb, peak_rss_kb(member.process.pid)]
        return max(peaks) / 1024

    def stop_all(self, *, grace: float = 20.0) -> None:
        for member in self.members.values():
            if member.process.poll() is None:
                _signal_group(member.process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for member in self.members.values():
            try:
                member.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait()
            # Whatever it started and left behind goes too.
            _signal_group(member.process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(process.pid, sig)


def wait_until(check: Callable[[], object], what: str, *, timeout: float = 60) -> None:
    """Poll ``check`` until it answers truthily (errors mean "not up yet"), or give up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start within {timeout:.0f} s")
        time.sleep(0.2)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a process to bind."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_kb(pid: int) -> int:
    """The high-water mark of a live process's resident memory (Linux), else 0."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# Gunicorn's default access-log line has the request line with its query string
# and the Referer: either can carry an OAuth code and state. Path only.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'


def web_argv(*, address: str, workers: int) -> list[str]:
    """Gunicorn serving the product, its access log on standard output."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "ledgerbridge.wsgi:application",
        "--bind",
        address,
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--access-logformat",
        ACCESS_LOG_FORMAT,
        # Gunicorn's control socket sits at one fixed path per user by default, so
        # two servers on one machine (up beside a test run) would share it; we use
        # signals, not the socket.
        "--no-control-socket",
    ]


def worker_argv(*, periodic: bool) -> list[str]:
    """One Huey consumer process with one worker thread; one of them runs the clock."""
    argv = [sys.executable, "-m", "ledgerbridge.cli", "run_huey", "--workers", "1"]
    return argv if periodic else [*argv, "--no-periodic"]


def postgres_database_ensure(url: str, *, fresh: bool = False) -> None:
    """Create the PostgreSQL database named in ``url`` if it is missing (or anew)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
