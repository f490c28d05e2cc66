"""Forgetting the people behind old closed tickets, keeping every figure the reports read.

A purged ticket keeps its number, category, unit, district and zone, its times, states, deadlines, on-time flags,
rating answers, bounces and re-complaints (all the report's covering index holds), and its event chain (actions,
states, units, times). It loses: the reporter (``reporter_id`` becomes `PURGED_USER`, a placeholder row), the
description, the typed place, the exact point (rounded to 3 decimals, about 100 m: the zone and nearest place stay),
the photos, the contact of a caller or an API client, the unit's answer and questions to the reporter, every text a
resident typed (withdrawal and rating reasons, material notes, answers), residents' ids on events, ratings and
rounds, its followers, and the texts of the messages already sent about it. A reporter's user row (and any recorded
name) goes once nothing ties them to the bot any more: no other ticket, follow, draft, role.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from storage.states import placeholders as _marks
from storage.states import state_in

#: The placeholder reporter of purged tickets (Telegram ids are positive, so it is nobody).
PURGED_USER = 0
#: How finely a purged ticket's point is kept (decimal places of degrees: 3 ≈ 110 m).
POINT_DECIMALS = 3


@dataclass
class PurgeCounts:
    tickets: int = 0
    events: int = 0
    photos: int = 0
    followers: int = 0
    ratings: int = 0
    inquiries: int = 0
    messages: int = 0
    users: int = 0
    names: int = 0

    def add(self, other: PurgeCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def candidates(conn: sqlite3.Connection, final_states: Iterable, closed_before: str, after_id: int,
               limit: int) -> list[int]:
    """Ids (ascending, above `after_id`) of final tickets closed before `closed_before` and not yet purged. A
    ticket withdrawn before the close time was recorded counts from its last change."""
    sql = (f"SELECT id FROM tickets WHERE id > ? AND {state_in(final_states)} "
           "AND coalesce(closed_at, updated_at) < ? AND reporter_id != ? ORDER BY id LIMIT ?")
    return [row[0] for row in conn.execute(sql, (after_id, closed_before, PURGED_USER, limit))]


def people_of(conn: sqlite3.Connection, ids: Sequence[int]) -> set[int]:
    """Everyone tied to tickets `ids`: reporters, followers, raters, askees (not the placeholder)."""
    if not ids:
        return set()
    marks = _marks(ids)
    return {row[0] for row in conn.execute(
        f"SELECT reporter_id FROM tickets WHERE id IN ({marks}) UNION SELECT user_id FROM followers "
        f"WHERE ticket_id IN ({marks}) UNION SELECT user_id FROM ticket_ratings WHERE ticket_id IN ({marks}) "
        f"UNION SELECT reporter_id FROM inquiries WHERE ticket_id IN ({marks})", list(ids) * 4)
        if row[0] > PURGED_USER}  # not the placeholder, nor a channel's stand-in reporter (negative ids)


def tied_elsewhere(conn: sqlite3.Connection, ids: Sequence[int]) -> set[int]:
    """Of the people of tickets `ids`, those who follow or rated another ticket. followers and ticket_ratings
    have no index by user, so this scans both (0.47 s for 1.5 M followers): run it as a read before the batch's
    transaction, where it holds up no writer. Someone who starts following a ticket in between makes the batch's
    user delete fail its foreign key (followers → users): the batch rolls back and is read again."""
    people = sorted(people_of(conn, ids))
    if not people:
        return set()
    pm, tm = _marks(people), _marks(ids)
    return {row[0] for row in conn.execute(
        f"SELECT user_id FROM followers WHERE user_id IN ({pm}) AND ticket_id NOT IN ({tm}) UNION "
        f"SELECT user_id FROM ticket_ratings WHERE user_id IN ({pm}) AND ticket_id NOT IN ({tm})",
        (*people, *ids, *people, *ids))}


def purge(conn: sqlite3.Connection, ids: Sequence[int], text_events: Iterable[str], now: str,
          keep_users: Iterable[int] = (), elsewhere: set[int] | None = None) -> PurgeCounts:
    """Purge tickets `ids` (inside the caller's transaction). `text_events` names the events whose reason is text
    addressed to or about the reporter (besides every resident's event); `keep_users` are never deleted;
    `elsewhere` is `tied_elsewhere(ids)` read just before (computed here if not given)."""
    if not ids:
        return PurgeCounts()
    marks, ids = _marks(ids), list(ids)
    events = list(text_events)
    people = people_of(conn, ids) - set(keep_users)
    if elsewhere is None:
        elsewhere = tied_elsewhere(conn, ids)
    conn.execute("INSERT INTO users(id, language, reachable, first_seen, last_seen) "
                 "VALUES (?, 'zh', 0, ?, ?) ON CONFLICT DO NOTHING",
                 (PURGED_USER, now, now))
    n = PurgeCounts()
    n.tickets = conn.execute(
        f"UPDATE tickets SET reporter_id = ?, description = '', place_text = NULL, answer = NULL, "
        f"lat = round(lat, ?), lon = round(lon, ?) WHERE id IN ({marks})",
        (PURGED_USER, POINT_DECIMALS, POINT_DECIMALS, *ids)).rowcount
    n.events = conn.execute(
        f"UPDATE events SET actor_id = CASE WHEN actor_kind = 'resident' THEN NULL ELSE actor_id END, "
        f"reason = CASE WHEN actor_kind = 'resident' OR action IN ({_marks(events)}) THEN NULL ELSE reason END "
        f"WHERE ticket_id IN ({marks}) AND (actor_kind = 'resident' OR action IN ({_marks(events)}))",
        (*events, *ids, *events)).rowcount
    conn.execute(f"DELETE FROM ticket_contacts WHERE ticket_id IN ({marks})", ids)
    conn.execute(f"DELETE FROM open311_requests WHERE ticket_id IN ({marks})", ids)  # its answers and media_url
    n.photos = conn.execute(f"DELETE FROM ticket_photos WHERE ticket_id IN ({marks})", ids).rowcount
    n.followers = conn.execute(f"DELETE FROM followers WHERE ticket_id IN ({marks})", ids).rowcount
    n.ratings = conn.execute(f"UPDATE ticket_ratings SET user_id = ?, reason = NULL WHERE ticket_id IN ({marks})",
                             (PURGED_USER, *ids)).rowcount
    n.inquiries = conn.execute(f"UPDATE inquiries SET reporter_id = ?, question = '' WHERE ticket_id IN ({marks})",
                               (PURGED_USER, *ids)).rowcount
    conn.execute(f"DELETE FROM pending_inputs WHERE ticket_id IN ({marks})", ids)
    # Sent (or given up) messages about the ticket: their texts go, and the ids in them (a private chat's id is
    # the person's, and so is the tail of a notice's dedupe key).
    people_marks = _marks(list(people)) if people else "NULL"
    n.messages = conn.execute(
        f"UPDATE outbox SET payload = '{{}}', dedupe_key = NULL, "
        f"chat_id = CASE WHEN chat_id IN ({people_marks}) THEN ? ELSE chat_id END "
        f"WHERE ticket_id IN ({marks}) AND status != 'pending'", (*people, PURGED_USER, *ids)).rowcount
    loose = people - elsewhere
    gone = sorted(loose - _still_tied(conn, loose))
    if gone:
        gm = _marks(gone)
        n.names = conn.execute(f"DELETE FROM people_names WHERE user_id IN ({gm})", gone).rowcount
        n.users = conn.execute(f"DELETE FROM users WHERE id IN ({gm})", gone).rowcount
    return n


#: Where a person is still needed besides `tied_elsewhere`'s follows and ratings: (table, column, condition).
#: Any row there keeps their user row; each is a seek (an index or primary key leads with the column), except
#: pending_inputs, a table of a few open questions.
_TIES = (("tickets", "reporter_id", ""), ("drafts", "user_id", ""), ("liaisons", "user_id", ""),
         ("social_supervisors", "user_id", ""), ("operators", "user_id", ""),
         ("inquiries", "reporter_id", ""), ("pending_inputs", "user_id", ""),
         ("outbox", "chat_id", " AND status = 'pending'"))


def _still_tied(conn: sqlite3.Connection, people: set[int]) -> set[int]:
    if not people:
        return set()
    ids = sorted(people)
    # Fragments from the constants above only; the ids go as parameters.
    sql = " UNION ".join(f"SELECT {column} FROM {table} WHERE {column} IN ({_marks(ids)}){extra}"
                         for table, column, extra in _TIES)
    return {row[0] for row in conn.execute(sql, ids * len(_TIES))}
