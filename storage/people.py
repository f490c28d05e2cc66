"""People as the bot knows them: the language a resident chose (/lang) and staff's display names over time."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from storage.records import to_db


def chosen_language(conn: sqlite3.Connection, user_id: int) -> str | None:
    row = conn.execute("SELECT chosen_language FROM users WHERE id = ?", (user_id,)).fetchone()
    return row["chosen_language"] if row else None


def choose_language(conn: sqlite3.Connection, user_id: int, language: str, now: datetime) -> None:
    """Remember the language the person chose; it is also the language every later message to them uses."""
    t = to_db(now)
    conn.execute(
        "INSERT INTO users(id, language, chosen_language, reachable, first_seen, last_seen) VALUES (?, ?, ?, 1, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET language = excluded.language, chosen_language = excluded.chosen_language, "
        "last_seen = excluded.last_seen",
        (user_id, language, language, t, t),
    )


def record_name(conn: sqlite3.Connection, user_id: int, full_name: str, now: datetime) -> bool:
    """Add the name if it is not the person's latest one; True if a row was written."""
    row = conn.execute("SELECT full_name FROM people_names WHERE user_id = ? ORDER BY seen_at DESC, id DESC LIMIT 1",
                       (user_id,)).fetchone()
    if row is not None and row["full_name"] == full_name:
        return False
    conn.execute("INSERT INTO people_names(user_id, full_name, seen_at) VALUES (?, ?, ?)",
                 (user_id, full_name, to_db(now)))
    return True


def names_of(conn: sqlite3.Connection, user_ids: Iterable[int]) -> dict[int, list[tuple[datetime, str]]]:
    """Every recorded name of each person, oldest first."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    out: dict[int, list[tuple[datetime, str]]] = {}
    for row in conn.execute(f"SELECT user_id, full_name, seen_at FROM people_names WHERE user_id IN ({marks}) "
                            "ORDER BY user_id, seen_at, id", ids):
        out.setdefault(row["user_id"], []).append((datetime.fromisoformat(row["seen_at"]), row["full_name"]))
    return out
