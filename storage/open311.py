"""What the Open311 API stores and reads: a request's extras (attributes, media_url, the address it gave), and
the public lists GET requests and servicerequestupdates page through. Only public events are ever read here."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from storage.records import Event, Ticket, from_db, to_db
from storage.states import placeholders as _marks
from storage.tickets import ticket_from_row


@dataclass(frozen=True)
class RequestExtras:
    ticket_id: int
    client: str
    attributes: Mapping[str, str | list[str]] = field(default_factory=dict)
    media_url: str | None = None
    address_string: str | None = None
    address_id: str | None = None


def put(conn: sqlite3.Connection, extras: RequestExtras, now: datetime) -> None:
    conn.execute(
        "INSERT INTO open311_requests(ticket_id, client, attributes, media_url, address_string, address_id, "
        "received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (extras.ticket_id, extras.client, json.dumps(dict(extras.attributes), ensure_ascii=False),
         extras.media_url, extras.address_string, extras.address_id, to_db(now)))


def get(conn: sqlite3.Connection, ticket_id: int) -> RequestExtras | None:
    row = conn.execute("SELECT ticket_id, client, attributes, media_url, address_string, address_id "
                       "FROM open311_requests WHERE ticket_id = ?", (ticket_id,)).fetchone()
    if row is None:
        return None
    return RequestExtras(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5])


def search(conn: sqlite3.Connection, *, numbers: Sequence[str] = (), categories: Sequence[str] = (),
           states: Sequence[str] = (), since: datetime | None = None, until: datetime | None = None,
           limit: int = 1000) -> list[Ticket]:
    """Tickets by number (then nothing else filters), or by category, state and creation time; newest first."""
    where, args = [], []  # type: ignore[var-annotated]
    if numbers:
        where.append(f"number IN ({_marks(numbers)})")
        args += list(numbers)
    else:
        if categories:
            where.append(f"category IN ({_marks(categories)})")
            args += list(categories)
        if states:
            where.append(f"state IN ({_marks(states)})")
            args += list(states)
        if since is not None:
            where.append("created_at >= ?")
            args.append(to_db(since))
        if until is not None:
            where.append("created_at <= ?")
            args.append(to_db(until))
    sql = "SELECT * FROM tickets" + (" WHERE " + " AND ".join(where) if where else "")
    rows = conn.execute(sql + " ORDER BY created_at DESC, id DESC LIMIT ?", (*args, limit)).fetchall()
    return [ticket_from_row(r) for r in rows]


@dataclass(frozen=True)
class PublicUpdate:
    """A public event, with the number of its ticket and the ticket's state at the time of reading."""

    event: Event
    number: str
    ticket_state: str


def public_updates(conn: sqlite3.Connection, since: datetime, until: datetime, limit: int = 1000,
                   ) -> list[PublicUpdate]:
    """Public events in [since, until], oldest first (the order they happened in)."""
    rows = conn.execute(
        "SELECT e.id, e.ticket_id, e.at, e.actor_kind, e.actor_id, e.action, e.from_state, e.to_state, e.unit, "
        "e.reason, e.public, t.number, t.state AS ticket_state FROM events e JOIN tickets t ON t.id = e.ticket_id "
        "WHERE e.public = 1 AND e.at >= ? AND e.at <= ? ORDER BY e.at, e.id LIMIT ?",
        (to_db(since), to_db(until), limit)).fetchall()
    out = []
    for r in rows:
        d = dict(r)
        number, state = d.pop("number"), d.pop("ticket_state")
        d["at"], d["public"] = from_db(d["at"]), bool(d["public"])
        out.append(PublicUpdate(Event(**d), number, state))
    return out
