"""Everything a handler or job may use, built once by bot.app and reached through the typed context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.clock import Clock
from bot.config import Config
from bot.domain.ratelimit import SlidingWindow
from bot.texts import Texts
from bot.workflow import Handling, Intake, Lookup, WorkflowDeps
from bot.workflow.reporting import Reporting
from bot.workflow.sweep import Sweeper
from storage.db import Database


@dataclass
class Services:
    config: Config
    db: Database
    clock: Clock
    texts: Texts
    intake: Intake
    lookup: Lookup
    handling: Handling
    sweeper: Sweeper
    reporting: Reporting
    message_limit: SlidingWindow
    #: Users already recorded in this process, with their language: the gatekeeper writes only what changed.
    seen_users: dict[int, str] = field(default_factory=dict)

    @classmethod
    def build(cls, config: Config, db: Database, clock: Clock, texts: Texts | None = None) -> Services:
        texts = texts or Texts()
        deps = WorkflowDeps(db=db, config=config, clock=clock, texts=texts)
        handling = Handling(deps)
        deps.route_new = handling.route_new
        return cls(
            config=config, db=db, clock=clock, texts=texts, intake=Intake(deps), lookup=Lookup(deps),
            handling=handling, sweeper=Sweeper(deps, handling), reporting=Reporting(deps),
            message_limit=SlidingWindow(config.limits.messages_per_minute, timedelta(minutes=1)),
        )

    def set_outbox_kick(self, kick: Callable[[], None]) -> None:
        self.intake.d.outbox_kick = kick  # one WorkflowDeps is shared by every use-case

    def forget_user(self, user_id: int) -> None:
        """Telegram said the user is unreachable: record them again when they next write."""
        self.seen_users.pop(user_id, None)
