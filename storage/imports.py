"""An imported ledger's cases: which source case ids are known, and the fast path for finished (historical) cases.

Finished cases go in with one executemany per table for a whole batch, inside the caller's transaction; the
reports' summaries (migrations 0009, 0013) get the batch's contribution once (storage.bulk.insert_tickets), not
a trigger upsert per row. Open cases do not come here:
they are registered through the intake like any new ticket (bot.workflow.importing), then :func:`remember`.

On PostgreSQL (storage.dialect.on_postgresql) the same functions take the portable path: plain executemany
INSERTs (storage.bulk.insert_json), ``= ANY(?)`` of an array for :func:`known`, no page-cache pragma, and ticket
ids drawn from the tickets' identity sequence (:func:`new_ticket_ids`), so a ticket filed later gets a fresh id.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from storage import bulk
from storage.dialect import on_postgresql

#: Column order of a finished ticket row (:func:`insert_finished`).
FINISHED_COLUMNS = (
    "id", "number", "state", "category", "reporter_id", "description", "location_source", "place_text", "unit",
    "district", "deadline_class", "due_at", "created_at", "updated_at", "closed_at", "dispatched_at",
    "first_dispatched_at", "accepted_at", "resolved_at", "answer", "rating", "resolved_on_time", "solved",
    "satisfaction", "channel", "channel_client",
)
EVENT_COLUMNS = ("ticket_id", "at", "actor_kind", "action", "from_state", "to_state", "unit", "public")
RATING_COLUMNS = ("ticket_id", "round", "version", "user_id", "at", "solved", "satisfaction")

_TICKETS = bulk.json_insert_sql("tickets", FINISHED_COLUMNS)
_EVENTS = bulk.json_insert_sql("events", EVENT_COLUMNS)
_RATINGS = bulk.json_insert_sql("ticket_ratings", RATING_COLUMNS)
_SOURCES = bulk.json_insert_sql("ticket_sources", ("source", "source_ref", "ticket_id"))


def known(conn: sqlite3.Connection, source: str, refs: Sequence[str]) -> set[str]:
    """Those of ``refs`` already imported from ``source``."""
    if not refs:
        return set()
    if on_postgresql(conn):  # the refs as one text[] parameter
        rows = conn.execute("SELECT source_ref FROM ticket_sources WHERE source = ? AND source_ref = ANY(?)",
                            (source, list(refs)))
    else:
        rows = conn.execute("SELECT source_ref FROM ticket_sources WHERE source = ? AND source_ref IN "
                            "(SELECT value FROM json_each(?))", (source, json.dumps(list(refs), ensure_ascii=False)))
    return {r[0] for r in rows}


def remember(conn: sqlite3.Connection, source: str, ref: str, ticket_id: int) -> None:
    conn.execute("INSERT INTO ticket_sources(source, source_ref, ticket_id) VALUES (?, ?, ?)",
                 (source, ref, ticket_id))


def ticket_of(conn: sqlite3.Connection, source: str, ref: str) -> int | None:
    row = conn.execute("SELECT ticket_id FROM ticket_sources WHERE source = ? AND source_ref = ?",
                       (source, ref)).fetchone()
    return row[0] if row else None


def bulk_cache(conn: sqlite3.Connection) -> None:
    """A page cache fit for a long import on this connection (the import's own; 200 MB, like storage.bulk). SQLite
    only: PostgreSQL's shared buffers are the server's."""
    if not on_postgresql(conn):
        conn.execute("PRAGMA cache_size=-200000")


def new_ticket_ids(conn: sqlite3.Connection, count: int) -> list[int]:
    """``count`` ids for new tickets inserted with explicit ids in this transaction, ascending. SQLite (one writer):
    the range after the largest id, so a batch fills a range (storage.bulk.id_range). PostgreSQL: drawn from the
    tickets' identity sequence, which an explicit id would not advance (the bot's next filing would collide); not
    necessarily a range when the bot files meanwhile, which is fine there (its summaries are the triggers')."""
    if count <= 0:
        return []
    if on_postgresql(conn):
        return sorted(r[0] for r in conn.execute(
            "SELECT nextval(pg_get_serial_sequence('tickets', 'id')) FROM generate_series(1, ?)", (count,)))
    first = (conn.execute("SELECT max(id) FROM tickets").fetchone()[0] or 0) + 1
    return list(range(first, first + count))


def reserve_sequence(conn: sqlite3.Connection, name: str, count: int) -> int:
    """Advance a gap-free counter by ``count`` at once; the first of the values reserved."""
    row = conn.execute(
        "INSERT INTO number_sequences(name, value) VALUES (?, ?) "
        "ON CONFLICT(name) DO UPDATE SET value = number_sequences.value + excluded.value RETURNING value",
        (name, count),
    ).fetchone()
    return int(row[0]) - count + 1


def insert_finished(conn: sqlite3.Connection, source: str, tickets: Sequence[Sequence[Any]],
                    events: Iterable[Sequence[Any]], ratings: Iterable[Sequence[Any]],
                    refs: Iterable[tuple[str, int]]) -> None:
    """Rows in FINISHED_COLUMNS / EVENT_COLUMNS / RATING_COLUMNS order, and (source case id, ticket id) pairs: one
    statement per table on SQLite (storage.bulk.insert_json: the parsing of the next batch goes on meanwhile)."""
    bulk.insert_tickets(conn, _TICKETS, tickets)
    bulk.insert_json(conn, _EVENTS, list(events))
    bulk.insert_json(conn, _RATINGS, list(ratings))
    bulk.insert_json(conn, _SOURCES, [(source, ref, tid) for ref, tid in refs])
