"""People the bot has met: their language and whether Telegram still lets us reach them."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from storage.records import User, to_db


def upsert(conn: sqlite3.Connection, user_id: int, language: str, now: datetime) -> None:
    """Remember a user who wrote to us; writing to us also means they can be reached again. A language chosen
    with /lang (``chosen_language``) wins over the one Telegram reports."""
    t = to_db(now)
    conn.execute(
        "INSERT INTO users(id, language, reachable, first_seen, last_seen) VALUES (?, ?, 1, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET language = coalesce(users.chosen_language, excluded.language), reachable = 1, "
        "blocked_at = NULL, "
        "last_seen = excluded.last_seen",
        (user_id, language, t, t),
    )


def get(conn: sqlite3.Connection, user_id: int) -> User | None:
    row = conn.execute("SELECT id, language, reachable FROM users WHERE id = ?", (user_id,)).fetchone()
    return User(row["id"], row["language"], bool(row["reachable"])) if row else None


def mark_unreachable(conn: sqlite3.Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        "UPDATE users SET reachable = 0, blocked_at = ? WHERE id = ?", (to_db(now), user_id)
    )
