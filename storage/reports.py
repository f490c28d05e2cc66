"""The queries behind the reports and the ledger (SQL only; the figures are assembled in bot.reports).

Design (measured in bench/report_bench.py on a seeded year of 1.5M tickets, see bench/README.md):

- A period is a half-open range of ``created_at`` (UTC text, which sorts as time). Every query below is a range
  scan of the covering index ``tickets_report`` (migration 0003), which holds every column the figures read, so
  the table itself is never touched. Grouping happens in SQLite over a few hundred groups at most; Python only
  adds the groups up. The planner's own choice on the bare table was the slow path (PERFORMANCE.md).
- Medians: one more scan of the same index, grouping answered tickets by whole hours of handling time: a
  histogram per (unit, district), from which the median is read to the hour (``bot.reports.model``).
- Daily volume groups by the UTC hour (``substr(created_at, 1, 13)``); the caller folds hours into local days,
  which is exact for any zone whose offset is a whole number of hours (Asia/Shanghai is +08:00).
- Long reads run on their own read-only connection (:func:`snapshot`), not on the bot's connection: a yearly
  ledger takes minutes, and the bot's one connection must keep serving residents meanwhile. A snapshot is one
  read transaction, so the ledger's ticket rows and its sheet of unit figures agree with each other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# Keep in step with storage.tickets.OPEN_STATES and bot.domain.lifecycle.OPEN_STATES.
OPEN_STATES: tuple[str, ...] = ("registered", "dispatched", "accepted", "returned", "reopened")
_OPEN_IN = "(" + ", ".join(f"'{s}'" for s in OPEN_STATES) + ")"

#: Ledger columns, in sheet order (no reporter identity: the ledger is for supervisors, not a contact list).
LEDGER_COLUMNS: tuple[str, ...] = (
    "number", "created_at", "category", "district", "unit", "state", "due_at", "signed_on_time",
    "resolved_at", "resolved_on_time", "rating", "reopen_count", "bounces", "description",
)


@dataclass(frozen=True)
class Counts:
    """Raw counts of one (unit, district, category) group of tickets created in the period."""

    unit: str | None
    district: str | None
    category: str
    received: int  # tickets created in the period
    signed: int  # signed for at least once
    signed_on_time: int  # first sign-for before sign_due_at
    resolved: int  # answered at least once
    resolved_on_time: int  # first answer before due_at
    open: int  # in an open state now
    overdue_open: int  # open and past due_at at `as_of`
    overdue_unanswered: int  # open, past due and never answered (counts as due-but-late)
    rated: int
    satisfied: int
    recomplained: int  # reopen_count > 0
    bounced: int  # bounces > 0


_COUNTS_SQL = f"""
SELECT unit, district, category,
       count(*),
       count(signed_on_time),
       coalesce(sum(signed_on_time), 0),
       count(resolved_on_time),
       coalesce(sum(resolved_on_time), 0),
       coalesce(sum(state IN {_OPEN_IN}), 0),
       coalesce(sum(state IN {_OPEN_IN} AND due_at < :as_of), 0),
       coalesce(sum(state IN {_OPEN_IN} AND due_at < :as_of AND resolved_on_time IS NULL), 0),
       count(rating),
       coalesce(sum(rating = 'satisfied'), 0),
       coalesce(sum(reopen_count > 0), 0),
       coalesce(sum(bounces > 0), 0)
FROM tickets INDEXED BY tickets_report
WHERE created_at >= :start AND created_at < :end
GROUP BY unit, district, category
"""

# Handling time = last answer − creation, in whole hours (see bot.reports.model for why creation).
_HANDLING_SQL = """
SELECT unit, district, CAST((julianday(resolved_at) - julianday(created_at)) * 24 AS INTEGER) AS hours, count(*)
FROM tickets INDEXED BY tickets_report
WHERE created_at >= :start AND created_at < :end AND resolved_at IS NOT NULL
GROUP BY unit, district, hours
"""

_HOURLY_SQL = """
SELECT substr(created_at, 1, 13), count(*)
FROM tickets INDEXED BY tickets_report
WHERE created_at >= :start AND created_at < :end
GROUP BY 1
"""

# The planner's own plan for the same figures (no index hint): the bench's baseline.
NAIVE_RANKING_SQL = f"""
SELECT unit, count(*), coalesce(sum(resolved_on_time), 0), count(resolved_on_time),
       coalesce(sum(state IN {_OPEN_IN} AND due_at < :as_of AND resolved_on_time IS NULL), 0)
FROM tickets NOT INDEXED
WHERE created_at >= :start AND created_at < :end
GROUP BY unit
"""


def counts(conn: sqlite3.Connection, start: str, end: str, as_of: str) -> list[Counts]:
    """Counts per (unit, district, category) of tickets created in [start, end) (UTC ISO texts)."""
    rows = conn.execute(_COUNTS_SQL, {"start": start, "end": end, "as_of": as_of}).fetchall()
    return [Counts(*tuple(r)) for r in rows]


def handling_hours(conn: sqlite3.Connection, start: str, end: str) -> list[tuple[str | None, str | None, int, int]]:
    """(unit, district, whole hours from creation to last answer, tickets) for answered tickets."""
    rows = conn.execute(_HANDLING_SQL, {"start": start, "end": end}).fetchall()
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


def hourly_volume(conn: sqlite3.Connection, start: str, end: str) -> list[tuple[str, int]]:
    """("YYYY-MM-DDTHH" in UTC, tickets created in that hour), hours with none left out."""
    rows = conn.execute(_HOURLY_SQL, {"start": start, "end": end}).fetchall()
    return [(r[0], int(r[1])) for r in rows]


def ledger_rows(conn: sqlite3.Connection, start: str, end: str, batch: int = 5000) -> Iterator[list[tuple]]:
    """Ledger rows (``LEDGER_COLUMNS``) of tickets created in [start, end), by creation, in batches."""
    cur = conn.execute(
        f"SELECT {', '.join(LEDGER_COLUMNS)} FROM tickets INDEXED BY tickets_report "
        "WHERE created_at >= ? AND created_at < ? ORDER BY created_at",
        (start, end),
    )
    try:
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            yield [tuple(r) for r in rows]
    finally:
        cur.close()


def ticket_count(conn: sqlite3.Connection, start: str, end: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM tickets INDEXED BY tickets_report WHERE created_at >= ? AND created_at < ?",
        (start, end),
    ).fetchone()
    return int(row[0])


def snapshot(path: str | Path, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn`` on a fresh read-only connection inside one read transaction (a consistent snapshot).

    Blocking: call it from a worker thread (``asyncio.to_thread``) in the bot.
    """
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: the report index fits in a few scans
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")
    finally:
        conn.close()
