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

# The report summaries (migration 0009) for a range of ticket ids, added in one GROUP BY: the bulk loader pauses
# the per-row insert trigger inside its transaction and adds its rows' contribution before each commit, so the
# summaries still equal a recount at every commit (tests/storage/test_seed.py), at a fraction of the cost.
_SUMMARY_TRIGGER = "ticket_summary_insert"
_SUMMARY_SUMS = {
    "received": "sum(state != 'withdrawn')", "signed": "count(signed_on_time)",
    "signed_on_time": "coalesce(sum(signed_on_time), 0)", "resolved": "count(resolved_on_time)",
    "resolved_on_time": "coalesce(sum(resolved_on_time), 0)",
    "open": "sum(state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened'))",
    "rated": "count(rating)", "satisfied": "coalesce(sum(rating = 'satisfied'), 0)",
    "recomplained": "sum(reopen_count > 0)", "bounced": "sum(bounces > 0)", "solution_rated": "count(solved)",
    "solved": "coalesce(sum(solved = 'solved'), 0)", "partly_solved": "coalesce(sum(solved = 'partly'), 0)",
    "withdrawn": "sum(state = 'withdrawn')",
}
_SUMMARY_ADD = [
    f"INSERT INTO {table}(unit, district, category, {column}, {', '.join(_SUMMARY_SUMS)}) "
    f"SELECT coalesce(unit, ''), coalesce(district, ''), category, substr(created_at, 1, {width}), "
    f"{', '.join(_SUMMARY_SUMS.values())} FROM tickets WHERE id BETWEEN ? AND ? AND state != 'merged' "
    f"GROUP BY 1, 2, 3, 4 ON CONFLICT({key}) DO UPDATE SET "
    + ", ".join(f"{f} = {f} + excluded.{f}" for f in _SUMMARY_SUMS)
    for table, column, width, key in (
        ("ticket_day_summary", "day", 10, "day, unit, district, category"),
        ("ticket_month_summary", "month", 7, "unit, district, category, month"),
    )
]


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
        self._trigger_sql: str | None = None  # the paused summary trigger, recreated before each commit
        self._ids: tuple[int, int] | None = None  # ticket ids added since the last commit

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
        self._pause_summary()

    def _pause_summary(self) -> None:
        row = self.conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                                (_SUMMARY_TRIGGER,)).fetchone()
        self._trigger_sql = row[0] if row else None
        if self._trigger_sql:
            self.conn.execute(f"DROP TRIGGER {_SUMMARY_TRIGGER}")
        self._ids = None

    def _resume_summary(self) -> None:
        """Add the rows loaded since the pause to the summaries and put the trigger back (same transaction)."""
        if self._trigger_sql is None:
            return
        if self._ids is not None:
            for sql in _SUMMARY_ADD:
                self.conn.execute(sql, self._ids)
        self.conn.execute(self._trigger_sql)
        self._trigger_sql = None

    def _commit(self) -> None:
        self._resume_summary()
        self.conn.execute("COMMIT")

    def add_users(self, rows: Iterable[tuple[int, str, str, str]]) -> None:
        """(id, language, first_seen, last_seen) rows; users already there are kept."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO users(id, language, reachable, first_seen, last_seen) VALUES (?, ?, 1, ?, ?)", rows)

    def add(self, ticket_rows: Sequence[Sequence[Any]], event_rows: Sequence[Sequence[Any]]) -> None:
        """Tickets and events in TICKET_COLUMNS / EVENT_COLUMNS order; commits now and then."""
        insert(self.conn, ticket_rows, event_rows)
        if ticket_rows:  # ids are TICKET_COLUMNS[0]; a load's ids are new and above every existing one
            lo, hi = min(r[0] for r in ticket_rows), max(r[0] for r in ticket_rows)
            self._ids = (min(lo, self._ids[0]), max(hi, self._ids[1])) if self._ids else (lo, hi)
        self._since_commit += len(event_rows)
        if self._since_commit > COMMIT_EVERY_EVENTS:
            self._since_commit = 0
            self._commit()
            self.begin()

    def finish(self, last_sequence: int, name: str = "tickets") -> None:
        """Advance the number sequence to the last one used, commit, and fold the WAL back into the file."""
        set_sequence(self.conn, last_sequence, name)
        self._commit()
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
