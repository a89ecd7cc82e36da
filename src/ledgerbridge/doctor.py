"""``ledgerbridge doctor``: is this deployment ready for a finance team?

Each check gives one line of a checklist: what was found, and for a failure how
to put it right. The command exits non-zero when any line failed. It reads the
same settings the product runs on, so run it with the web server's environment.

Wiring over every part (settings, database, queue, workers, Xero), like the demo.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx2 as httpx
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from ledgerbridge.accounting.heartbeats import HEARTBEAT_STALE, worker_heartbeats
from ledgerbridge.checks import key_errors
from ledgerbridge.xero import oauth
from ledgerbridge.xero.errors import XeroError
from ledgerbridge.xero.models import LinkStatus, XeroConnection
from ledgerbridge.xero.webhooks import webhook_key_sha256, xero_webhook_handshake_last

# Never a real refresh token: Xero must answer invalid_grant when it accepts
# the client, invalid_client when it does not.
KNOWN_BAD_REFRESH_TOKEN = "ledgerbridge-doctor-known-bad-refresh-token"


@dataclass(frozen=True)
class Line:
    """One line of the checklist; ``fix`` only when it failed."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def public_url() -> str:
    return settings.PUBLIC_URL.rstrip("/")


def redirect_uri() -> str:
    return f"{public_url()}{reverse('xero_callback')}"


def webhook_url() -> str:
    return f"{public_url()}{reverse('xero_webhook')}"


def _keys(now: dt.datetime) -> Iterator[Line]:
    errors = {error.id: error for error in key_errors()}
    for error_id, name in (
        ("ledgerbridge.E001", "Secret key"),
        ("ledgerbridge.E002", "Encryption keys"),
    ):
        error = errors.get(error_id)
        if error is None:
            yield Line(name, True, "set, not the development one")
        else:
            yield Line(name, False, error.msg, str(error.hint))


def _public_url(now: dt.datetime) -> Iterator[Line]:
    url = public_url()
    if url.lower().startswith("https://"):
        yield Line("Public URL", True, url)
    else:
        yield Line(
            "Public URL",
            False,
            f"{url} is not https: logins, Xero's authorisation codes and webhook deliveries "
            "would cross the network in the clear",
            "Set LEDGERBRIDGE_PUBLIC_URL to the https address users and Xero reach "
            "(the TLS-terminating proxy's), e.g. https://ledgerbridge.example.com",
        )
    yield Line("Redirect URI", True, f"{redirect_uri()} (register it on the Xero app)")
    yield Line("Webhook URL", True, f"{webhook_url()} (register it on the Xero app)")


def _database(now: dt.datetime) -> Iterator[Line]:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # any driver's error: the line says what it was
        yield Line(
            "Database",
            False,
            f"cannot be reached: {type(error).__name__}: {error}".strip(),
            "Check DATABASE_URL (host, port, name, user, password) and that the database "
            "server accepts connections from this machine.",
        )
        return
    vendor = connection.vendor
    if plan:
        yield Line(
            "Database",
            False,
            f"{vendor}, reachable, {len(plan)} migration(s) not applied",
            "Run: ledgerbridge migrate",
        )
    else:
        yield Line("Database", True, f"{vendor}, reachable, migrated")


def _queue(now: dt.datetime) -> Iterator[Line]:
    huey = settings.HUEY
    kind = type(huey.storage).__name__
    try:
        pending = huey.pending_count()
    except Exception as error:
        yield Line(
            "Queue",
            False,
            f"{kind} cannot be reached: {type(error).__name__}: {error}".strip(),
            "Check HUEY_URL (redis://host:6379/0, or a SQLite file path every process "
            "can write) and that Redis is running.",
        )
        return
    yield Line("Queue", True, f"{kind}, reachable, {pending} job(s) waiting")


def _workers(now: dt.datetime) -> Iterator[Line]:
    beats = list(worker_heartbeats())
    fix = (
        "Start the workers (ledgerbridge run_huey; one process with the clock, the "
        "others with --no-periodic) and check their logs."
    )
    if not beats:
        yield Line("Workers", False, "no worker has written a heartbeat", fix)
        return
    stale = [beat for beat in beats if now - beat.beat_at > HEARTBEAT_STALE]
    if stale:
        names = ", ".join(
            f"{beat.name} (last {int((now - beat.beat_at).total_seconds())} s ago)"
            for beat in stale
        )
        yield Line(
            "Workers",
            False,
            f"{len(stale)} of {len(beats)} silent for over two minutes: {names}",
            fix + " A worker stopped for good drops out of this list after an hour.",
        )
        return
    yield Line("Workers", True, f"{len(beats)} alive (heartbeat within two minutes)")


def _xero_roots(now: dt.datetime) -> Iterator[Line]:
    roots = (
        ("LEDGERBRIDGE_XERO_LOGIN_URL", oauth.authorize_url()),
        (
            "LEDGERBRIDGE_XERO_IDENTITY_URL",
            f"{settings.XERO_IDENTITY_URL}/.well-known/openid-configuration",
        ),
        ("LEDGERBRIDGE_XERO_API_URL", oauth.connections_url()),
    )
    failed = []
    for variable, url in roots:
        try:
            # Any answer but a server error will do: the connections list says 401
            # without a token, the authorize page 400 without its parameters.
            status = httpx.get(url, timeout=oauth.TIMEOUT, verify=oauth.tls_context()).status_code
        except httpx.HTTPError as error:
            failed.append((variable, f"{url}: {type(error).__name__}"))
            continue
        if status >= 500:
            failed.append((variable, f"{url}: HTTP {status}"))
    if failed:
        yield Line(
            "Xero roots",
            False,
            "; ".join(detail for _, detail in failed),
            "Check "
            + ", ".join(sorted({variable for variable, _ in failed}))
            + " (unset means real Xero) and that this machine may make outgoing https calls.",
        )
    else:
        yield Line(
            "Xero roots",
            True,
            f"{settings.XERO_LOGIN_URL}, {settings.XERO_IDENTITY_URL}, {settings.XERO_API_URL} answer",
        )


