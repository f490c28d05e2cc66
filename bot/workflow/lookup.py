"""Read-only use-cases: a ticket's public status by number, a resident's own tickets."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.numbers import parse_number
from bot.workflow.common import Refused, WorkflowDeps
from storage import open311, tickets
from storage.records import Event, Ticket


@dataclass(frozen=True)
class StatusView:
    """What anyone with the number may see: no reporter, no contact, no description text."""

    ticket: Ticket
    timeline: list[Event]
    photo_count: int
    merged_into: str | None = None  # the number of the ticket a merged duplicate now follows


class Lookup:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    async def status(self, text: str) -> StatusView:
        """`BadNumber` for garbage or a mistyped check digit, Refused('status.not_found') for no such ticket."""
        number = parse_number(text)

        def q(c: sqlite3.Connection) -> StatusView:
            ticket = tickets.by_number(c, number)
            if ticket is None:
                raise Refused("status.not_found", number=number)
            return self._view(c, ticket)

        return await self.d.db.read_point(q)  # a few lookups by key: no hop to the writer's thread

    async def search(self, *, numbers: Sequence[str] = (), categories: Sequence[str] = (),
                     states: Sequence[str] = (), since: datetime | None = None, until: datetime | None = None,
                     limit: int = 1000) -> list[StatusView]:
        """The public views of the tickets with these numbers, or else of those of these categories and states
        created in [since, until]; newest first, at most ``limit`` (the Open311 API's GET requests)."""
        return await self.d.db.read(lambda c: [self._view(c, t) for t in open311.search(
            c, numbers=numbers, categories=categories, states=states, since=since, until=until, limit=limit)])

    @staticmethod
    def _view(c: sqlite3.Connection, ticket: Ticket) -> StatusView:
        into = tickets.get(c, ticket.merged_into) if ticket.merged_into else None
        return StatusView(ticket, tickets.events(c, ticket.id, public_only=True),
                          tickets.photo_count(c, ticket.id), into.number if into else None)

    async def mine(self, user_id: int) -> tuple[list[Ticket], list[Ticket]]:
        """(tickets the user reported, tickets they follow), newest first."""
        return await self.d.db.read(lambda c: (tickets.by_reporter(c, user_id), tickets.followed_by(c, user_id)))
