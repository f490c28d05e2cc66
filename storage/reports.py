"""The queries behind the reports and the ledger (SQL only; the figures are assembled in bot.reports).

Design (measured in bench/report_bench.py on a seeded year of 1.5M tickets, see bench/README.md):

- A period is a half-open range of ``created_at`` (UTC text, which sorts as time).
- Figures (:func:`counts`): the per-unit day and month summaries of migration 0009, kept by triggers in each
  write's transaction: a year is ~12 month rows per group plus a few hours of tickets (0.055 s at 1.5M tickets
  against 3.6 s for the covering-index plan below, in the same run). The overdue figures depend on ``as_of`` and
  are read from the open tickets. :func:`counts_from_index` keeps the plan before the summaries:
- the covering index ``tickets_report`` (unit, district, category, created_at, …) makes each
  (unit, district, category) group of a period one contiguous index range. The groups are found by a loose
  index scan (one seek per distinct value, ~1 ms), then each range is aggregated on its own: no sort, and
  only the period's rows are read. A single ``GROUP BY`` over the period sorts every row first and was 2.5x
  slower (the planner's choice: 2.5 s; GROUP BY over a created_at-first covering index: 3.9 s).
- Medians: a second pass over the same ranges, grouping answered tickets by whole hours of handling time
  (small per-group sorts): an hour histogram per (unit, district), from which the median is read to the hour.
- Daily volume: one range count per local day on ``tickets_created`` (exact in any time zone, ~60 ms a year),
  less the day's merged duplicates (a range count on the small partial index ``tickets_merged``).
- A merged duplicate (state ``merged``) is no case of its own: every figure leaves it out (a filter on ``state``
  inside each group's index range), and the ticket it was merged into counts once.
- Long reads run on their own read-only connection (:func:`snapshot`), not on the bot's connection: a yearly
  ledger takes minutes, and the bot's one connection must keep serving residents meanwhile. A snapshot is one
  read transaction, so the ledger's ticket rows and its sheet of unit figures agree with each other.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

from storage.states import OPEN_IN as _OPEN_IN

T = TypeVar("T")


#: Ledger columns, in sheet order (no reporter identity: the ledger is for supervisors, not a contact list).
LEDGER_COLUMNS: tuple[str, ...] = (
    "number", "created_at", "category", "district", "unit", "state", "due_at", "signed_on_time",
    "resolved_at", "resolved_on_time", "rating", "reopen_count", "bounces", "description", "solved", "satisfaction",
    "channel", "channel_client",  # the client: an Open311 client's name, an imported ledger's source
)


@dataclass(frozen=True)
class Counts:
    """Raw counts of one (unit, district, category) group of tickets created in the period."""

    unit: str | None
    district: str | None
    category: str
    received: int  # tickets created in the period, withdrawn ones apart (they count against nobody)
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
    sign_overdue: int  # dispatched, never signed for, and past the sign-for deadline at `as_of`
    solution_rated: int  # rated with the "was it solved?" question (ratings before it have no answer)
    solved: int  # ... answered 解决
    partly_solved: int  # ... answered 部分解决
    withdrawn: int  # withdrawn by the reporter before sign-for (撤回): counted apart, in no unit's rates


def _matches(params: dict[str, str | None], *columns: str) -> str:
    """``c = :c`` for each column, or ``c IS NULL`` where the value is None: each is an index seek on both
    backends (PostgreSQL cannot seek on ``IS NOT DISTINCT FROM``, and read the whole table for each group)."""
    return "".join(f"{c} IS NULL AND " if params.get(c) is None else f"{c} = :{c} AND " for c in columns)


def _group_sql(template: str, params: dict[str, str | None]) -> str:
    """A group's query: `template` with ``{where}`` standing for its condition (four spellings, cached)."""
    return _GROUP_SQL_CACHE.setdefault((template, params["unit"] is None, params["district"] is None),
                                       template.replace("{where}", _GROUP_WHERE.replace(
                                           "{match}", _matches(params, "unit", "district"))))


_GROUP_SQL_CACHE: dict[tuple[str, bool, bool], str] = {}
_GROUP_WHERE = ("WHERE {match}category = :category AND created_at >= :start AND created_at < :end "
                "AND state != 'merged'")
