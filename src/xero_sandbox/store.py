"""The sandbox's own SQLite storage.

Xero objects are kept as the JSON documents the API returns, keyed by tenant,
kind and id; the few relations the sandbox needs to query (connections, grants,
idempotency records, the call log, webhook events) have their own tables. One
connection guarded by a lock serves the whole server: SQLite is fast enough for
a single-process test double, and ``:memory:`` databases need it anyway.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Json = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS apps (client_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, email TEXT UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (tenant_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memberships (user_id TEXT, tenant_id TEXT, PRIMARY KEY (user_id, tenant_id));
CREATE TABLE IF NOT EXISTS connections (
    id TEXT PRIMARY KEY, client_id TEXT, user_id TEXT, tenant_id TEXT,
    auth_event_id TEXT, created REAL, updated REAL
);
CREATE INDEX IF NOT EXISTS connections_by_user ON connections (client_id, user_id);
CREATE TABLE IF NOT EXISTS grants (token TEXT PRIMARY KEY, kind TEXT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    tenant_id TEXT, kind TEXT, id TEXT, number TEXT, updated REAL, data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, id)
);
CREATE INDEX IF NOT EXISTS docs_by_number ON docs (tenant_id, kind, number);
CREATE TABLE IF NOT EXISTS attachments (
    id TEXT PRIMARY KEY, tenant_id TEXT, owner_kind TEXT, owner_id TEXT, file_name TEXT,
    mime_type TEXT, include_online INTEGER, content BLOB
);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT, key TEXT, fingerprint TEXT, status INTEGER, body BLOB, content_type TEXT,
    created REAL, PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL, method TEXT, path TEXT, query TEXT,
    tenant_id TEXT, client_id TEXT, status INTEGER, idempotency_key TEXT, duration_ms REAL,
    dropped INTEGER DEFAULT 0, correlation_id TEXT
);
CREATE TABLE IF NOT EXISTS webhook_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT, data TEXT NOT NULL,
    delivered INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT, at REAL, kind TEXT,
    status INTEGER, signed_correctly INTEGER, event_count INTEGER, error TEXT
);
"""

_TABLES = (
    "meta",
    "apps",
    "users",
    "orgs",
    "memberships",
    "connections",
    "grants",
    "docs",
    "attachments",
    "idempotency",
    "calls",
    "webhook_events",
    "webhook_deliveries",
)


