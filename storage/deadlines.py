"""What the deadline sweep reads and records: deadlines in a time range not yet reminded of, reminders queued,
resolved tickets waiting for a rating, provisional deadlines."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from storage.records import Ticket, to_db
from storage.states import HANDLING_CLOCK, RUNNING_CLOCKS, SIGN_CLOCK
from storage.tickets import ticket_from_row

# Each condition repeats its partial index's WHERE clause word for word, or SQLite will not use the index.
_STATES = {"sign_due_at": SIGN_CLOCK, "due_at": HANDLING_CLOCK}


def unreminded(conn: sqlite3.Connection, column: str, after: datetime | None, until: datetime, kind: str,
               limit: int) -> list[Ticket]:
    """Open tickets whose `column` deadline lies in (after, until] and have no reminder `kind` for it yet."""
    lower = f"AND t.{column} > ? " if after is not None else ""
    params = ([to_db(after)] if after is not None else []) + [to_db(until), f"{column}:{kind}", limit]
    rows = conn.execute(
        f"SELECT t.* FROM tickets t WHERE {_STATES[column]} {lower}AND t.{column} <= ? "
        f"AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.ticket_id = t.id AND r.kind = ? "
        f"AND r.due_at = t.{column}) ORDER BY t.{column} LIMIT ?", params).fetchall()
    return [ticket_from_row(r) for r in rows]


def record(conn: sqlite3.Connection, ticket_id: int, column: str, kind: str, due_at: datetime, now: datetime) -> bool:
    """The reminder `kind` about this very deadline is queued (or not needed): never again for it. False if it
    was recorded already: a concurrent sweep (PostgreSQL runs transactions side by side) got there first, and
    this one must not queue it again."""
    return conn.execute(
        "INSERT INTO reminders(ticket_id, kind, due_at, queued_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING "
        "RETURNING ticket_id", (ticket_id, f"{column}:{kind}", to_db(due_at), to_db(now))).fetchone() is not None


def resolved_before(conn: sqlite3.Connection, cutoff: datetime, limit: int) -> list[Ticket]:
    rows = conn.execute("SELECT * FROM tickets WHERE state = 'resolved' AND resolved_at <= ? LIMIT ?",
                        (to_db(cutoff), limit)).fetchall()
    return [ticket_from_row(r) for r in rows]


def provisional_open(conn: sqlite3.Connection) -> list[int]:
    """Ids of tickets with a deadline computed by the weekends-only fallback and still running."""
    return [r[0] for r in conn.execute(f"SELECT id FROM tickets WHERE deadline_provisional = 1 AND {RUNNING_CLOCKS}")]