_COUNTS_SQL = f"""
SELECT coalesce(sum(state != 'withdrawn'), 0),
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
       coalesce(sum(bounces > 0), 0),
       coalesce(sum(state = 'dispatched' AND signed_on_time IS NULL AND sign_due_at < :as_of), 0),
       count(solved),
       coalesce(sum(solved = 'solved'), 0),
       coalesce(sum(solved = 'partly'), 0),
       coalesce(sum(state = 'withdrawn'), 0)
FROM tickets INDEXED BY tickets_report {{where}}
"""

# Handling time = last answer − creation, in whole hours (see bot.reports.model for why creation).
_HANDLING_SQL = """
SELECT CAST((julianday(resolved_at) - julianday(created_at)) * 24 AS INTEGER) AS hours, count(*)
FROM tickets INDEXED BY tickets_report {where} AND resolved_at IS NOT NULL
GROUP BY hours
"""

# The planner's own plan for the ranking's figures (no index hint): the bench's baseline.
NAIVE_RANKING_SQL = f"""
SELECT unit, count(*), coalesce(sum(resolved_on_time), 0), count(resolved_on_time),
       coalesce(sum(state IN {_OPEN_IN} AND due_at < :as_of AND resolved_on_time IS NULL), 0)
FROM tickets
WHERE created_at >= :start AND created_at < :end
GROUP BY unit
"""

Group = tuple[str | None, str | None, str]


def _distinct(conn: sqlite3.Connection, column: str, prefix: dict[str, str | None]) -> list[str | None]:
    """Distinct values of ``column`` after an equality prefix of tickets_report: one index seek per value."""
    where = _matches(prefix, *prefix)
    found: list[str | None] = []
    if conn.execute(f"SELECT 1 FROM tickets INDEXED BY tickets_report WHERE {where}{column} IS NULL LIMIT 1",
                    prefix).fetchone():
        found.append(None)
    sql = f"SELECT min({column}) FROM tickets INDEXED BY tickets_report WHERE {where}{column} > :after"
    after = ""
    while (value := conn.execute(sql, {**prefix, "after": after}).fetchone()[0]) is not None:
        found.append(value)
        after = value
    return found


def groups(conn: sqlite3.Connection) -> list[Group]:
    """Every (unit, district, category) present in tickets, by a loose scan of the index (~1 ms)."""
    out: list[Group] = []
    for unit in _distinct(conn, "unit", {}):
        for district in _distinct(conn, "district", {"unit": unit}):
            for category in _distinct(conn, "category", {"unit": unit, "district": district}):
                if category is not None:
                    out.append((unit, district, category))
    return out


def counts_from_index(conn: sqlite3.Connection, start: str, end: str, as_of: str) -> list[Counts]:
    """Counts per (unit, district, category) of tickets created in [start, end), from the tickets table.

    The covering-index plan the report used before the day summary (0009): the bench's baseline, and the
    recount the summary is checked against.

    One aggregate per group over its own index range: no sort, and only the period's rows are read.
    """
    out = []
    for unit, district, category in groups(conn):
        params = {"unit": unit, "district": district, "category": category, "start": start, "end": end,
                  "as_of": as_of}
        row = conn.execute(_group_sql(_COUNTS_SQL, params), params).fetchone()
        if row[0] or row[-1]:
            out.append(Counts(unit, district, category, *tuple(row)))
    return out


