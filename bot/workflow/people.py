"""People's own settings and what they are called: the language a resident picks with /lang, and the display names
staff act under (for /ticket). Names are recorded only for people who act in a group chat (liaisons, coordinators,
supervisors): residents write in private and their names are never stored."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.texts import LANGUAGES
from bot.workflow.common import Refused, WorkflowDeps
from storage import people

#: A Telegram name is at most 64 + 64 characters; longer text is not a name.
NAME_MAX = 130


@dataclass(frozen=True)
class NameHistory:
    """Each person's names, oldest first: ``at(user_id, when)`` is the name valid at that moment."""

    names: dict[int, list[tuple[datetime, str]]]

    def at(self, user_id: int | None, when: datetime) -> str | None:
        history = self.names.get(user_id or 0)
        if not history:
            return None
        valid = [name for seen, name in history if seen <= when]
        # An event older than the first name we saw (recorded before names were kept): the earliest name known.
        return valid[-1] if valid else history[0][1]


class People:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    async def chosen_language(self, user_id: int) -> str | None:
        return await self.d.db.read(lambda c: people.chosen_language(c, user_id))

    async def choose_language(self, user_id: int, language: str) -> str:
        if language not in LANGUAGES:
            raise Refused("common.button_expired")
        now = self.d.clock.now()
        await self.d.db.write(lambda c: people.choose_language(c, user_id, language, now))
        return language

    async def record_name(self, user_id: int, full_name: str) -> None:
        """Remember the name a staff member acts under now (a row only when it changed)."""
        name = " ".join(full_name.split())[:NAME_MAX]
        if not name:
            return
        now = self.d.clock.now()
        await self.d.db.write(lambda c: people.record_name(c, user_id, name, now))

    @staticmethod
    def names(c: sqlite3.Connection, user_ids: list[int]) -> NameHistory:
        """For a read inside another use-case's transaction (the /ticket case file)."""
        return NameHistory(people.names_of(c, user_ids))
