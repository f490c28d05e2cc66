"""Requests for more time (申请延期) and the coordinators' decisions on them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.records import to_db


@dataclass(frozen=True)
class Extension:
    id: int
    ticket_id: int
    unit: str
    days: int
    reason: str
    state: str  # pending | approved | denied


def add(conn: sqlite3.Connection, ticket_id: int, unit: str, requested_by: int, days: int, reason: str,
        now: datetime, old_due: datetime | None) -> int:
    return int(conn.execute(
        "INSERT INTO extensions(ticket_id, unit, requested_by, days, reason, requested_at, old_due_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (ticket_id, unit, requested_by, days, reason, to_db(now), to_db(old_due) if old_due else None)).fetchone()[0])


def get(conn: sqlite3.Connection, extension_id: int, ticket_id: int) -> Extension | None:
    row = conn.execute("SELECT id, ticket_id, unit, days, reason, state FROM extensions WHERE id = ? AND "
                       "ticket_id = ?", (extension_id, ticket_id)).fetchone()
    return Extension(*row) if row else None


def decide(conn: sqlite3.Connection, extension_id: int, approved: bool, by: int, now: datetime,
           new_due: datetime | None) -> None:
    conn.execute("UPDATE extensions SET state = ?, decided_by = ?, decided_at = ?, new_due_at = ? WHERE id = ?",
                 ("approved" if approved else "denied", by, to_db(now), to_db(new_due) if new_due else None,
                  extension_id))


def approved_days(conn: sqlite3.Connection, ticket_id: int) -> int:
    return int(conn.execute("SELECT coalesce(sum(days), 0) FROM extensions WHERE ticket_id = ? AND "
                            "state = 'approved'", (ticket_id,)).fetchone()[0])