_SUMMARY_FIELDS = (
    "received", "signed", "signed_on_time", "resolved", "resolved_on_time", "open", "rated", "satisfied",
    "recomplained", "bounced", "solution_rated", "solved", "partly_solved", "withdrawn",
)
_SUMMARY_SQL = {
    table: f"""
SELECT unit, district, category, {", ".join(f"sum({f})" for f in _SUMMARY_FIELDS)}
FROM {table} WHERE {column} >= :first AND {column} < :after
GROUP BY unit, district, category
"""
    for table, column in (("ticket_day_summary", "day"), ("ticket_month_summary", "month"))
}
# The same figures for a part of a UTC day (a period's ends, when its days are not UTC days), from the tickets.
_EDGE_SQL = f"""
SELECT coalesce(unit, ''), coalesce(district, ''), category,
       sum(state != 'withdrawn'), count(signed_on_time), coalesce(sum(signed_on_time), 0), count(resolved_on_time),
       coalesce(sum(resolved_on_time), 0), sum(state IN {_OPEN_IN}), count(rating), sum(rating = 'satisfied'),
       sum(reopen_count > 0), sum(bounces > 0), count(solved), sum(solved = 'solved'), sum(solved = 'partly'),
       sum(state = 'withdrawn')
FROM tickets INDEXED BY tickets_created
WHERE created_at >= :start AND created_at < :end AND state != 'merged'
GROUP BY 1, 2, 3
"""
# What depends on `as_of`, from the open tickets only (the partial index of migration 0009, in group order: no
# sort; a year's open tickets are a few percent of it).
_OVERDUE_SQL = f"""
SELECT unit, district, category,
       sum(due_at < :as_of), sum(due_at < :as_of AND resolved_on_time IS NULL),
       sum(state = 'dispatched' AND signed_on_time IS NULL AND sign_due_at < :as_of)
FROM tickets INDEXED BY tickets_open_report
WHERE created_at >= :start AND created_at < :end AND state IN {_OPEN_IN}
GROUP BY unit, district, category
"""


Piece = tuple[int, str, str, str]  # (sign, source: "month" | "day" | "tickets", lo, hi)


def _nearest_midnight(at: datetime) -> datetime:
    floor = datetime.combine(at.date(), time(), UTC)
    return floor if at - floor <= timedelta(hours=12) else floor + timedelta(days=1)


def _nearest_month(day: datetime) -> datetime:
    floor = day.replace(day=1)
    ceil = (floor + timedelta(days=32)).replace(day=1)
    return floor if day - floor <= ceil - day else ceil


def _signed(source: str, lo: str, hi: str) -> list[Piece]:
    if lo == hi:
        return []
    return [(1, source, lo, hi)] if lo < hi else [(-1, source, hi, lo)]


def _pieces(start: str, end: str) -> list[Piece]:
    """[start, end) as signed ranges of the month summary, the day summary and the tickets, each boundary rounded
    to its nearest UTC midnight and that to its nearest month start: with F(x) the figures of tickets created
    before x, F(end) − F(start) is whole months, plus or minus a few days, plus or minus under 12 hours of
    tickets at each end. A local year (midnights 8 h off UTC) is 12 month rows per group and 8 hours of tickets."""
    if datetime.fromisoformat(end) - datetime.fromisoformat(start) <= timedelta(days=2):
        return [(1, "tickets", start, end)]  # a few thousand tickets: one range is cheaper than pieces
    bounds = []
    for text in (start, end):
        at = datetime.fromisoformat(text).astimezone(UTC)
        day = _nearest_midnight(at)
        bounds.append((text, day, _nearest_month(day)))
    (x0, d0, m0), (x1, d1, m1) = bounds
    month, day, ts = (lambda d: d.date().isoformat()[:7]), (lambda d: d.date().isoformat()), _midnight
    out = _signed("month", month(m0), month(m1))
    out += _signed("day", day(m1), day(d1)) + _flip(_signed("day", day(m0), day(d0)))
    out += _signed("tickets", ts(d1), x1) + _flip(_signed("tickets", ts(d0), x0))
    net: dict[tuple[str, str, str], int] = {}
    for sign, source, lo, hi in out:  # a range added and taken away is no query at all
        net[source, lo, hi] = net.get((source, lo, hi), 0) + sign
    return [(sign, *piece) for piece, sign in net.items() if sign]


def _flip(pieces: list[Piece]) -> list[Piece]:
    return [(-sign, source, lo, hi) for sign, source, lo, hi in pieces]


def _midnight(day: datetime) -> str:
    return day.isoformat(timespec="microseconds")


