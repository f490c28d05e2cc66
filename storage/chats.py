"""Group chats bound to units or roles, one-time codes, liaisons, social supervisors, pending questions, cards."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.records import from_db, to_db


@dataclass(frozen=True)
class Binding:
    chat_id: int
    role: str  # unit | coordination | supervision | operators
    unit: str | None
    title: str | None


@dataclass(frozen=True)
class Code:
    code: str
    purpose: str  # bind | liaison | social_supervisor | operator
    role: str | None
    unit: str | None
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class PendingInput:
    chat_id: int
    user_id: int
    action: str
    ticket_id: int
    version: int
    data: dict[str, Any]
    expires_at: datetime


# -- bindings ----------------------------------------------------------------------------------------------------

def bind(conn: sqlite3.Connection, chat_id: int, role: str, unit: str | None, title: str | None, by: int,
         now: datetime) -> None:
    """Bind a chat; a unit or role has one chat, so an earlier binding of the same unit/role is replaced."""
    conn.execute("DELETE FROM chat_bindings WHERE role = ? AND coalesce(unit, '') = coalesce(?, '')", (role, unit))
    conn.execute("DELETE FROM chat_bindings WHERE chat_id = ?", (chat_id,))
    conn.execute("INSERT INTO chat_bindings(chat_id, role, unit, title, bound_by, bound_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (chat_id, role, unit, title, by, to_db(now)))


def unbind(conn: sqlite3.Connection, chat_id: int) -> bool:
    return conn.execute("DELETE FROM chat_bindings WHERE chat_id = ?", (chat_id,)).rowcount == 1


def binding_of_chat(conn: sqlite3.Connection, chat_id: int) -> Binding | None:
    row = conn.execute("SELECT chat_id, role, unit, title FROM chat_bindings WHERE chat_id = ?", (chat_id,)).fetchone()
    return Binding(*row) if row else None


def chat_for(conn: sqlite3.Connection, role: str, unit: str | None = None) -> int | None:
    row = conn.execute("SELECT chat_id FROM chat_bindings WHERE role = ? AND coalesce(unit, '') = coalesce(?, '')",
                       (role, unit)).fetchone()
    return row[0] if row else None


def all_bindings(conn: sqlite3.Connection) -> list[Binding]:
    rows = conn.execute("SELECT chat_id, role, unit, title FROM chat_bindings ORDER BY role, unit")
    return [Binding(*r) for r in rows]


def move_binding(conn: sqlite3.Connection, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its binding and its cards follow it."""
    # (the new chat's own binding or cards, if any, give way: what UPDATE OR REPLACE did, in SQL both backends speak)
    conn.execute("DELETE FROM chat_bindings WHERE chat_id = ? "
                 "AND EXISTS (SELECT 1 FROM chat_bindings WHERE chat_id = ?)", (new_chat_id, old_chat_id))
    conn.execute("UPDATE chat_bindings SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))
    # a card already sent stays in the old group, where nothing can edit it any more: it is re-posted (see
    # ``Messages.repost_cards``), so its row no longer points at the old message
    conn.execute("DELETE FROM cards WHERE chat_id = ? AND EXISTS (SELECT 1 FROM cards AS o WHERE o.chat_id = ? "
                 "AND o.ticket_id = cards.ticket_id AND o.kind = cards.kind)", (new_chat_id, old_chat_id))
    conn.execute("UPDATE cards SET chat_id = ?, message_id = NULL, "
                 "outbox_id = CASE WHEN message_id IS NULL THEN outbox_id END WHERE chat_id = ?",
                 (new_chat_id, old_chat_id))
    conn.execute("UPDATE pending_inputs SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))


# -- one-time codes ----------------------------------------------------------------------------------------------

def add_code(conn: sqlite3.Connection, code: str, purpose: str, role: str | None, unit: str | None, by: int,
             now: datetime, expires_at: datetime) -> None:
    conn.execute(
        "INSERT INTO one_time_codes(code, purpose, role, unit, created_by, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (code, purpose, role, unit, by, to_db(now), to_db(expires_at)),
    )


def take_code(conn: sqlite3.Connection, code: str, purpose: str, by: int, now: datetime) -> Code | None:
    """Use a code once: returns it if it exists, fits the purpose, is unused and unexpired; marks it used."""
    row = conn.execute("SELECT code, purpose, role, unit, expires_at, used_at FROM one_time_codes WHERE code = ?",
                       (code,)).fetchone()
    if row is None:
        return None
    found = Code(row[0], row[1], row[2], row[3], from_db(row[4]), from_db(row[5]))  # type: ignore[arg-type]
    if found.purpose != purpose or found.used_at is not None or found.expires_at <= now:
        return found if found.purpose == purpose else None
    conn.execute("UPDATE one_time_codes SET used_at = ?, used_by = ? WHERE code = ?", (to_db(now), by, code))
    return Code(found.code, found.purpose, found.role, found.unit, found.expires_at, None)


# -- people who act for a unit or a role --------------------------------------------------------------------------

def add_liaison(conn: sqlite3.Connection, user_id: int, unit: str, now: datetime) -> None:
    conn.execute("INSERT INTO liaisons(user_id, unit, registered_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                 (user_id, unit, to_db(now)))


def is_liaison(conn: sqlite3.Connection, user_id: int, unit: str) -> bool:
    return conn.execute("SELECT 1 FROM liaisons WHERE user_id = ? AND unit = ?", (user_id, unit)).fetchone() is not None


def add_social_supervisor(conn: sqlite3.Connection, user_id: int, now: datetime) -> None:
    conn.execute("INSERT INTO social_supervisors(user_id, registered_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                 (user_id, to_db(now)))


def add_operator(conn: sqlite3.Connection, user_id: int, now: datetime) -> None:
    conn.execute("INSERT OR IGNORE INTO operators(user_id, registered_at) VALUES (?, ?)", (user_id, to_db(now)))


def is_operator(conn: sqlite3.Connection, user_id: int) -> bool:
    return conn.execute("SELECT 1 FROM operators WHERE user_id = ?", (user_id,)).fetchone() is not None


def operators(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT user_id FROM operators ORDER BY user_id")]


def remove_operator(conn: sqlite3.Connection, user_id: int) -> bool:
    return conn.execute("DELETE FROM operators WHERE user_id = ?", (user_id,)).rowcount == 1


def social_supervisors(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT user_id FROM social_supervisors ORDER BY user_id")]


# -- questions waiting for an answer -----------------------------------------------------------------------------

def ask(conn: sqlite3.Connection, chat_id: int, user_id: int, action: str, ticket_id: int, version: int,
        data: dict[str, Any], now: datetime, expires_at: datetime) -> None:
    conn.execute(
        "INSERT INTO pending_inputs(chat_id, user_id, action, ticket_id, version, data, created_at, "
        "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(chat_id, user_id) DO UPDATE SET "
        "action = excluded.action, ticket_id = excluded.ticket_id, version = excluded.version, "
        "data = excluded.data, created_at = excluded.created_at, expires_at = excluded.expires_at",
        (chat_id, user_id, action, ticket_id, version, json.dumps(data, ensure_ascii=False), to_db(now),
         to_db(expires_at)),
    )


def pending(conn: sqlite3.Connection, chat_id: int, user_id: int, now: datetime) -> PendingInput | None:
    row = conn.execute(
        "SELECT chat_id, user_id, action, ticket_id, version, data, expires_at FROM pending_inputs "
        "WHERE chat_id = ? AND user_id = ? AND expires_at > ?", (chat_id, user_id, to_db(now))).fetchone()
    if row is None:
        return None
    return PendingInput(row[0], row[1], row[2], row[3], row[4], json.loads(row[5] or "{}"), from_db(row[6]))  # type: ignore[arg-type]


def answered(conn: sqlite3.Connection, chat_id: int, user_id: int) -> None:
    conn.execute("DELETE FROM pending_inputs WHERE chat_id = ? AND user_id = ?", (chat_id, user_id))


# -- cards -------------------------------------------------------------------------------------------------------

def card_message(conn: sqlite3.Connection, ticket_id: int, kind: str, chat_id: int
                 ) -> tuple[int | None, int | None]:
    """(message id once sent, outbox row that sends it) of a ticket's card in a chat; (None, None) if none."""
    row = conn.execute("SELECT message_id, outbox_id FROM cards WHERE ticket_id = ? AND kind = ? AND chat_id = ?",
                       (ticket_id, kind, chat_id)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def card_messages_in(conn: sqlite3.Connection, ticket_id: int, chat_id: int) -> list[int | None]:
    """The message ids of every card a ticket has in a chat (None for a card still in the outbox)."""
    return [r[0] for r in conn.execute("SELECT message_id FROM cards WHERE ticket_id = ? AND chat_id = ?",
                                       (ticket_id, chat_id))]


def card_queued(conn: sqlite3.Connection, ticket_id: int, kind: str, chat_id: int, outbox_id: int) -> None:
    conn.execute("INSERT INTO cards(ticket_id, kind, chat_id, message_id, outbox_id) VALUES (?, ?, ?, NULL, ?) "
                 "ON CONFLICT(ticket_id, kind, chat_id) DO UPDATE SET message_id = NULL, "
                 "outbox_id = excluded.outbox_id",
                 (ticket_id, kind, chat_id, outbox_id))


def card_sent(conn: sqlite3.Connection, outbox_id: int, message_id: int) -> None:
    conn.execute("UPDATE cards SET message_id = ? WHERE outbox_id = ?", (message_id, outbox_id))


def cards_of(conn: sqlite3.Connection, ticket_id: int) -> list[tuple[str, int]]:
    """(kind, chat id) of every card a ticket has."""
    return [(r[0], r[1]) for r in conn.execute("SELECT kind, chat_id FROM cards WHERE ticket_id = ?", (ticket_id,))]


def cards_in(conn: sqlite3.Connection, chat_id: int) -> list[tuple[int, str, int | None]]:
    """(ticket id, kind, outbox row still sending it) of every card in a chat."""
    return [(r[0], r[1], r[2]) for r in conn.execute("SELECT ticket_id, kind, outbox_id FROM cards WHERE chat_id = ?",
                                                     (chat_id,))]


def forget_card(conn: sqlite3.Connection, ticket_id: int, kind: str, chat_id: int) -> None:
    """The card has its last word (a decided proposal): no redraw of the ticket edits it again."""
    conn.execute("DELETE FROM cards WHERE ticket_id = ? AND kind = ? AND chat_id = ?", (ticket_id, kind, chat_id))
