"""Operators' reads in the coordination and supervision chats: one case whole (/ticket), a unit's open cases
(/open). Reads skip the use-cases' rules: they change nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from bot.workflow.common import WorkflowDeps
from bot.workflow.people import NameHistory, People
from storage import tickets
from storage.records import Event, Ticket


@dataclass(frozen=True)
class CaseFile:
    """Everything an operator may see of a case: the ticket, its whole timeline, helping units, photo count, and the
    names staff acted under (residents' names are never kept)."""

    ticket: Ticket
    events: list[Event]
    helpers: list[str]
    photo_count: int
    names: NameHistory = field(default_factory=lambda: NameHistory({}))


class Cases:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    async def case(self, number: str) -> CaseFile | None:
        def q(c: sqlite3.Connection) -> CaseFile | None:
            t = tickets.by_number(c, number)
            if t is None:
                return None
            events = tickets.events(c, t.id)
            staff = [e.actor_id for e in events if e.actor_id is not None and e.actor_kind != "resident"]
            return CaseFile(t, events, tickets.helpers(c, t.id), tickets.photo_count(c, t.id),
                            People.names(c, staff))

        return await self.d.db.read(q)

    async def open_cases(self, unit: str) -> list[Ticket]:
        return await self.d.db.read(lambda c: tickets.open_for_unit(c, unit))