class Store:
    """Thread-safe access to the sandbox database."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {r["name"] for r in self._db.execute("PRAGMA table_info(calls)")}
        if "correlation_id" not in columns:  # a database file from before the column
            self._db.execute("ALTER TABLE calls ADD COLUMN correlation_id TEXT")

    # -- plumbing ---------------------------------------------------------------
    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self._db.execute(sql, params)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self._db.execute(sql, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit; nests by simply joining the outer transaction."""
        with self.lock:
            if self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def wipe(self) -> None:
        with self.transaction():
            for table in _TABLES:
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            # Call log, webhook events and deliveries number from 1 again, as on a new server.
            self._db.execute("DELETE FROM sqlite_sequence")

    def close(self) -> None:
        with self.lock:
            self._db.close()

    # -- meta -------------------------------------------------------------------
    def meta_get(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def meta_set(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- json rows in simple tables ----------------------------------------------
    def put_app(self, app: Json) -> None:
        self.execute(
            "INSERT OR REPLACE INTO apps (client_id, data) VALUES (?, ?)",
            (app["client_id"], json.dumps(app)),
        )

    def get_app(self, client_id: str) -> Json | None:
        rows = self.query("SELECT data FROM apps WHERE client_id = ?", (client_id,))
        return json.loads(rows[0]["data"]) if rows else None

    def list_apps(self) -> list[Json]:
        return [json.loads(r["data"]) for r in self.query("SELECT data FROM apps ORDER BY rowid")]

    def put_user(self, user: Json) -> None:
        self.execute(
            "INSERT OR REPLACE INTO users (user_id, email, data) VALUES (?, ?, ?)",
            (user["user_id"], user["email"].lower(), json.dumps(user)),
        )

    def get_user(self, user_id: str) -> Json | None:
        rows = self.query("SELECT data FROM users WHERE user_id = ?", (user_id,))
        return json.loads(rows[0]["data"]) if rows else None

    def get_user_by_email(self, email: str) -> Json | None:
        rows = self.query("SELECT data FROM users WHERE email = ?", (email.lower(),))
        return json.loads(rows[0]["data"]) if rows else None

    def list_users(self) -> list[Json]:
        return [json.loads(r["data"]) for r in self.query("SELECT data FROM users ORDER BY rowid")]

    def put_org(self, org: Json) -> None:
        self.execute(
            "INSERT OR REPLACE INTO orgs (tenant_id, data) VALUES (?, ?)",
            (org["OrganisationID"], json.dumps(org)),
        )

    def get_org(self, tenant_id: str) -> Json | None:
        rows = self.query("SELECT data FROM orgs WHERE tenant_id = ?", (tenant_id,))
        return json.loads(rows[0]["data"]) if rows else None

    def list_orgs(self) -> list[Json]:
        return [json.loads(r["data"]) for r in self.query("SELECT data FROM orgs ORDER BY rowid")]

    def add_membership(self, user_id: str, tenant_id: str) -> None:
        self.execute(
            "INSERT OR IGNORE INTO memberships (user_id, tenant_id) VALUES (?, ?)",
            (user_id, tenant_id),
        )

    def user_tenants(self, user_id: str) -> list[str]:
        rows = self.query(
            "SELECT tenant_id FROM memberships WHERE user_id = ? ORDER BY rowid", (user_id,)
        )
        return [r["tenant_id"] for r in rows]

    # -- grants: authorization codes and refresh tokens ----------------------------
    def put_grant(self, token: str, kind: str, data: Json) -> None:
        self.execute(
            "INSERT OR REPLACE INTO grants (token, kind, data) VALUES (?, ?, ?)",
            (token, kind, json.dumps(data)),
        )

    def get_grant(self, token: str, kind: str) -> Json | None:
        rows = self.query("SELECT data FROM grants WHERE token = ? AND kind = ?", (token, kind))
        return json.loads(rows[0]["data"]) if rows else None

    def revoke_grants(self, client_id: str, user_id: str) -> None:
        for row in self.query("SELECT token, kind, data FROM grants"):
            data = json.loads(row["data"])
            if data.get("client_id") == client_id and data.get("user_id") == user_id:
                data["revoked"] = True
                self.put_grant(row["token"], row["kind"], data)

    # -- connections -------------------------------------------------------------
    def add_connection(self, conn: Json) -> None:
        self.execute(
            "INSERT OR REPLACE INTO connections VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                conn["id"],
                conn["client_id"],
                conn["user_id"],
                conn["tenant_id"],
                conn["auth_event_id"],
                conn["created"],
                conn["updated"],
            ),
        )

    def connections(
        self,
        *,
        client_id: str | None = None,
        user_id: str | None = None,
        tenant_id: str | None = None,
    ) -> list[Json]:
        sql = "SELECT * FROM connections WHERE 1=1"
        params: list[Any] = []
        for column, value in (
            ("client_id", client_id),
            ("user_id", user_id),
            ("tenant_id", tenant_id),
        ):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        return [dict(r) for r in self.query(sql + " ORDER BY created", tuple(params))]

    def delete_connection(self, connection_id: str) -> None:
        self.execute("DELETE FROM connections WHERE id = ?", (connection_id,))

    # -- documents -----------------------------------------------------------------
    def put_doc(
        self,
        tenant_id: str,
        kind: str,
        doc_id: str,
        data: Json,
        *,
        number: str | None,
        updated: float,
    ) -> None:
        self.execute(
            # An upsert keeps the row's place, so lists keep creation order across updates.
            "INSERT INTO docs (tenant_id, kind, id, number, updated, data) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant_id, kind, id) DO UPDATE SET number = excluded.number,"
            " updated = excluded.updated, data = excluded.data",
            (tenant_id, kind, doc_id.lower(), number, updated, json.dumps(data)),
        )

    def get_doc(self, tenant_id: str, kind: str, doc_id: str) -> Json | None:
        rows = self.query(
            "SELECT data FROM docs WHERE tenant_id = ? AND kind = ? AND id = ?",
            (tenant_id, kind, doc_id.lower()),
        )
        return json.loads(rows[0]["data"]) if rows else None

    def get_doc_by_number(self, tenant_id: str, kind: str, number: str) -> list[Json]:
        rows = self.query(
            "SELECT data FROM docs WHERE tenant_id = ? AND kind = ? AND number = ?"
            " ORDER BY updated",
            (tenant_id, kind, number),
        )
        return [json.loads(r["data"]) for r in rows]

    def list_docs(
        self, tenant_id: str, kind: str, *, modified_after: float | None = None
    ) -> list[Json]:
        if modified_after is None:
            rows = self.query(
                "SELECT data FROM docs WHERE tenant_id = ? AND kind = ? ORDER BY rowid",
                (tenant_id, kind),
            )
        else:
            rows = self.query(
                "SELECT data FROM docs WHERE tenant_id = ? AND kind = ? AND updated > ?"
                " ORDER BY rowid",
                (tenant_id, kind, modified_after),
            )
        return [json.loads(r["data"]) for r in rows]

    # -- attachments ---------------------------------------------------------------
    def put_attachment(self, att: Json, content: bytes) -> None:
        self.execute(
            "INSERT OR REPLACE INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                att["AttachmentID"],
                att["tenant_id"],
                att["owner_kind"],
                att["owner_id"].lower(),
                att["FileName"],
                att["MimeType"],
                1 if att["IncludeOnline"] else 0,
                content,
            ),
        )

    def attachments(self, tenant_id: str, owner_kind: str, owner_id: str) -> list[sqlite3.Row]:
        return self.query(
            "SELECT * FROM attachments WHERE tenant_id = ? AND owner_kind = ? AND owner_id = ?"
            " ORDER BY rowid",
            (tenant_id, owner_kind, owner_id.lower()),
        )

    # -- idempotency ---------------------------------------------------------------
    def get_idempotent(self, scope: str, key: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM idempotency WHERE scope = ? AND key = ?", (scope, key))
        return rows[0] if rows else None

    def put_idempotent(
        self,
        scope: str,
        key: str,
        fingerprint: str,
        status: int,
        body: bytes,
        content_type: str,
        created: float,
    ) -> None:
        self.execute(
            "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?)",
            (scope, key, fingerprint, status, body, content_type, created),
        )

    # -- call log ------------------------------------------------------------------
    def log_call(self, entry: Json) -> None:
        self.execute(
            "INSERT INTO calls (at, method, path, query, tenant_id, client_id, status,"
            " idempotency_key, duration_ms, dropped, correlation_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry["at"],
                entry["method"],
                entry["path"],
                entry["query"],
                entry["tenant_id"],
                entry["client_id"],
                entry["status"],
                entry["idempotency_key"],
                entry["duration_ms"],
                1 if entry.get("dropped") else 0,
                entry.get("correlation_id"),
            ),
        )

    def calls(self, *, since: int = 0, tenant_id: str | None = None) -> list[Json]:
        sql = "SELECT * FROM calls WHERE seq > ?"
        params: list[Any] = [since]
        if tenant_id:
            sql += " AND tenant_id = ?"
            params.append(tenant_id)
        return [dict(r) for r in self.query(sql + " ORDER BY seq", tuple(params))]

    def clear_calls(self) -> None:
        self.execute("DELETE FROM calls")

    # -- webhooks ------------------------------------------------------------------
    def add_webhook_event(self, client_id: str, event: Json) -> None:
        self.execute(
            "INSERT INTO webhook_events (client_id, data) VALUES (?, ?)",
            (client_id, json.dumps(event)),
        )

    def pending_webhook_events(self, client_id: str, limit: int) -> list[tuple[int, Json]]:
        rows = self.query(
            "SELECT seq, data FROM webhook_events WHERE client_id = ? AND delivered = 0"
            " ORDER BY seq LIMIT ?",
            (client_id, limit),
        )
        return [(r["seq"], json.loads(r["data"])) for r in rows]

    def clients_with_pending_events(self) -> list[str]:
        rows = self.query("SELECT DISTINCT client_id FROM webhook_events WHERE delivered = 0")
        return [r["client_id"] for r in rows]

    def mark_events_delivered(self, seqs: list[int]) -> None:
        with self.transaction():
            for seq in seqs:
                self._db.execute("UPDATE webhook_events SET delivered = 1 WHERE seq = ?", (seq,))

    def webhook_events(self) -> list[Json]:
        rows = self.query("SELECT seq, client_id, data, delivered FROM webhook_events ORDER BY seq")
        return [
            {
                "seq": r["seq"],
                "client_id": r["client_id"],
                "delivered": bool(r["delivered"]),
                "event": json.loads(r["data"]),
            }
            for r in rows
        ]

    def log_delivery(self, entry: Json) -> None:
        self.execute(
            "INSERT INTO webhook_deliveries (client_id, at, kind, status, signed_correctly,"
            " event_count, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entry["client_id"],
                entry["at"],
                entry["kind"],
                entry["status"],
                entry["signed_correctly"],
                entry["event_count"],
                entry["error"],
            ),
        )

    def deliveries(self) -> list[Json]:
        return [dict(r) for r in self.query("SELECT * FROM webhook_deliveries ORDER BY seq")]
