"""A unit's questions to a ticket's reporter (询问群众): one row per round; the answers are events."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from storage.records import from_db, to_db


@dataclass(frozen=True)
class Inquiry:
    id: int
    ticket_id: int
    round: int
    unit: str
    asked_by: int
    reporter_id: int
    question: str
    asked_at: datetime
    outbox_id: int | None
    answers: int


_COLUMNS = "id, ticket_id, round, unit, asked_by, reporter_id, question, asked_at, outbox_id, answers"


def _from_row(row: sqlite3.Row | tuple) -> Inquiry:
    values = list(row)
    values[7] = from_db(values[7])
    return Inquiry(*values)  # type: ignore[arg-type]


def add(conn: sqlite3.Connection, ticket_id: int, unit: str, asked_by: int, reporter_id: int, question: str,
        now: datetime) -> Inquiry:
    """A new round (numbered after the ticket's last one)."""
    number = conn.execute("SELECT coalesce(max(round), 0) + 1 FROM inquiries WHERE ticket_id = ?",
                          (ticket_id,)).fetchone()[0]
    cur = conn.execute(
        "INSERT INTO inquiries(ticket_id, round, unit, asked_by, reporter_id, question, asked_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (ticket_id, number, unit, asked_by, reporter_id, question, to_db(now)))
    found = get(conn, cur.fetchone()[0])
    assert found is not None
    return found


def set_outbox_row(conn: sqlite3.Connection, inquiry_id: int, outbox_id: int | None) -> None:
    conn.execute("UPDATE inquiries SET outbox_id = ? WHERE id = ?", (outbox_id, inquiry_id))


def get(conn: sqlite3.Connection, inquiry_id: int) -> Inquiry | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM inquiries WHERE id = ?", (inquiry_id,)).fetchone()
    return _from_row(row) if row else None


def by_reply(conn: sqlite3.Connection, reporter_id: int, message_id: int) -> Inquiry | None:
    """The round whose question is the message ``message_id`` in the reporter's private chat, if any."""
    row = conn.execute(
        f"SELECT {', '.join('i.' + c for c in _COLUMNS.split(', '))} FROM inquiries AS i "
        "JOIN outbox AS o ON o.id = i.outbox_id WHERE i.reporter_id = ? AND o.chat_id = ? AND o.sent_message_id = ?",
        (reporter_id, reporter_id, message_id)).fetchone()
    return _from_row(row) if row else None


def by_outbox_rows(conn: sqlite3.Connection, outbox_ids: list[int]) -> list[Inquiry]:
    """The rounds whose question the given outbox rows were to deliver."""
    if not outbox_ids:
        return []
    marks = ", ".join("?" for _ in outbox_ids)
    rows = conn.execute(f"SELECT {_COLUMNS} FROM inquiries WHERE outbox_id IN ({marks}) ORDER BY id", outbox_ids)
    return [_from_row(r) for r in rows]


def answered(conn: sqlite3.Connection, inquiry_id: int) -> None:
    conn.execute("UPDATE inquiries SET answers = answers + 1 WHERE id = ?", (inquiry_id,))


def tally(conn: sqlite3.Connection, ticket_id: int) -> tuple[int, int]:
    """(questions asked, questions answered at least once) of a ticket, for its card."""
    row = conn.execute("SELECT count(*), coalesce(sum(answers > 0), 0) FROM inquiries WHERE ticket_id = ?",
                       (ticket_id,)).fetchone()
    return int(row[0]), int(row[1])
