"""Sliding-window limits shared by every instance (migration ``*_multi.sql``): one row per hit in `rate_hits`.

`take` checks and records one hit in several windows at once, in the caller's transaction: either every window
is under its limit and the hit is recorded in all of them (0 is returned), or nothing is recorded and the
seconds until the first window frees are returned. On PostgreSQL the windows' keys are serialised with
transaction-scoped advisory locks, taken in a fixed order (no deadlock): under READ COMMITTED two instances
counting the same window at once would otherwise both see room for one more.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    scope: str  # 'send', 'group', 'user'
    key: int
    seconds: float
    limit: int


def _lock_key(window: Window) -> int:
    digest = hashlib.blake2b(f"complaint-bot:rate:{window.scope}:{window.key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def take(conn: sqlite3.Connection, windows: list[Window], now: float) -> float:
    """Record one hit at `now` in every window if each has room (returns 0.0); else record nothing and return
    how many seconds until all of them have room again."""
    ordered = sorted(windows, key=lambda w: (w.scope, w.key))
    if getattr(conn, "dialect", "sqlite") == "postgresql":  # SQLite: one writer at a time already
        for window in ordered:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_lock_key(window),))
    wait = 0.0
    for w in ordered:
        conn.execute("DELETE FROM rate_hits WHERE scope = ? AND key = ? AND at <= ?", (w.scope, w.key, now - w.seconds))
        count, oldest = conn.execute("SELECT COUNT(*), MIN(at) FROM rate_hits WHERE scope = ? AND key = ?",
                                     (w.scope, w.key)).fetchone()
        if count >= w.limit:
            # the (count - limit + 1)-th oldest hit must leave the window; the oldest is a lower bound
            nth = conn.execute("SELECT at FROM rate_hits WHERE scope = ? AND key = ? ORDER BY at LIMIT 1 OFFSET ?",
                               (w.scope, w.key, count - w.limit)).fetchone()
            wait = max(wait, (nth[0] if nth else oldest) + w.seconds - now)
    if wait > 0:
        return wait
    conn.executemany("INSERT INTO rate_hits(scope, key, at) VALUES (?, ?, ?)",
                     [(w.scope, w.key, now) for w in ordered])
    return 0.0


def prune(conn: sqlite3.Connection, before: float) -> int:
    """Forget every hit older than `before` (keys that are never hit again are not pruned by `take`)."""
    return conn.execute("DELETE FROM rate_hits WHERE at < ?", (before,)).rowcount
