"""Operators' reads in the coordination and supervision chats: one case whole (/ticket), a unit's open cases
(/open). Reads skip the use-cases' rules: they change nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.workflow.common import WorkflowDeps
from storage import tickets
from storage.records import Event, Ticket


@dataclass(frozen=True)
class CaseFile:
    """Everything an operator may see of a case: the ticket, its whole timeline, helping units, photo count."""

    ticket: Ticket
    events: list[Event]
    helpers: list[str]
    photo_count: int


class Cases:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    async def case(self, number: str) -> CaseFile | None:
        def q(c: sqlite3.Connection) -> CaseFile | None:
            t = tickets.by_number(c, number)
            if t is None:
                return None
            return CaseFile(t, tickets.events(c, t.id), tickets.helpers(c, t.id), tickets.photo_count(c, t.id))

        return await self.d.db.read(q)

    async def open_cases(self, unit: str) -> list[Ticket]:
        return await self.d.db.read(lambda c: tickets.open_for_unit(c, unit))
