"""What every use-case needs, who acts, and how a use-case says no."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from bot.clock import Clock
from bot.config import Config
from bot.texts import Texts
from storage.db import Database
from storage.tickets import StaleVersion

T = TypeVar("T")


class Refused(Exception):
    """A use-case declined; `key` names the catalogue text that tells the person why."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Actor:
    """Who pressed or typed, where, and whether Telegram says they administer that chat."""

    user_id: int
    chat_id: int
    chat_admin: bool = False


@dataclass
class WorkflowDeps:
    db: Database
    config: Config
    clock: Clock
    texts: Texts
    #: Called after a commit that queued outbox rows, so the sender wakes up at once.
    outbox_kick: Callable[[], None] = field(default=lambda: None)

    async def write(self, fn: Callable[[Any], T]) -> T:
        """Run a use-case's transaction, then wake the outbox sender for what it queued.

        A version-guarded ticket update that found the ticket already changed (a concurrent writer won the race:
        possible on PostgreSQL, where transactions run side by side) rolled the whole transaction back. It runs
        once more, now after the winner, as SQLite's one-writer-at-a-time would have run it, so the person gets
        the answer SQLite gives (the stale card, "already rated", ...); should it lose again, the stale answer."""
        try:
            try:
                result = await self.db.write(fn)
            except StaleVersion:
                result = await self.db.write(fn)
        except StaleVersion:
            raise Refused("deny.stale") from None
        self.outbox_kick()
        return result

    @property
    def group_lang(self) -> str:
        """The language of group chats (cards, digests, alerts): a setting of the deployment."""
        return self.config.handling.group_language

    def local_midnight(self, now: datetime) -> datetime:
        """Start of the city's local day containing `now` (as an aware datetime)."""
        local = now.astimezone(self.config.city.timezone)
        return datetime.combine(local.date(), time(0), tzinfo=self.config.city.timezone)

    def next_local_midnight(self, now: datetime) -> datetime:
        return self.local_midnight(now) + timedelta(days=1)
