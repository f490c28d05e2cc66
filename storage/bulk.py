"""Bulk loading for demo data and benchmarks: large executemany transactions on a connection of its own, no
use-cases (1.5M tickets must take minutes). The rows must already be consistent; nothing here checks them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: Column order of the ticket and event rows a bulk load writes.
TICKET_COLUMNS = (
    "id", "number", "state", "version", "category", "reporter_id", "description", "location_source", "district",
    "unit", "deadline_class", "sign_due_at", "due_at", "created_at", "updated_at", "closed_at", "zone", "lead",
    "bounces", "reopen_count", "dispatched_at", "first_dispatched_at", "accepted_at", "resolved_at", "answer",
    "rating", "signed_on_time", "resolved_on_time", "solved", "satisfaction",
)
EVENT_COLUMNS = ("ticket_id", "at", "actor_kind", "action", "from_state", "to_state", "unit", "reason", "public")

_TICKET_SQL = f"INSERT INTO tickets({', '.join(TICKET_COLUMNS)}) VALUES ({', '.join('?' * len(TICKET_COLUMNS))})"
_EVENT_SQL = f"INSERT INTO events({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
COMMIT_EVERY_EVENTS = 2_000_000  # keep single transactions (and the WAL) of a sane size


def is_empty(db_path: Path) -> bool:
    """True if the file does not exist or holds no tickets."""
    if not Path(db_path).exists():
        return True
    conn = sqlite3.connect(db_path)
    try:
        has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'tickets'").fetchone()
        return not has_table or conn.execute("SELECT 1 FROM tickets LIMIT 1").fetchone() is None
    finally:
        conn.close()


def insert(conn: sqlite3.Connection, ticket_rows: Sequence[Sequence[Any]], event_rows: Sequence[Sequence[Any]]
           ) -> None:
    """Tickets and events in TICKET_COLUMNS / EVENT_COLUMNS order, on any connection (inside its transaction)."""
    conn.executemany(_TICKET_SQL, ticket_rows)
    conn.executemany(_EVENT_SQL, event_rows)


def next_ticket_id(conn: sqlite3.Connection) -> int:
    return (conn.execute("SELECT max(id) FROM tickets").fetchone()[0] or 0) + 1


def next_sequence(conn: sqlite3.Connection, name: str = "tickets") -> int:
    row = conn.execute("SELECT value FROM number_sequences WHERE name = ?", (name,)).fetchone()
    return (row[0] if row else 0) + 1


def set_sequence(conn: sqlite3.Connection, last_sequence: int, name: str = "tickets") -> None:
    conn.execute("INSERT INTO number_sequences(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = "
                 "excluded.value", (name, last_sequence))


class BulkLoader:
    """One bulk load into an existing, migrated database file (use as a context manager)."""

    def __init__(self, db_path: Path) -> None:
        self.conn = sqlite3.connect(db_path, isolation_level=None)
        self._since_commit = 0

    def __enter__(self) -> BulkLoader:
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-200000")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def next_ticket_id(self) -> int:
        return next_ticket_id(self.conn)

    def next_sequence(self, name: str = "tickets") -> int:
        return next_sequence(self.conn, name)

    def count_users(self) -> int:
        return self.conn.execute("SELECT count(*) FROM users").fetchone()[0]

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def add_users(self, rows: Iterable[tuple[int, str, str, str]]) -> None:
        """(id, language, first_seen, last_seen) rows; users already there are kept."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO users(id, language, reachable, first_seen, last_seen) VALUES (?, ?, 1, ?, ?)", rows)

    def add(self, ticket_rows: Sequence[Sequence[Any]], event_rows: Sequence[Sequence[Any]]) -> None:
        """Tickets and events in TICKET_COLUMNS / EVENT_COLUMNS order; commits now and then."""
        insert(self.conn, ticket_rows, event_rows)
        self._since_commit += len(event_rows)
        if self._since_commit > COMMIT_EVERY_EVENTS:
            self._since_commit = 0
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")

    def finish(self, last_sequence: int, name: str = "tickets") -> None:
        """Advance the number sequence to the last one used, commit, and fold the WAL back into the file."""
        set_sequence(self.conn, last_sequence, name)
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
