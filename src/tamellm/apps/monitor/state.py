"""The monitor's state in one SQLite file: events, window numbers, baselines, rule episodes, alerts, offsets.

Everything that one batch changes is written in one transaction (WAL journal,
``synchronous=FULL``): after ``kill -9`` the file holds either the whole batch (events,
their windows, the input offset, the alerts it raised) or none of it. Events are keyed
by id and alerts by entity + kind + window, so reading a batch again changes nothing.
Each alert has one delivery row per sink, marked once the sink has it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tamellm.errors import ConfigError, DataError

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, text TEXT NOT NULL, source TEXT,
    polarity TEXT NOT NULL, score REAL NOT NULL, negative REAL NOT NULL,
    entities TEXT NOT NULL, late INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS mentions (
    event_id TEXT NOT NULL, entity TEXT NOT NULL, window_start REAL NOT NULL,
    PRIMARY KEY (event_id, entity));
CREATE INDEX IF NOT EXISTS mentions_window ON mentions (entity, window_start);
CREATE TABLE IF NOT EXISTS windows (
    entity TEXT NOT NULL, window_start REAL NOT NULL,
    count INTEGER NOT NULL DEFAULT 0, negative INTEGER NOT NULL DEFAULT 0, neutral INTEGER NOT NULL DEFAULT 0,
    positive INTEGER NOT NULL DEFAULT 0, score_sum REAL NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0, numbers TEXT,
    PRIMARY KEY (entity, window_start));
CREATE TABLE IF NOT EXISTS entities (
    entity TEXT PRIMARY KEY, first_window REAL NOT NULL, closed_until REAL NOT NULL, baseline TEXT);
CREATE TABLE IF NOT EXISTS rule_state (
    entity TEXT NOT NULL, rule TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 0, quiet INTEGER NOT NULL DEFAULT 0,
    episode_start REAL, episode_alert TEXT, silent_until REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (entity, rule));
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, entity TEXT NOT NULL, kind TEXT NOT NULL, window_start REAL NOT NULL,
    window_end REAL NOT NULL, payload TEXT NOT NULL, seq INTEGER NOT NULL,
    UNIQUE (entity, kind, window_start));
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id TEXT NOT NULL, sink TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
    PRIMARY KEY (alert_id, sink));
CREATE TABLE IF NOT EXISTS offsets (source TEXT PRIMARY KEY, position INTEGER NOT NULL);
"""


class Store:
    """A connection to one state file; ``transaction()`` groups the writes of one batch."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise DataError(f"State file {self.path} is not a monitor database ({exc})",
                            "pass a new --state path, or the file an earlier `tamellm monitor run` wrote") from None
        self.db.row_factory = sqlite3.Row
        self._depth = 0

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work (nested calls join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._depth = 0

    # --- settings that must not change between runs on one state file ----------------------

    def meta(self, key: str, default: Any = None) -> Any:
        """A stored setting (JSON) or ``default``."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        """Store a setting (inside the caller's transaction)."""
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def check_settings(self, settings: dict[str, Any]) -> None:
        """Record the window settings on first use; refuse different ones later (the windows would not line up)."""
        with self.transaction():
            stored = self.meta("settings")
            if stored is None:
                self.set_meta("settings", settings)
                self.set_meta("schema", SCHEMA_VERSION)
                return
        changed = {k: (stored.get(k), v) for k, v in settings.items() if stored.get(k) != v}
        if changed:
            key, (old, new) = next(iter(changed.items()))
            raise ConfigError(f"State file {self.path} was built with {key}={old}, not {new}",
                              f"use the same {key}, or a new --state file")

    # --- offsets -----------------------------------------------------------------------------

    def offset(self, source: str) -> int:
        """Where reading ``source`` stopped (0 when never read)."""
        row = self.db.execute("SELECT position FROM offsets WHERE source = ?", (source,)).fetchone()
        return int(row[0]) if row else 0

    def set_offset(self, source: str, position: int) -> None:
        """Remember the read position (inside the batch's transaction)."""
        self.db.execute("INSERT OR REPLACE INTO offsets (source, position) VALUES (?, ?)", (source, position))

    # --- alerts and deliveries -----------------------------------------------------------------

    def add_alert(self, alert: dict, sinks: list[str]) -> bool:
        """Store an alert and a pending delivery per sink; False when the same alert exists."""
        seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM alerts").fetchone()[0]
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO alerts (id, entity, kind, window_start, window_end, payload, seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (alert["id"], alert["entity"], alert["kind"], alert["_window_start"], alert["_window_end"],
             json.dumps({k: v for k, v in alert.items() if not k.startswith("_")}, ensure_ascii=False), seq))
        if cursor.rowcount == 0:
            return False
        self.db.executemany("INSERT OR IGNORE INTO deliveries (alert_id, sink) VALUES (?, ?)",
                            [(alert["id"], sink) for sink in sinks])
        return True

    def pending(self, sink: str) -> list[dict]:
        """Alerts not yet delivered to ``sink``, oldest first."""
        rows = self.db.execute(
            "SELECT a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
            "WHERE d.sink = ? AND d.status = 'pending' ORDER BY a.seq", (sink,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def mark(self, alert_id: str, sink: str, status: str, attempts: int = 1, error: str | None = None) -> None:
        """Record a delivery outcome: 'delivered' or 'dead' (in the dead-letter file)."""
        with self.transaction():
            self.db.execute("UPDATE deliveries SET status = ?, attempts = attempts + ?, error = ? "
                            "WHERE alert_id = ? AND sink = ?", (status, attempts, error, alert_id, sink))

    def alerts(self, entity: str | None = None, limit: int | None = None) -> list[dict]:
        """Stored alerts, oldest first (optionally one entity's, the last ``limit``)."""
        sql = "SELECT payload FROM alerts" + (" WHERE entity = ?" if entity else "") + " ORDER BY seq"
        rows = [json.loads(r[0]) for r in self.db.execute(sql, (entity,) if entity else ()).fetchall()]
        return rows[-limit:] if limit else rows

    def entity_windows(self, entity: str) -> list[dict]:
        """Closed windows of one entity with their numbers, in time order."""
        rows = self.db.execute("SELECT window_start, numbers FROM windows WHERE entity = ? AND closed = 1 "
                               "ORDER BY window_start", (entity,)).fetchall()
        return [{"window_start": r[0], **json.loads(r[1] or "{}")} for r in rows]

    def entity_names(self) -> list[str]:
        """Every entity seen so far."""
        return [r[0] for r in self.db.execute("SELECT entity FROM entities ORDER BY entity")]

    def examples(self, entity: str, start: float, order: str, limit: int) -> list[dict]:
        """The ``limit`` events of an entity's window ranked by ``order`` (an SQL ORDER BY on events)."""
        rows = self.db.execute(
            "SELECT e.id, e.ts, e.text, e.source, e.polarity, e.score, e.negative FROM mentions m "
            f"JOIN events e ON e.id = m.event_id WHERE m.entity = ? AND m.window_start = ? ORDER BY {order} LIMIT ?",
            (entity, start, limit)).fetchall()
        return [dict(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """How many events (and late ones), mentions and alerts the state holds."""
        one = self.db.execute
        return {"events": one("SELECT COUNT(*) FROM events").fetchone()[0],
                "late_events": one("SELECT COUNT(*) FROM events WHERE late = 1").fetchone()[0],
                "mentions": one("SELECT COUNT(*) FROM mentions").fetchone()[0],
                "alerts": one("SELECT COUNT(*) FROM alerts").fetchone()[0]}
