"""How to reach the person behind a ticket from another channel (a hotline caller, an Open311 contact). Only
operators' views read it; nothing public (cards, /status, the ledger, the API) does."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Contact:
    ticket_id: int
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None


def put(conn: sqlite3.Connection, contact: Contact) -> None:
    conn.execute(
        "INSERT INTO ticket_contacts(ticket_id, name, phone, email, device_id, account_id) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(ticket_id) DO UPDATE SET name = excluded.name, phone = excluded.phone, "
        "email = excluded.email, device_id = excluded.device_id, account_id = excluded.account_id",
        (contact.ticket_id, contact.name, contact.phone, contact.email, contact.device_id, contact.account_id),
    )


def get(conn: sqlite3.Connection, ticket_id: int) -> Contact | None:
    row = conn.execute("SELECT ticket_id, name, phone, email, device_id, account_id FROM ticket_contacts "
                       "WHERE ticket_id = ?", (ticket_id,)).fetchone()
    return Contact(*row) if row else None


def tickets_of_phone(conn: sqlite3.Connection, phone: str, limit: int = 50) -> list[int]:
    """Ids of the tickets whose contact has this (normalised) phone number, newest first."""
    return [r[0] for r in conn.execute(
        "SELECT ticket_id FROM ticket_contacts WHERE phone = ? ORDER BY ticket_id DESC LIMIT ?", (phone, limit))]
