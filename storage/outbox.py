"""The outbox: every message a change causes is a row here, written in that change's transaction.

Only the sender (scheduler/outbox.py) sends them. A row is `pending` until Telegram accepted it (`sent`) or it
can never be delivered (`dead`, with the reason kept in `last_error`), or, for a card edit, until a newer queued
edit of the same card made it pointless (`superseded`, `last_error` naming the newer row): nothing is silently
dropped.

A chat's rows go out in order: a row that failed and waits for its retry (`holds_chat`) holds back every later
row of its chat until it is sent or given up. Rows scheduled for later on purpose (quiet hours) hold nothing back.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from storage.records import OutboxMessage, from_db, to_db


def add(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    ticket_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Queue a message; its row id, or None when a row with the same dedupe key already exists."""
    cur = conn.execute(
        "INSERT INTO outbox(chat_id, kind, payload, ticket_id, dedupe_key, created_at, not_before) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        (chat_id, kind, json.dumps(payload, ensure_ascii=False), ticket_id, dedupe_key, to_db(now),
         to_db(not_before or now)),
    )
    row = cur.fetchone()
    return int(row[0]) if row else None


def due(conn: sqlite3.Connection, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    """Pending rows whose time has come, except those an earlier row of their chat holds back (see above)."""
    rows = conn.execute(
        "SELECT id, chat_id, kind, payload, ticket_id, attempts, not_before FROM outbox AS o "
        "WHERE status = 'pending' AND not_before <= ? AND NOT EXISTS ("
        "  SELECT 1 FROM outbox AS h WHERE h.status = 'pending' AND h.holds_chat = 1"
        "  AND h.chat_id = o.chat_id AND h.id < o.id) "
        "ORDER BY not_before, id LIMIT ?",
        (to_db(now), limit),
    ).fetchall()
    return [
        OutboxMessage(r["id"], r["chat_id"], r["kind"], json.loads(r["payload"]), r["ticket_id"], r["attempts"],
                      from_db(r["not_before"]))  # type: ignore[arg-type]
        for r in rows
    ]


def mark_sent(conn: sqlite3.Connection, row_id: int, now: datetime, message_id: int | None) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?, sent_message_id = ?, attempts = attempts + 1, "
        "holds_chat = 0 WHERE id = ?",
        (to_db(now), message_id, row_id),
    )


def retry_later(conn: sqlite3.Connection, row_id: int, not_before: datetime, error: str, *,
                count_attempt: bool = True, hold_chat: bool = True) -> None:
    """Try the row again at `not_before`. A failed try (`hold_chat`) holds back the chat's later rows meanwhile;
    a row that only waits for another row (an edit for its card) does not. A row given up meanwhile (its chat
    became unreachable while the try was in flight) stays given up, with its reason."""
    conn.execute(
        "UPDATE outbox SET not_before = ?, last_error = ?, attempts = attempts + ?, holds_chat = ? "
        "WHERE id = ? AND status = 'pending'",
        (to_db(not_before), error, int(count_attempt), int(hold_chat), row_id),
    )


def mark_dead(conn: sqlite3.Connection, row_id: int, error: str) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'dead', last_error = ?, attempts = attempts + 1, holds_chat = 0 WHERE id = ?",
        (error, row_id),
    )


def mark_superseded(conn: sqlite3.Connection, row_id: int, newer_row_id: int) -> None:
    """A card edit that a newer queued edit of the same card replaces: done, never sent, and says why."""
    conn.execute(
        "UPDATE outbox SET status = 'superseded', last_error = ?, holds_chat = 0 WHERE id = ?",
        (f"superseded by row {newer_row_id}", row_id),
    )


#: Pending edits of one card in one chat, named by its message id or by the outbox row sending it (params: chat id,
#: message id, card row). One predicate for both directions, so "the same card" means the same thing in each.
_PENDING_EDITS_OF_CARD = ("status = 'pending' AND chat_id = ? AND kind = 'edit_card' "
                          "AND (CAST(json_extract(payload, '$.message_id') AS BIGINT) = ? "
                          "OR CAST(json_extract(payload, '$.card_row') AS BIGINT) = ?)")


