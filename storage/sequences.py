"""Gap-free counters kept in the database (they advance inside the caller's transaction)."""

from __future__ import annotations

import sqlite3


def next_value(conn: sqlite3.Connection, name: str) -> int:
    row = conn.execute(
        "INSERT INTO number_sequences(name, value) VALUES (?, 1) "
        "ON CONFLICT(name) DO UPDATE SET value = number_sequences.value + 1 RETURNING value",
        (name,),
    ).fetchone()
    return int(row[0])
