"""Tickets, their photos, followers and events (the timeline). Events are only ever appended."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.lifecycle import TicketState
from storage.records import TICKET_FLAGS, TICKET_TIMES, Event, Photo, Ticket, from_db, to_db
from storage.states import OPEN_IN as _OPEN_IN


@dataclass(frozen=True)
class NewTicket:
    number: str
    state: str
    category: str
    reporter_id: int
    description: str
    lat: float | None
    lon: float | None
    location_source: str
    place_key: str | None
    place_text: str | None
    district: str | None
    deadline_class: str
    channel: str = "telegram"
    channel_client: str | None = None


def ticket_from_row(row: sqlite3.Row) -> Ticket:
    """A `SELECT *` row of tickets as a Ticket."""
    d = dict(row)
    for k in TICKET_TIMES:
        d[k] = from_db(d[k])
    for k in TICKET_FLAGS:
        d[k] = bool(d[k])
    for k in ("signed_on_time", "resolved_on_time"):
        d[k] = None if d[k] is None else bool(d[k])
    d["state"] = TicketState(d["state"])
    return Ticket(**d)


def insert(conn: sqlite3.Connection, new: NewTicket, now: datetime) -> Ticket:
    t = to_db(now)
    cur = conn.execute(
        "INSERT INTO tickets(number, state, category, reporter_id, description, lat, lon, location_source, "
        "place_key, place_text, district, deadline_class, channel, channel_client, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (new.number, new.state, new.category, new.reporter_id, new.description, new.lat, new.lon,
         new.location_source, new.place_key, new.place_text, new.district, new.deadline_class, new.channel,
         new.channel_client, t, t),
    )
    return get(conn, cur.fetchone()[0])  # type: ignore[return-value]


def get(conn: sqlite3.Connection, ticket_id: int) -> Ticket | None:
    row = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    return ticket_from_row(row) if row else None


def by_number(conn: sqlite3.Connection, number: str) -> Ticket | None:
    row = conn.execute("SELECT * FROM tickets WHERE number = ?", (number,)).fetchone()
    return ticket_from_row(row) if row else None


def by_reporter(conn: sqlite3.Connection, user_id: int, limit: int = 20) -> list[Ticket]:
    rows = conn.execute(
        "SELECT * FROM tickets WHERE reporter_id = ? ORDER BY created_at DESC LIMIT ?", (user_id, limit)
    ).fetchall()
    return [ticket_from_row(r) for r in rows]


def followed_by(conn: sqlite3.Connection, user_id: int, limit: int = 20) -> list[Ticket]:
    """Tickets the user follows without having reported them."""
    rows = conn.execute(
        "SELECT t.* FROM followers f JOIN tickets t ON t.id = f.ticket_id "
        "WHERE f.user_id = ? AND t.reporter_id != ? ORDER BY f.since DESC LIMIT ?",
        (user_id, user_id, limit),
    ).fetchall()
    return [ticket_from_row(r) for r in rows]


def count_by_reporter_since(conn: sqlite3.Connection, user_id: int, since: datetime) -> int:
    return conn.execute(
        "SELECT count(*) FROM tickets WHERE reporter_id = ? AND created_at >= ?", (user_id, to_db(since))
    ).fetchone()[0]


def open_in_box(
    conn: sqlite3.Connection, category: str, box: tuple[float, float, float, float]
) -> list[Ticket]:
    """Open tickets of a category whose point lies in (min_lat, max_lat, min_lon, max_lon)."""
    min_lat, max_lat, min_lon, max_lon = box
    rows = conn.execute(
        f"SELECT * FROM tickets WHERE category = ? AND state IN {_OPEN_IN} "
        "AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?",
        (category, min_lat, max_lat, min_lon, max_lon),
    ).fetchall()
    return [ticket_from_row(r) for r in rows]


def add_photos(conn: sqlite3.Connection, ticket_id: int, photos: Iterable[Photo]) -> None:
    conn.executemany(
        "INSERT INTO ticket_photos(ticket_id, position, source, file_id, file_unique_id, data, width, height) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(ticket_id, i, p.source, p.file_id, p.file_unique_id, p.data, p.width, p.height)
         for i, p in enumerate(photos, start=1)],
    )


def photo_count(conn: sqlite3.Connection, ticket_id: int) -> int:
    return conn.execute("SELECT count(*) FROM ticket_photos WHERE ticket_id = ?", (ticket_id,)).fetchone()[0]


def follow(conn: sqlite3.Connection, ticket_id: int, user_id: int, now: datetime) -> bool:
    """Add a follower; False if they already followed it."""
    cur = conn.execute(
        "INSERT INTO followers(ticket_id, user_id, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (ticket_id, user_id, to_db(now)),
    )
    return cur.rowcount == 1


def followers(conn: sqlite3.Connection, ticket_id: int) -> list[int]:
    return [r[0] for r in conn.execute("SELECT user_id FROM followers WHERE ticket_id = ?", (ticket_id,))]


def follower_count(conn: sqlite3.Connection, ticket_id: int) -> int:
    return conn.execute("SELECT count(*) FROM followers WHERE ticket_id = ?", (ticket_id,)).fetchone()[0]


def raters(conn: sqlite3.Connection, ticket: Ticket) -> list[int]:
    """Who may rate the ticket's answer: its reporter and the reporters of the duplicates merged into it."""
    merged = [r[0] for r in conn.execute(
        "SELECT user_id FROM followers WHERE ticket_id = ? AND merged_from IS NOT NULL AND user_id != ? "
        "ORDER BY since, user_id", (ticket.id, ticket.reporter_id))]
    return [ticket.reporter_id, *merged]