def newer_card_edit(conn: sqlite3.Connection, row_id: int, chat_id: int, message_id: int | None,
                    card_row: int | None) -> int | None:
    """The newest pending card edit after `row_id` in the chat that edits the same card (by its message id, or by
    the outbox row that sends it); None if there is none."""
    if message_id is None and card_row is None:
        return None
    row = conn.execute(
        f"SELECT id FROM outbox WHERE {_PENDING_EDITS_OF_CARD} AND id > ? ORDER BY id DESC LIMIT 1",
        (chat_id, message_id, card_row, row_id),
    ).fetchone()
    return row[0] if row else None


def supersede_older_card_edits(conn: sqlite3.Connection, row_id: int, chat_id: int, message_id: int | None,
                               card_row: int | None) -> int:
    """The card edit `row_id` was sent: older pending edits of the same card are out of date, never to be sent."""
    if message_id is None and card_row is None:
        return 0
    return conn.execute(
        f"UPDATE outbox SET status = 'superseded', last_error = ?, holds_chat = 0 "
        f"WHERE {_PENDING_EDITS_OF_CARD} AND id < ?",
        (f"superseded by row {row_id}", chat_id, message_id, card_row, row_id),
    ).rowcount


def pending_ids_for_chat(conn: sqlite3.Connection, chat_id: int) -> list[int]:
    """The ids of a chat's rows still pending (before they are given up, to tell whom they concerned)."""
    return [r[0] for r in conn.execute("SELECT id FROM outbox WHERE chat_id = ? AND status = 'pending' ORDER BY id",
                                       (chat_id,))]


def mark_dead_for_chat(conn: sqlite3.Connection, chat_id: int, error: str) -> int:
    """Give up every pending row to a chat that cannot be reached (e.g. the user blocked the bot)."""
    return conn.execute(
        "UPDATE outbox SET status = 'dead', last_error = ?, holds_chat = 0 WHERE chat_id = ? AND status = 'pending'",
        (error, chat_id),
    ).rowcount


def move_chat(conn: sqlite3.Connection, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
    """A group became a supergroup: remember it and re-address what is still pending.

    A message id of the old group means nothing in the supergroup (its ids start afresh), so a pending edit or
    button removal of a message already sent in the old group is given up, with the reason, instead of editing
    whatever message bears that id in the new chat. Edits of a card still on its way (``card_row``) move with it.
    """
    conn.execute(
        "INSERT INTO chat_migrations(old_chat_id, new_chat_id, at) VALUES (?, ?, ?) "
        "ON CONFLICT(old_chat_id) DO UPDATE SET new_chat_id = excluded.new_chat_id, at = excluded.at",
        (old_chat_id, new_chat_id, to_db(now)),
    )
    reason = f"edit of a message left behind in a migrated group (now {new_chat_id})"
    for row in conn.execute("SELECT id, kind, payload FROM outbox WHERE chat_id = ? AND status = 'pending' "
                            "AND kind IN ('edit_card', 'drop_buttons')", (old_chat_id,)).fetchall():
        payload = json.loads(row["payload"])
        source = payload.get("source_row")
        left_behind = "message_id" in payload or (
            source is not None and sent_message_id(conn, int(source))[1] is not None)
        if left_behind:
            mark_dead(conn, row["id"], reason)
    conn.execute("UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND status = 'pending'",
                 (new_chat_id, old_chat_id))


def rows_for_chat(conn: sqlite3.Connection, chat_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute("SELECT * FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,))]


def sent_message_id(conn: sqlite3.Connection, row_id: int) -> tuple[str | None, int | None]:
    """(status, Telegram message id) of an outbox row, for edits of a card that may still be on its way."""
    row = conn.execute("SELECT status, sent_message_id FROM outbox WHERE id = ?", (row_id,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def not_before(conn: sqlite3.Connection, row_id: int) -> datetime | None:
    """When a row is due (for an edit waiting for its card, which may be scheduled for later)."""
    row = conn.execute("SELECT not_before FROM outbox WHERE id = ?", (row_id,)).fetchone()
    return from_db(row[0]) if row else None


def row_id_by_dedupe_key(conn: sqlite3.Connection, key: str) -> int | None:
    """The row queued under a dedupe key (e.g. to refer to a message that is still on its way); None if none."""
    row = conn.execute("SELECT id FROM outbox WHERE dedupe_key = ?", (key,)).fetchone()
    return row[0] if row else None
