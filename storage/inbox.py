"""The webhook inbox: every update Telegram posts is a row here before anything acts on it (bot/webhook.py).

- `store` on receipt: the update id is the key and a repeated delivery is dropped (``ON CONFLICT DO NOTHING``).
- `claim` takes the next row to process, atomically, for one process (`worker`) with a lease: the oldest
  pending row that is the oldest pending row of its chat and that nobody holds (or whose holder's lease ran
  out). So a chat's next update waits until the previous one is done, in one process or across several, and a
  dead process's rows are taken over when its lease expires. The claimed row's conditions are repeated in the
  outer WHERE: a database that re-checks a locked row before updating it (PostgreSQL under READ COMMITTED) lets
  only one of two racing claimers have it; the other claims nothing and asks again.
- `finish` marks the row done (or failed, with the error), `renew` extends the leases of rows in hand, `prune`
  forgets processed rows after a while.

Plain, portable SQL (``ON CONFLICT``, ``RETURNING``); times are stored as UTC ISO text, as everywhere.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.records import from_db, to_db


@dataclass(frozen=True)
class InboxRow:
    update_id: int
    chat_id: int | None
    payload: str
    attempts: int


def store(conn: sqlite3.Connection, update_id: int, chat_id: int | None, payload: str, now: datetime) -> bool:
    """Keep a received update; False when it was already there (Telegram delivered it again)."""
    cur = conn.execute(
        "INSERT INTO inbox(update_id, chat_id, received_at, payload) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (update_id) DO NOTHING",
        (update_id, chat_id, to_db(now), payload),
    )
    return cur.rowcount == 1


def claim(conn: sqlite3.Connection, worker: str, now: datetime, lease_until: datetime) -> InboxRow | None:
    """The next row `worker` may process, now held by it until `lease_until`; None when there is none."""
    stamp = to_db(now)
    row = conn.execute(
        "UPDATE inbox SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 "
        "WHERE update_id = ("
        "  SELECT i.update_id FROM inbox AS i"
        "  WHERE i.state = 'pending' AND (i.claimed_until IS NULL OR i.claimed_until < ?)"
        "   AND NOT EXISTS (SELECT 1 FROM inbox AS e WHERE e.state = 'pending' AND e.chat_id = i.chat_id"
        "                   AND e.update_id < i.update_id)"
        "  ORDER BY i.update_id LIMIT 1)"
        " AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < ?) "
        "RETURNING update_id, chat_id, payload, attempts",
        (worker, to_db(lease_until), stamp, stamp),
    ).fetchall()  # stepped to the end: the update is only complete then
    if not row:
        return None
    row = row[0]
    return InboxRow(row["update_id"], row["chat_id"], row["payload"], row["attempts"])


def finish(conn: sqlite3.Connection, update_id: int, worker: str, now: datetime, error: str | None = None) -> bool:
    """The row was processed (`error`: processing failed and will not be tried again). False when `worker` no
    longer held it (its lease ran out and another process took the row over)."""
    cur = conn.execute(
        "UPDATE inbox SET state = ?, processed_at = ?, claimed_until = NULL, last_error = ? "
        "WHERE update_id = ? AND claimed_by = ? AND state = 'pending'",
        ("failed" if error else "done", to_db(now), error, update_id, worker),
    )
    return cur.rowcount == 1


def renew(conn: sqlite3.Connection, worker: str, update_ids: list[int], lease_until: datetime) -> int:
    """Extend `worker`'s leases on the rows it is still processing."""
    if not update_ids:
        return 0
    until = to_db(lease_until)
    return conn.executemany(
        "UPDATE inbox SET claimed_until = ? WHERE claimed_by = ? AND state = 'pending' AND update_id = ?",
        [(until, worker, update_id) for update_id in update_ids],
    ).rowcount


def release_all(conn: sqlite3.Connection) -> int:
    """Drop every claim (at start, where one process owns the database: whoever held them is gone)."""
    return conn.execute(
        "UPDATE inbox SET claimed_by = NULL, claimed_until = NULL WHERE state = 'pending' AND claimed_by IS NOT NULL"
    ).rowcount


def release_worker(conn: sqlite3.Connection, worker: str) -> int:
    """Drop the claims of `worker` (at start, where that name is this instance's: its previous run is gone)."""
    return conn.execute(
        "UPDATE inbox SET claimed_by = NULL, claimed_until = NULL WHERE state = 'pending' AND claimed_by = ?",
        (worker,),
    ).rowcount


def prune(conn: sqlite3.Connection, before: datetime) -> int:
    """Forget rows processed before `before` (a delivery repeated later than that would be processed again)."""
    return conn.execute("DELETE FROM inbox WHERE state <> 'pending' AND processed_at < ?", (to_db(before),)).rowcount


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many rows are in each state (what to watch: a growing 'pending' means processing falls behind)."""
    return {r[0]: r[1] for r in conn.execute("SELECT state, COUNT(*) FROM inbox GROUP BY state")}


def oldest_pending(conn: sqlite3.Connection) -> datetime | None:
    row = conn.execute("SELECT MIN(received_at) FROM inbox WHERE state = 'pending'").fetchone()
    return from_db(row[0])


def rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every row, in update order (tests and operators)."""
    return conn.execute(
        "SELECT update_id, chat_id, state, claimed_by, attempts, received_at, processed_at, last_error, payload "
        "FROM inbox ORDER BY update_id"
    ).fetchall()


def failed(conn: sqlite3.Connection, limit: int = 10) -> list[sqlite3.Row]:
    """The latest rows whose processing failed, newest first (update id, chat, when, why)."""
    return conn.execute(
        "SELECT update_id, chat_id, processed_at, last_error FROM inbox WHERE state = 'failed' "
        "ORDER BY update_id DESC LIMIT ?",
        (limit,),
    ).fetchall()
