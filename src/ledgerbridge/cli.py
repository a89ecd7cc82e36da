"""The ``ledgerbridge`` console script.

``up`` runs the product (sandbox, web, worker) for a developer's machine;
``doctor`` checks a deployment; ``sandbox`` runs the local Xero; ``demo`` loads the demo data (it touches every
part, so it is wiring here rather than a command of one app); ``bench`` runs the
benchmarks; everything else is a Django management command (``migrate`` ...).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from importlib.util import find_spec

WEB_PORT = 8000
SANDBOX_PORT = 8765
# The sandbox's demo Xero app and user (see src/xero_sandbox/README.md).
SANDBOX_APP = {
    "LEDGERBRIDGE_XERO_CLIENT_ID": "LEDGERBRIDGE-DEMO-CLIENT",
    "LEDGERBRIDGE_XERO_CLIENT_SECRET": "sandbox-demo-secret",
    "LEDGERBRIDGE_XERO_WEBHOOK_KEY": "sandbox-demo-webhook-key",
}
SANDBOX_USER = ("demo@xero.sandbox", "sandbox")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerbridge.settings")
    if argv[:1] == ["up"]:
        return up(argv[1:])
    if argv[:1] == ["sandbox"]:
        return _sandbox_main(argv[1:])
    if argv[:1] == ["demo"]:
        return demo(argv[1:])
    if argv[:1] == ["doctor"]:
        return doctor(argv[1:])
    if argv[:1] == ["bench"]:
        from ledgerbridge.bench import main as bench_main

        return bench_main(argv[1:])
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ledgerbridge", *argv])
    return 0


def demo(args: list[str]) -> int:
    """``ledgerbridge demo``: load the demo transport company (once; safe to run again)."""
    argparse.ArgumentParser(prog="ledgerbridge demo", description=demo.__doc__).parse_args(args)
    import django

    django.setup()
    from ledgerbridge.demo import LOGINS, demo_load

    demo_load(progress=print)
    print("Logins: " + ", ".join(f"{x.username} / {x.password}" for x in LOGINS))
    return 0


def doctor(args: list[str]) -> int:
    """``ledgerbridge doctor``: check this deployment; a fix for each failed line, exit 1 on any."""
    argparse.ArgumentParser(prog="ledgerbridge doctor", description=doctor.__doc__).parse_args(args)
    import django

    django.setup()
    from django.utils import timezone

    from ledgerbridge.doctor import doctor_report, doctor_run

    lines = doctor_run(now=timezone.now())
    print(doctor_report(lines))
    return 0 if all(line.ok for line in lines) else 1


def _sandbox_installed() -> bool:
    """The sandbox ships in the same distribution, but its web stack is the
    ``sandbox`` extra: the product itself runs without Starlette and uvicorn."""
    return all(find_spec(name) is not None for name in ("xero_sandbox", "starlette", "uvicorn"))


def _sandbox_main(args: list[str]) -> int:
    if not _sandbox_installed():
        print(
            "The Xero sandbox needs the sandbox extra: pip install -e '.[sandbox]' "
            "(./run installs it).",
            file=sys.stderr,
        )
        return 1
    return subprocess.call([sys.executable, "-m", "xero_sandbox", *args])


def _var_dir() -> str:
    from django.conf import settings

    return str(settings.VAR_DIR)


def _metrics_files_clear() -> None:
    """prometheus-client's multiprocess files hold the counts of processes that
    are gone; a new run starts from none (Prometheus reads it as a restart)."""
    from django.conf import settings

    for path in settings.METRICS_DIR.glob("*.db"):
        path.unlink(missing_ok=True)


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "ledgerbridge.cli", *args], check=True)


PRODUCTION_LIKE = {
    # The machine's own PostgreSQL and Redis; override with the same variables.
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ledgerbridge",
    "HUEY_URL": "redis://127.0.0.1:6379/0",
    "LEDGERBRIDGE_LOG_JSON": "1",
}


def up(args: list[str]) -> int:
    """Migrate, load the demo once, then run sandbox, web and worker(s) until Ctrl-C."""
    from ledgerbridge.processes import (
        ProcessGroup,
        postgres_database_ensure,
        web_argv,
        worker_argv,
    )

    parser = argparse.ArgumentParser(prog="ledgerbridge up")
    parser.add_argument("--port", type=int, default=WEB_PORT, help="web port (8000)")
    parser.add_argument("--sandbox-port", type=int, default=SANDBOX_PORT, help="Xero sandbox port")
    parser.add_argument(
        "--production-like",
        action="store_true",
        help="PostgreSQL, Redis, JSON logs and several worker processes, as in production",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (1; 4 when production-like)"
    )
    options = parser.parse_args(args)
    workers = options.workers or (4 if options.production_like else 1)
    web_address = f"127.0.0.1:{options.port}"
    sandbox_url = f"http://127.0.0.1:{options.sandbox_port}"
    has_sandbox = _sandbox_installed()
    if options.production_like:
        for name, value in PRODUCTION_LIKE.items():
            os.environ.setdefault(name, value)
        if os.environ["DATABASE_URL"].startswith("postgres"):
            postgres_database_ensure(os.environ["DATABASE_URL"])
    os.environ.setdefault("LEDGERBRIDGE_LOG_JSON", "0")  # readable on a developer's terminal
    os.environ.setdefault("LEDGERBRIDGE_PUBLIC_URL", f"http://{web_address}")
    # Unless real Xero is configured, everything points at the local sandbox.
    use_sandbox = has_sandbox and not os.environ.get("LEDGERBRIDGE_XERO_API_URL")
    if use_sandbox:
        for name in ("LOGIN", "IDENTITY", "API"):
            os.environ[f"LEDGERBRIDGE_XERO_{name}_URL"] = sandbox_url
        for name, value in SANDBOX_APP.items():
            os.environ.setdefault(name, value)
    _manage("migrate", "--no-input", "-v", "0")
    _manage("collectstatic", "--no-input", "-v", "0")
    _manage("demo")
    _metrics_files_clear()

    group = ProcessGroup()
    if use_sandbox:
        group.start(
            "sandbox",
            [
                sys.executable,
                "-m",
                "xero_sandbox",
                "--port",
                str(options.sandbox_port),
                "--db",
                os.path.join(_var_dir(), "xero-sandbox.sqlite3"),
                "--webhook-url",
                f"http://{web_address}/webhooks/xero",
                "--redirect-uri",
                f"http://{web_address}/configuration/accounting/xero/callback",
            ],
        )
    group.start("web", web_argv(address=web_address, workers=4 if options.production_like else 2))
    for number in range(workers):
        # One process runs the clock (periodic jobs); all of them take jobs.
        group.start(f"worker-{number + 1}", worker_argv(periodic=number == 0))
    setup = (
        f"  database: {_redacted(os.environ['DATABASE_URL'])}, queue: "
        f"{_redacted(os.environ['HUEY_URL'])}, {workers} worker processes\n"
        if options.production_like
        else ""
    )
    print(
        f"\nLedgerBridge is running at http://{web_address}/\n"
        + setup
        + "  platform staff: staff / staff-demo-pass\n"
        "  Super Admin:    admin / admin-demo-pass   (Northway Haulage Ltd)\n"
        "  Finance:        finance / finance-demo-pass\n"
        "  Viewer:         viewer / viewer-demo-pass\n"
        + (
            f"  Xero sandbox:   {sandbox_url}/  (Xero login {SANDBOX_USER[0]} / {SANDBOX_USER[1]})\n"
            if use_sandbox
            else ""
        )
        + "Press Ctrl-C to stop.\n",
        flush=True,
    )

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, returncode in group.stopped():
            print(f"{name} stopped (exit {returncode}); stopping the rest.", flush=True)
            exit_code = returncode or 1
            stopping = True
        time.sleep(0.5)
    group.stop_all()
    print("Stopped.", flush=True)
    return exit_code


def _redacted(url: str) -> str:
    """A URL without its password, for printing."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return parts.geturl()


if __name__ == "__main__":
    sys.exit(main())