def move_followers(conn: sqlite3.Connection, duplicate: Ticket, into_id: int, now: datetime) -> int:
    """The duplicate's followers follow ``into_id`` from now on (whoever already did keeps how they did); its
    raters (its reporter, and those of duplicates merged into it before) come as raters (``merged_from``).
    Returns how many newly follow it."""
    its_raters = raters(conn, duplicate)
    rows = [(user_id, duplicate.id) for user_id in its_raters] + [
        (user_id, None) for user_id in followers(conn, duplicate.id) if user_id not in its_raters]
    cur = conn.executemany(
        "INSERT INTO followers(ticket_id, user_id, since, merged_from) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(into_id, user_id, to_db(now), merged_from) for user_id, merged_from in rows])
    return cur.rowcount


def add_rating(conn: sqlite3.Connection, rated: Ticket, user_id: int, now: datetime, solved: str | None,
               satisfaction: str) -> int:
    """Record one rating of the answer ``rated`` (the ticket as it was rated); returns its round (1 for the
    ticket's first rating, then 2, ...)."""
    round_ = conn.execute("SELECT coalesce(max(round), 0) + 1 FROM ticket_ratings WHERE ticket_id = ?",
                          (rated.id,)).fetchone()[0]
    conn.execute("INSERT INTO ticket_ratings(ticket_id, round, version, user_id, at, solved, satisfaction) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (rated.id, round_, rated.version, user_id, to_db(now), solved, satisfaction))
    return int(round_)


def rating_awaiting_reason(conn: sqlite3.Connection, ticket_id: int, version: int, user_id: int) -> bool | None:
    """For the rating of the answer at ``version``: None if this user made no such rating; False if it has its
    reason already; True if a reason may be added."""
    row = conn.execute("SELECT reason FROM ticket_ratings WHERE ticket_id = ? AND version = ? AND user_id = ?",
                       (ticket_id, version, user_id)).fetchone()
    return None if row is None else row[0] is None


def set_rating_reason(conn: sqlite3.Connection, ticket_id: int, version: int, reason: str, now: datetime) -> None:
    conn.execute("UPDATE ticket_ratings SET reason = ?, reason_at = ? WHERE ticket_id = ? AND version = ?",
                 (reason, to_db(now), ticket_id, version))


def add_event(
    conn: sqlite3.Connection,
    ticket_id: int,
    at: datetime,
    *,
    actor_kind: str,
    action: str,
    actor_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    unit: str | None = None,
    reason: str | None = None,
    public: bool = True,
    data: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO events(ticket_id, at, actor_kind, actor_id, action, from_state, to_state, unit, reason, "
        "public, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ticket_id, to_db(at), actor_kind, actor_id, action, from_state, to_state, unit, reason, int(public),
         json.dumps(data, ensure_ascii=False) if data else None),
    )


def events(conn: sqlite3.Connection, ticket_id: int, public_only: bool = False) -> list[Event]:
    sql = ("SELECT id, ticket_id, at, actor_kind, actor_id, action, from_state, to_state, unit, reason, public "
           "FROM events WHERE ticket_id = ?")
    if public_only:
        sql += " AND public = 1"
    rows = conn.execute(sql + " ORDER BY at, id", (ticket_id,)).fetchall()
    return [Event(**{**dict(r), "at": from_db(r["at"]), "public": bool(r["public"])}) for r in rows]


class StaleVersion(Exception):
    """The ticket changed since the caller read it (a second press, a stale card)."""


_UPDATABLE = frozenset({
    "state", "unit", "district", "zone", "route_reason", "lead", "bounces", "escalated", "reopen_count", "sensitive",
    "dispatched_at", "first_dispatched_at", "accepted_at", "resolved_at", "answer", "rating", "signed_on_time",
    "resolved_on_time", "deadline_class", "sign_due_at", "due_at", "closed_at", "deadline_provisional",
    "merged_into", "solved", "satisfaction",
})


def update(conn: sqlite3.Connection, ticket_id: int, expected_version: int, now: datetime, **fields: Any) -> Ticket:
    """Change fields if the ticket is still at `expected_version`; bumps the version. StaleVersion otherwise."""
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values = [to_db(v) if isinstance(v, datetime) else (int(v) if isinstance(v, bool) else v)
              for v in fields.values()]
    sets = "".join(f"{k} = ?, " for k in fields)
    cur = conn.execute(
        f"UPDATE tickets SET {sets}version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
        (*values, to_db(now), ticket_id, expected_version),
    )
    if cur.rowcount != 1:
        raise StaleVersion(ticket_id)
    return get(conn, ticket_id)  # type: ignore[return-value]


def open_for_unit(conn: sqlite3.Connection, unit: str, limit: int = 50) -> list[Ticket]:
    rows = conn.execute(
        f"SELECT * FROM tickets WHERE unit = ? AND state IN {_OPEN_IN} ORDER BY coalesce(due_at, sign_due_at, "
        "created_at) LIMIT ?",
        (unit, limit),
    ).fetchall()
    return [ticket_from_row(r) for r in rows]


def photos_of(conn: sqlite3.Connection, ticket_id: int, kind: str = "report") -> list[tuple[int, Photo]]:
    """(row id, photo) of a ticket's pictures of one kind, in order."""
    rows = conn.execute(
        "SELECT id, position, source, file_id, file_unique_id, data, width, height FROM ticket_photos "
        "WHERE ticket_id = ? AND kind = ? ORDER BY position",
        (ticket_id, kind),
    ).fetchall()
    return [(r["id"], Photo(r["position"], r["source"], r["file_id"], r["file_unique_id"], r["data"], r["width"],
                            r["height"])) for r in rows]


def add_photo(conn: sqlite3.Connection, ticket_id: int, photo: Photo, kind: str) -> int:
    """Append one picture of ``kind`` (report, answer, material, inquiry); its row id."""
    position = conn.execute("SELECT coalesce(max(position), 0) + 1 FROM ticket_photos WHERE ticket_id = ?",
                            (ticket_id,)).fetchone()[0]
    cur = conn.execute(
        "INSERT INTO ticket_photos(ticket_id, position, source, file_id, file_unique_id, data, width, height, kind) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (ticket_id, position, photo.source, photo.file_id, photo.file_unique_id, photo.data, photo.width,
         photo.height, kind),
    )
    return int(cur.fetchone()[0])


def photo_count_of_kind(conn: sqlite3.Connection, ticket_id: int, kind: str) -> int:
    return conn.execute("SELECT count(*) FROM ticket_photos WHERE ticket_id = ? AND kind = ?",
                        (ticket_id, kind)).fetchone()[0]


def remember_file_id(conn: sqlite3.Connection, photo_row_id: int, file_id: str) -> None:
    """A picture we uploaded from our own bytes now has a Telegram file id: reuse it next time."""
    conn.execute("UPDATE ticket_photos SET file_id = ? WHERE id = ? AND file_id IS NULL", (file_id, photo_row_id))


def photo_data(conn: sqlite3.Connection, photo_row_id: int) -> tuple[str | None, bytes | None]:
    row = conn.execute("SELECT file_id, data FROM ticket_photos WHERE id = ?", (photo_row_id,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def helpers(conn: sqlite3.Connection, ticket_id: int) -> list[str]:
    return [r[0] for r in conn.execute("SELECT unit FROM ticket_helpers WHERE ticket_id = ? ORDER BY unit",
                                       (ticket_id,))]


def set_helpers(conn: sqlite3.Connection, ticket_id: int, units: list[str]) -> None:
    conn.execute("DELETE FROM ticket_helpers WHERE ticket_id = ?", (ticket_id,))
    conn.executemany("INSERT INTO ticket_helpers(ticket_id, unit) VALUES (?, ?)", [(ticket_id, u) for u in units])


def last_return(conn: sqlite3.Connection, ticket_id: int) -> tuple[str, str] | None:
    """(unit, reason) of the ticket's latest return, if it was ever returned."""
    row = conn.execute("SELECT unit, reason FROM events WHERE ticket_id = ? AND action = 'returned' "
                       "ORDER BY id DESC LIMIT 1", (ticket_id,)).fetchone()
    return (row[0] or "", row[1] or "") if row else None
