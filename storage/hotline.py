"""The hotline's callback (回访): how often an operator has tried to reach a caller since the unit's answer."""

from __future__ import annotations

import sqlite3


def tries_since_answer(conn: sqlite3.Connection, ticket_id: int, try_event: str, answer_event: str) -> int:
    """Events ``try_event`` of the ticket after its latest ``answer_event`` (the answer being called back)."""
    return int(conn.execute(
        "SELECT count(*) FROM events WHERE ticket_id = ? AND action = ? AND id > "
        "(SELECT coalesce(max(id), 0) FROM events WHERE ticket_id = ? AND action = ?)",
        (ticket_id, try_event, ticket_id, answer_event)).fetchone()[0])