def counts(conn: sqlite3.Connection, start: str, end: str, as_of: str) -> list[Counts]:
    """Counts per (unit, district, category) of tickets created in [start, end) (UTC ISO texts).

    Whole UTC months come from ``ticket_month_summary``, days from ``ticket_day_summary`` (both kept by
    triggers in each write's transaction, migration 0009), and the hours between a boundary and its nearest UTC
    midnight from the tickets, added or taken away (:func:`_pieces`); the overdue figures, which depend on
    ``as_of``, from the period's open tickets. Exact: equal to
    :func:`counts_from_index` (tests/storage/test_day_summary.py).
    """
    sums: dict[tuple[str, str, str], list[int]] = {}

    def add(rows: Iterable[Sequence[Any]], offset: int, sign: int = 1) -> None:
        for row in rows:
            acc = sums.setdefault((row[0] or "", row[1] or "", row[2]), [0] * (len(_SUMMARY_FIELDS) + 3))
            for i, value in enumerate(row[3:]):
                acc[offset + i] += sign * (value or 0)

    for sign, source, lo, hi in _pieces(start, end):
        if source == "tickets":
            add(conn.execute(_EDGE_SQL, {"start": lo, "end": hi}), 0, sign)
        else:
            table = "ticket_month_summary" if source == "month" else "ticket_day_summary"
            add(conn.execute(_SUMMARY_SQL[table], {"first": lo, "after": hi}), 0, sign)
    add(conn.execute(_OVERDUE_SQL, {"start": start, "end": end, "as_of": as_of}), len(_SUMMARY_FIELDS))
    out = []
    n = len(_SUMMARY_FIELDS)
    for (unit, district, category), acc in sorted(sums.items()):
        figures = dict(zip(_SUMMARY_FIELDS, acc[:n], strict=True))
        if figures["received"] or figures["withdrawn"]:
            out.append(Counts(unit or None, district or None, category, overdue_open=acc[n],
                              overdue_unanswered=acc[n + 1], sign_overdue=acc[n + 2], **figures))
    return out


Histogram = list[tuple[str | None, str | None, int, int]]


def handling_hours(conn: sqlite3.Connection, start: str, end: str) -> Histogram:
    """(unit, district, whole hours from creation to last answer, tickets) for answered tickets."""
    out = []
    for unit, district, category in groups(conn):
        params = {"unit": unit, "district": district, "category": category, "start": start, "end": end}
        out.extend((unit, district, int(h), int(n)) for h, n in conn.execute(_group_sql(_HANDLING_SQL, params), params))
    return out


def count_between(conn: sqlite3.Connection, bounds: list[str]) -> list[int]:
    """Tickets created in each [bounds[i], bounds[i+1]) (local days as UTC texts), merged duplicates left out:
    two range counts each."""
    sql = "SELECT count(*) FROM tickets INDEXED BY tickets_created WHERE created_at >= ? AND created_at < ?"
    merged = ("SELECT count(*) FROM tickets INDEXED BY tickets_merged WHERE state = 'merged' "
              "AND created_at >= ? AND created_at < ?")
    return [int(conn.execute(sql, pair).fetchone()[0]) - int(conn.execute(merged, pair).fetchone()[0])
            for pair in itertools.pairwise(bounds)]


_LEDGER_TIMES = frozenset({"created_at", "due_at", "resolved_at"})
_LEDGER_FREE_TEXT = frozenset({"description", "channel_client"})
#: A CSV cell starting with one of these would be run by Excel as a formula (CSV injection).
#: (A tab and a carriage return written as themselves: both backends take them in a literal; char() is SQLite's.)
_FORMULA_START = "('=', '+', '-', '@', '\t', '\r')"


