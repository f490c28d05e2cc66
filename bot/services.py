"""Everything a handler or job may use, built once by bot.app and reached through the typed context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import Config
from bot.domain.ratelimit import SlidingWindow
from bot.texts import Texts
from bot.workflow import Intake, Lookup, WorkflowDeps
from bot.workflow.access import Access
from bot.workflow.administration import Administration
from bot.workflow.cases import Cases
from bot.workflow.coordination import Coordination
from bot.workflow.dispatch import Dispatcher
from bot.workflow.hotline import Hotline
from bot.workflow.importing import LedgerImport
from bot.workflow.inquiry import Inquiries
from bot.workflow.limits import count_message
from bot.workflow.merging import Merging
from bot.workflow.messages import Messages
from bot.workflow.open311 import Open311
from bot.workflow.people import People
from bot.workflow.rating import Rating
from bot.workflow.reload import ConfigReload
from bot.workflow.reporting import Reporting
from bot.workflow.resident_actions import ResidentActions
from bot.workflow.sweep import Sweeper
from bot.workflow.transitions import Transitions
from bot.workflow.unit_actions import UnitActions
from storage.db import Database


@dataclass
class Services:
    config: Config
    db: Database
    clock: Clock
    texts: Texts
    intake: Intake
    lookup: Lookup
    unit: UnitActions
    coordination: Coordination
    rating: Rating
    merging: Merging
    admin: Administration
    cases: Cases
    sweeper: Sweeper
    reporting: Reporting
    inquiries: Inquiries
    residents: ResidentActions
    message_limit: SlidingWindow
    people: People
    hotline: Hotline
    #: The handling loop's outbox messages (the outbox sender re-posts cards through it after a migration).
    messages: Messages
    #: The hotline ledger import (``complaint-bot import``).
    ledger_import: LedgerImport
    reloader: ConfigReload = field(init=False)
    #: The Open311 API's use-cases (bot/api serves them).
    open311: Open311 = field(init=False)
    #: Users already recorded in this process, with their language: the gatekeeper writes only what changed.
    seen_users: dict[int, str] = field(default_factory=dict)
    #: The language each user chose with /lang (None: Telegram's), read once per user and process.
    chosen_langs: dict[int, str | None] = field(default_factory=dict)
    #: The display name last recorded for each staff member in this process (see ``People.record_name``).
    seen_names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def build(cls, config: Config, db: Database, clock: Clock, texts: Texts | None = None) -> Services:
        texts = texts or Texts()
        deps = WorkflowDeps(db=db, config=config, clock=clock, texts=texts)
        access, messages = Access(deps), Messages(deps)
        transitions = Transitions(deps, messages)
        dispatcher = Dispatcher(deps, transitions, messages)
        rating = Rating(deps, transitions, messages)
        return cls(
            config=config, db=db, clock=clock, texts=texts, lookup=Lookup(deps),
            intake=Intake(deps, dispatcher.route_registered),
            unit=UnitActions(deps, access, transitions, messages),
            coordination=Coordination(deps, access, transitions, messages, dispatcher), rating=rating,
            merging=Merging(deps, access, transitions, messages),
            admin=Administration(deps, messages), cases=Cases(deps),
            sweeper=Sweeper(deps, transitions, rating), reporting=Reporting(deps),
            inquiries=Inquiries(deps, access, transitions, messages),
            residents=ResidentActions(deps, transitions, messages),
            message_limit=SlidingWindow(config.limits.messages_per_minute, timedelta(minutes=1)),
            people=People(deps), hotline=Hotline(deps, transitions, messages),
            messages=messages,
            ledger_import=LedgerImport(deps, dispatcher),
        )

    def __post_init__(self) -> None:
        self.reloader = ConfigReload(self.intake.d, self.apply_config)
        self.open311 = Open311(self.intake.d, self.intake, self.lookup)

    def apply_config(self, new: Config) -> None:
        """Swap in a reloaded config (``/reload``): no await in here, so no update sees half of it."""
        old = self.config
        self.config = new
        self.intake.d.config = new  # one WorkflowDeps is shared by every use-case
        self.intake.forget_places()
        if new.limits.messages_per_minute != old.limits.messages_per_minute:
            self.message_limit = SlidingWindow(new.limits.messages_per_minute, timedelta(minutes=1))

    async def count_message(self, user_id: int, now: datetime) -> timedelta | None:
        """Count one update of `user_id` against ``limits.messages_per_minute``: None when within it, else how
        long until it would be. In memory where this process owns the database (SQLite); in the database where
        several instances share it (PostgreSQL), so the limit holds for the user, not per instance."""
        if self.intake.caching:  # the same test: no other process writes this database
            if self.message_limit.hit(user_id, now):
                return None
            return self.message_limit.retry_in(user_id, now)
        wait = await count_message(self.db, user_id, self.config.limits.messages_per_minute, now.timestamp())
        return None if wait <= 0 else timedelta(seconds=wait)

    @property
    def group_lang(self) -> str:
        """The language of group chats (a setting)."""
        return self.intake.d.group_lang

    def set_outbox_kick(self, kick: Callable[[], None]) -> None:
        self.intake.d.outbox_kick = kick  # one WorkflowDeps is shared by every use-case

    def forget_user(self, user_id: int) -> None:
        """Telegram said the user is unreachable: record them again when they next write."""
        self.seen_users.pop(user_id, None)