def _xero_client(now: dt.datetime) -> Iterator[Line]:
    name = "Xero app credentials"
    fix = (
        "Copy the client id and a current client secret from the app in Xero's developer "
        "portal (My Apps > the app > Configuration) into LEDGERBRIDGE_XERO_CLIENT_ID and "
        "LEDGERBRIDGE_XERO_CLIENT_SECRET."
    )
    if not settings.XERO_CLIENT_ID or not settings.XERO_CLIENT_SECRET:
        yield Line(name, False, "LEDGERBRIDGE_XERO_CLIENT_ID or _SECRET is not set", fix)
        return
    try:
        oauth.refresh(refresh_token=KNOWN_BAD_REFRESH_TOKEN, now=now)
    except XeroError as error:  # the identity service's refusals are Xero errors
        code = getattr(error, "error", "")
        if code == "invalid_grant":
            yield Line(
                name, True, "accepted by Xero's token endpoint (invalid_grant for a bad token)"
            )
        elif code == "invalid_client":
            yield Line(
                name, False, "Xero's token endpoint refused the client (invalid_client)", fix
            )
        else:
            yield Line(name, False, f"no verdict from Xero's token endpoint: {error}", fix)
        return
    yield Line(
        name,
        False,
        "Xero's token endpoint accepted a made-up refresh token",
        "LEDGERBRIDGE_XERO_IDENTITY_URL does not point at Xero's identity service.",
    )


def _webhooks(now: dt.datetime) -> Iterator[Line]:
    portal = (
        f"In Xero's developer portal (the app > Webhooks) set the delivery URL to "
        f"{webhook_url()}, then send 'Intent to receive'."
    )
    if not settings.XERO_WEBHOOK_KEY:
        yield Line(
            "Webhook key",
            False,
            "LEDGERBRIDGE_XERO_WEBHOOK_KEY is not set: every delivery is refused (401)",
            "Copy the webhooks key from the app in Xero's developer portal into "
            "LEDGERBRIDGE_XERO_WEBHOOK_KEY. " + portal,
        )
        return
    yield Line("Webhook key", True, "set")
    handshake = xero_webhook_handshake_last()
    if handshake is None:
        yield Line("Intent to receive", False, "no intent-to-receive has reached us", portal)
    elif handshake.key_sha256 != webhook_key_sha256():
        yield Line(
            "Intent to receive",
            False,
            f"the last one ({handshake.received_at:%Y-%m-%d %H:%M} UTC) was signed with "
            "another webhook key",
            portal,
        )
    else:
        yield Line("Intent to receive", True, f"passed {handshake.received_at:%Y-%m-%d %H:%M} UTC")


def _links(now: dt.datetime) -> Iterator[Line]:
    links = list(
        XeroConnection.objects.filter(status=LinkStatus.NEEDS_REAUTHORISATION)
        .select_related("company")
        .order_by("company__legal_name")
    )
    if not links:
        connected = XeroConnection.objects.filter(status=LinkStatus.CONNECTED).count()
        yield Line("Xero links", True, f"{connected} connected, none needs re-authorisation")
        return
    yield Line(
        "Xero links",
        False,
        f"{len(links)} need re-authorisation: "
        + "; ".join(
            f"{link.company.legal_name} ({link.last_error or 'refused'})" for link in links
        ),
        "A Super Admin of each company opens Configuration > Accounting and authorises Xero again.",
    )


CHECKS: tuple[Callable[[dt.datetime], Iterator[Line]], ...] = (
    _keys,
    _public_url,
    _database,
    _queue,
    _workers,
    _xero_roots,
    _xero_client,
    _webhooks,
    _links,
)
# These read the database's tables; without them they cannot say.
NEEDS_DATABASE = {_workers: "Workers", _webhooks: "Webhook key", _links: "Xero links"}


def doctor_run(*, now: dt.datetime) -> list[Line]:
    lines: list[Line] = []
    for check in CHECKS:
        try:
            found = list(check(now))  # all of a check's lines, or none of them
        except DatabaseError as error:
            if check not in NEEDS_DATABASE:
                raise
            lines.append(
                Line(
                    NEEDS_DATABASE[check],
                    False,
                    f"not checked: the database answered {type(error).__name__}",
                    "Put the database right first (the Database line).",
                )
            )
            continue
        lines.extend(found)
    return lines


def doctor_report(lines: list[Line]) -> str:
    width = max(len(line.name) for line in lines)
    out = []
    for line in lines:
        out.append(
            f"[{'ok' if line.ok else 'FAIL'}]".ljust(7) + f"{line.name.ljust(width)}  {line.detail}"
        )
        if line.fix:
            out.append(" " * (7 + width + 2) + f"fix: {line.fix}")
    failed = sum(not line.ok for line in lines)
    out.append("")
    out.append("All checks passed." if not failed else f"{failed} check(s) failed.")
    return "\n".join(out)