def ledger_rows(conn: sqlite3.Connection, start: str, end: str, batch: int = 5000, *,
                offset_minutes: int | None = None, csv_safe: bool = False) -> Iterator[list[tuple]]:
    """Ledger rows (``LEDGER_COLUMNS``) of tickets created in [start, end), by creation, in batches.

    ``offset_minutes``: the three times come as local "YYYY-MM-DD HH:MM" at that fixed UTC offset (SQLite's
    strftime, for a zone without changes over the ledger's times), else as stored. ``csv_safe``: free text
    starting like a formula gets a leading apostrophe (CSV injection)."""
    columns = []
    for name in LEDGER_COLUMNS:
        if offset_minutes is not None and name in _LEDGER_TIMES:
            columns.append(f"strftime('%Y-%m-%d %H:%M', {name}, '{int(offset_minutes):+d} minutes')")
        elif csv_safe and name in _LEDGER_FREE_TEXT:
            columns.append(f"CASE WHEN substr({name}, 1, 1) IN {_FORMULA_START} THEN '''' || {name} ELSE {name} END")
        else:
            columns.append(name)
    cur = conn.execute(
        f"SELECT {', '.join(columns)} FROM tickets INDEXED BY tickets_created "
        "WHERE created_at >= ? AND created_at < ? ORDER BY created_at",
        (start, end),
    )
    try:
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            yield rows
    finally:
        cur.close()


def ledger_count(conn: sqlite3.Connection, start: str, end: str) -> int:
    """How many rows :func:`ledger_rows` gives for [start, end) (for a progress line)."""
    return conn.execute("SELECT count(*) FROM tickets INDEXED BY tickets_created "
                        "WHERE created_at >= ? AND created_at < ?", (start, end)).fetchone()[0]


def ticket_count(conn: sqlite3.Connection, start: str, end: str) -> int:
    return count_between(conn, [start, end])[0]


def snapshot(path: str | Path, fn: Callable[[sqlite3.Connection], T], cache_kib: int = 65536) -> T:
    """Run ``fn`` on a fresh read-only connection inside one read transaction (a consistent snapshot).

    Blocking: call it from a worker thread (``asyncio.to_thread``) in the bot.
    """
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.execute("PRAGMA query_only=ON")
        conn.execute(f"PRAGMA cache_size=-{int(cache_kib)}")  # 64 MiB: the report index fits in a few scans
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")
    finally:
        conn.close()


# -- by channel (ticket_channel_day, migration of the ledger import) ----------------------------------------------

ChannelCounts = tuple[str, str | None, int, int, int]  # (channel, client, received, rated, satisfied)
_CHANNEL_DAYS_SQL = """
SELECT channel, client, sum(received), sum(rated), sum(satisfied) FROM ticket_channel_day
WHERE day >= :first AND day < :after GROUP BY channel, client
"""
_CHANNEL_EDGE_SQL = """
SELECT channel, coalesce(channel_client, ''), sum(state != 'withdrawn'), count(rating),
       coalesce(sum(rating = 'satisfied'), 0)
FROM tickets INDEXED BY tickets_created
WHERE created_at >= :start AND created_at < :end AND state != 'merged'
GROUP BY 1, 2
"""


def channel_counts(conn: sqlite3.Connection, start: str, end: str) -> list[ChannelCounts]:
    """Received, rated and satisfied per (channel, client) of tickets created in [start, end) (UTC ISO texts):
    the UTC days between the boundaries' nearest midnights from the day table, plus or minus the hours between
    each boundary and its midnight from the tickets (as :func:`counts` does). Clients are None where a channel
    has none."""
    sums: dict[tuple[str, str], list[int]] = {}

    def add(rows: Iterable[Sequence[Any]], sign: int) -> None:
        for channel, client, *values in rows:
            acc = sums.setdefault((channel, client or ""), [0, 0, 0])
            for i, value in enumerate(values):
                acc[i] += sign * (value or 0)

    def tickets(lo: str, hi: str) -> None:  # F(hi) - F(lo), either way round
        if lo != hi:
            add(conn.execute(_CHANNEL_EDGE_SQL, {"start": min(lo, hi), "end": max(lo, hi)}), 1 if lo < hi else -1)

    d0, d1 = (_nearest_midnight(datetime.fromisoformat(x).astimezone(UTC)) for x in (start, end))
    if d1 <= d0:
        tickets(start, end)
    else:
        add(conn.execute(_CHANNEL_DAYS_SQL, {"first": d0.date().isoformat(), "after": d1.date().isoformat()}), 1)
        tickets(_midnight(d1), end)
        tickets(start, _midnight(d0))
    return [(channel, client or None, *acc) for (channel, client), acc in sorted(sums.items())  # type: ignore[misc]
            if any(acc)]
