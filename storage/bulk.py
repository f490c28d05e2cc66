"""Bulk loading for demo data and benchmarks: large executemany transactions on a connection of its own, no
use-cases (1.5M tickets must take minutes). The rows must already be consistent; nothing here checks them.

Report summaries once per batch, not once per row: the triggers of migrations 0009 and 0013 keep
ticket_day_summary, ticket_month_summary and ticket_channel_day by an upsert per ticket inserted, which halved
the ledger import. :func:`deferred_summaries` is the one place a bulk load (this module's :func:`insert`, used by
the demo seed, and storage.imports.insert_finished, the ledger import's historical batches) pauses the INSERT
triggers: inside the load's transaction it inserts the one row of ``summaries_deferred`` (the switch the INSERT
triggers' WHEN obeys), lets the caller insert its tickets, deletes the row and adds the batch's contribution to
each table with one ``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE`` over the batch's id range
(:data:`SUMMARY_FIGURES`, the 0009 backfill's expressions, kept here once). SQLite has one writer, so no other
connection ever sees the switch, and a rollback takes it away with the batch. UPDATE and DELETE triggers are never
paused.

A backend that cannot do this (PostgreSQL, whose plpgsql trigger functions know no such switch) answers False to
:func:`defers_summaries`; the bulk code then inserts with the triggers on and adds nothing itself, so the
summaries are right either way, only slower. :func:`insert_json`'s one-statement form (json_each / json_extract)
is SQLite's too: on PostgreSQL (storage.dialect.on_postgresql) the same batch goes in as a plain executemany of
the statement's VALUES form (psycopg sends it pipelined).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from storage.dialect import on_postgresql

#: Column order of the ticket and event rows a bulk load writes.
TICKET_COLUMNS = (
    "id", "number", "state", "version", "category", "reporter_id", "description", "location_source", "district",
    "unit", "deadline_class", "sign_due_at", "due_at", "created_at", "updated_at", "closed_at", "zone", "lead",
    "bounces", "reopen_count", "dispatched_at", "first_dispatched_at", "accepted_at", "resolved_at", "answer",
    "rating", "signed_on_time", "resolved_on_time", "solved", "satisfaction",
)
EVENT_COLUMNS = ("ticket_id", "at", "actor_kind", "action", "from_state", "to_state", "unit", "reason", "public")

_TICKET_SQL = f"INSERT INTO tickets({', '.join(TICKET_COLUMNS)}) VALUES ({', '.join('?' * len(TICKET_COLUMNS))})"
_EVENT_SQL = f"INSERT INTO events({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
COMMIT_EVERY_EVENTS = 2_000_000  # keep single transactions (and the WAL) of a sane size


#: The report summaries' figures per ticket, as migration 0009's backfill and triggers count them: (column of
#: ticket_day_summary / ticket_month_summary, its expression over a tickets row; summed per group).
SUMMARY_FIGURES = (
    ("received", "state != 'withdrawn'"),
    ("signed", "signed_on_time IS NOT NULL"),
    ("signed_on_time", "coalesce(signed_on_time, 0)"),
    ("resolved", "resolved_on_time IS NOT NULL"),
    ("resolved_on_time", "coalesce(resolved_on_time, 0)"),
    ("open", "state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened')"),
    ("rated", "rating IS NOT NULL"),
    ("satisfied", "coalesce(rating = 'satisfied', 0)"),
    ("recomplained", "reopen_count > 0"),
    ("bounced", "bounces > 0"),
    ("solution_rated", "solved IS NOT NULL"),
    ("solved", "coalesce(solved = 'solved', 0)"),
    ("partly_solved", "coalesce(solved = 'partly', 0)"),
    ("withdrawn", "state = 'withdrawn'"),
)
#: ticket_channel_day's figures (migration 0013), the same way.
CHANNEL_FIGURES = (
    ("received", "state != 'withdrawn'"),
    ("rated", "rating IS NOT NULL"),
    ("satisfied", "coalesce(rating = 'satisfied', 0)"),
)
#: (table, its key columns and their expressions, the primary key, figures) of every summary an INSERT trigger keeps.
_SUMMARIES = (
    ("ticket_day_summary", (("unit", "coalesce(unit, '')"), ("district", "coalesce(district, '')"),
                            ("category", "category"), ("day", "substr(created_at, 1, 10)")),
     "day, unit, district, category", SUMMARY_FIGURES),
    ("ticket_month_summary", (("unit", "coalesce(unit, '')"), ("district", "coalesce(district, '')"),
                              ("category", "category"), ("month", "substr(created_at, 1, 7)")),
     "unit, district, category, month", SUMMARY_FIGURES),
    ("ticket_channel_day", (("channel", "channel"), ("client", "coalesce(channel_client, '')"),
                            ("day", "substr(created_at, 1, 10)")),
     "day, channel, client", CHANNEL_FIGURES),
)


def _batch_sql(table: str, keys: tuple[tuple[str, str], ...], conflict: str,
               figures: tuple[tuple[str, str], ...]) -> str:
    columns = ", ".join([k for k, _ in keys] + [f for f, _ in figures])
    values = ", ".join([e for _, e in keys] + [f"sum({e})" for _, e in figures])
    groups = ", ".join(str(n + 1) for n in range(len(keys)))
    adds = ", ".join(f"{f} = {f} + excluded.{f}" for f, _ in figures)
    return (f"INSERT INTO {table}({columns}) SELECT {values} FROM tickets WHERE id BETWEEN ? AND ? "
            f"AND state != 'merged' GROUP BY {groups} ON CONFLICT({conflict}) DO UPDATE SET {adds}")


#: One INSERT ... SELECT per summary table: a batch's contribution, from its tickets' id range.
BATCH_SUMMARY_SQL = tuple(_batch_sql(*summary) for summary in _SUMMARIES)


def defers_summaries(conn: object) -> bool:
    """Whether this connection's backend can pause the summaries' INSERT triggers for a bulk load: SQLite (one
    writer, the ``summaries_deferred`` switch of its triggers) can; any other backend answers False."""
    return isinstance(conn, sqlite3.Connection)


def id_range(ticket_rows: Sequence[Sequence[Any]]) -> tuple[int, int] | None:
    """(first, last) id of ticket rows whose id (column 0) fills that range exactly, else None (ids are unique, so
    then no other ticket lies in the range)."""
    if not ticket_rows:
        return None
    ids = [r[0] for r in ticket_rows]
    first, last = min(ids), max(ids)
    return (first, last) if last - first + 1 == len(ids) else None


@contextlib.contextmanager
def deferred_summaries(conn: sqlite3.Connection, first_id: int, last_id: int) -> Iterator[None]:
    """Around a bulk insert of the tickets with ids ``first_id``..``last_id`` (all new: no other ticket may lie in
    that range), inside the caller's transaction: the summaries' INSERT triggers paused, then the batch's
    contribution added once per table. On an error the switch is taken away and nothing is added (the caller
    rolls back). Where :func:`defers_summaries` is False, the inserts run with the triggers on."""
    if not defers_summaries(conn):
        yield
        return
    conn.execute("INSERT INTO summaries_deferred(id) VALUES (1)")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("DELETE FROM summaries_deferred")
        raise
    conn.execute("DELETE FROM summaries_deferred")
    for sql in BATCH_SUMMARY_SQL:
        conn.execute(sql, (first_id, last_id))


def insert_tickets(conn: sqlite3.Connection, sql: str | BatchInsert, ticket_rows: Sequence[Sequence[Any]]) -> None:
    """``executemany(sql, ticket_rows)`` of new tickets (id first), or for a :class:`BatchInsert`
    :func:`insert_json`; their summaries added once for the batch when the ids fill a range
    (:func:`deferred_summaries`), else by the triggers row by row."""
    span = id_range(ticket_rows)
    with deferred_summaries(conn, *span) if span else contextlib.nullcontext():
        if isinstance(sql, BatchInsert):
            insert_json(conn, sql, ticket_rows)
        else:
            conn.executemany(sql, ticket_rows)


class BatchInsert(NamedTuple):
    """An INSERT of rows in one column order, in the two forms :func:`insert_json` sends (:func:`json_insert_sql`)."""

    json: str  # SQLite: every row from one JSON array of arrays
    values: str  # any other backend: one row of placeholders, for an executemany


def json_insert_sql(table: str, columns: Sequence[str]) -> BatchInsert:
    """An INSERT of rows given in ``columns`` order, for :func:`insert_json`."""
    names = ", ".join(columns)
    picks = ", ".join(f"json_extract(value, '$[{n}]')" for n in range(len(columns)))
    marks = ", ".join("?" * len(columns))
    return BatchInsert(f"INSERT INTO {table}({names}) SELECT {picks} FROM json_each(?)",
                       f"INSERT INTO {table}({names}) VALUES ({marks})")


def insert_json(conn: sqlite3.Connection, sql: BatchInsert, rows: Sequence[Sequence[Any]]) -> None:
    """A whole batch in ONE statement (the ``json`` form): SQLite reads the rows from one JSON parameter
    and runs without Python's GIL throughout. An executemany takes the GIL back after every row, so a thread
    busy in Python (the import parsing its next batch) all but stops it: 12,000 rows/s alone, 1,400 beside a
    spinning thread, against 14,000 for this (bench/README.md). Values: str, int, float, None. On PostgreSQL
    (which has no json_each): an executemany of the ``values`` form."""
    if on_postgresql(conn):
        if rows:
            conn.executemany(sql.values, rows)
        return
    conn.execute(sql.json, (json.dumps(rows, ensure_ascii=False, check_circular=False),))


def is_empty(db_path: Path) -> bool:
    """True if the file does not exist or holds no tickets."""
    if not Path(db_path).exists():
        return True
    conn = sqlite3.connect(db_path)
    try:
        has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'tickets'").fetchone()
        return not has_table or conn.execute("SELECT 1 FROM tickets LIMIT 1").fetchone() is None
    finally:
        conn.close()


def insert(conn: sqlite3.Connection, ticket_rows: Sequence[Sequence[Any]], event_rows: Sequence[Sequence[Any]]
           ) -> None:
    """Tickets and events in TICKET_COLUMNS / EVENT_COLUMNS order, on any connection (inside its transaction); the
    report summaries are added once for the batch (:func:`insert_tickets`)."""
    insert_tickets(conn, _TICKET_SQL, ticket_rows)
    conn.executemany(_EVENT_SQL, event_rows)


def next_ticket_id(conn: sqlite3.Connection) -> int:
    return (conn.execute("SELECT max(id) FROM tickets").fetchone()[0] or 0) + 1


def next_sequence(conn: sqlite3.Connection, name: str = "tickets") -> int:
    row = conn.execute("SELECT value FROM number_sequences WHERE name = ?", (name,)).fetchone()
    return (row[0] if row else 0) + 1


def set_sequence(conn: sqlite3.Connection, last_sequence: int, name: str = "tickets") -> None:
    conn.execute("INSERT INTO number_sequences(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = "
                 "excluded.value", (name, last_sequence))


class BulkLoader:
    """One bulk load into an existing, migrated database file (use as a context manager)."""

    def __init__(self, db_path: Path) -> None:
        self.conn = sqlite3.connect(db_path, isolation_level=None)
        self._since_commit = 0

    def __enter__(self) -> BulkLoader:
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-200000")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def next_ticket_id(self) -> int:
        return next_ticket_id(self.conn)

    def next_sequence(self, name: str = "tickets") -> int:
        return next_sequence(self.conn, name)

    def count_users(self) -> int:
        return self.conn.execute("SELECT count(*) FROM users").fetchone()[0]

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def add_users(self, rows: Iterable[tuple[int, str, str, str]]) -> None:
        """(id, language, first_seen, last_seen) rows; users already there are kept."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO users(id, language, reachable, first_seen, last_seen) VALUES (?, ?, 1, ?, ?)", rows)

    def add(self, ticket_rows: Sequence[Sequence[Any]], event_rows: Sequence[Sequence[Any]]) -> None:
        """Tickets and events in TICKET_COLUMNS / EVENT_COLUMNS order; commits now and then."""
        insert(self.conn, ticket_rows, event_rows)
        self._since_commit += len(event_rows)
        if self._since_commit > COMMIT_EVERY_EVENTS:
            self._since_commit = 0
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")

    def finish(self, last_sequence: int, name: str = "tickets") -> None:
        """Advance the number sequence to the last one used, commit, and fold the WAL back into the file."""
        set_sequence(self.conn, last_sequence, name)
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
