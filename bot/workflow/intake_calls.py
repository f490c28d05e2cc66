"""An operator's call (代录): the operator files for a hotline caller with the resident's own intake. ``/call``
starts a draft of the operator's (keyed by their user id, so a crash resumes it) marked as a call; it asks for the
caller's phone number and name first, then walks the resident's steps. Confirming it is :meth:`Intake.confirm`,
which sees the draft is a call (see ``_confirm_call`` there). Part of :class:`bot.workflow.intake.Intake`.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain import channels
from bot.domain.intake import Step
from bot.domain.lifecycle import OPEN_STATES
from bot.domain.phones import parse_phone
from bot.workflow.common import Refused, WorkflowDeps
from storage import chats, contacts, drafts, tickets, users
from storage.records import Draft, Ticket

if TYPE_CHECKING:
    from collections.abc import Callable

#: A caller's name is kept up to this many characters.
MAX_CALLER_NAME = 40


@dataclass(frozen=True)
class CallerPhone:
    """The caller's number was taken: the draft (now asking the name) and that number's open cases."""

    draft: Draft
    open_tickets: list[Ticket]


def tickets_of_phone(c: sqlite3.Connection, phone: str) -> list[Ticket]:
    """Every ticket of a caller's (normalised) number, newest first."""
    found = (tickets.get(c, ticket_id) for ticket_id in contacts.tickets_of_phone(c, phone))
    return [t for t in found if t is not None]


class CallSteps:
    d: WorkflowDeps
    _remember: Callable[[int, Draft | None], Draft | None]

    @staticmethod
    def operator_only(c: sqlite3.Connection, user_id: int) -> None:
        if not chats.is_operator(c, user_id):
            raise Refused("hotline.not_operator")

    async def is_operator(self, user_id: int) -> bool:
        return await self.d.db.read(lambda c: chats.is_operator(c, user_id))

    async def begin_call(self, user_id: int, language: str) -> tuple[Draft, bool]:
        """An operator starts a call, or resumes the one in progress: (draft, resumed). A resident's draft of the
        operator's own is replaced: while a call runs, the operator's private messages are the call's."""
        now = self.d.clock.now()

        def tx(c: sqlite3.Connection) -> tuple[Draft, bool]:
            self.operator_only(c, user_id)
            users.upsert(c, user_id, language, now)
            existing = drafts.get(c, user_id)
            if existing is not None and existing.is_call:
                return existing, True
            return drafts.create(c, user_id, secrets.token_hex(3), Step.CALLER_PHONE, now,
                                 channel=channels.HOTLINE), False

        draft, resumed = await self.d.db.write(tx)
        self._remember(user_id, draft)
        return draft, resumed

    async def set_caller_phone(self, user_id: int, text: str) -> CallerPhone:
        """The caller's number, normalised (``bot.domain.phones.BadPhone``, nothing written, if it is none), and
        its open cases."""
        phone = parse_phone(text).number
        now = self.d.clock.now()

        def tx(c: sqlite3.Connection) -> CallerPhone:
            self.operator_only(c, user_id)
            draft = self._call_at(c, user_id, Step.CALLER_PHONE)
            after = Step.SUMMARY if draft.editing else Step.CALLER_NAME
            draft = drafts.update(c, user_id, now, caller_phone=phone, step=after)
            return CallerPhone(draft, [t for t in tickets_of_phone(c, phone) if t.state in OPEN_STATES])

        found = await self.d.db.write(tx)
        self._remember(user_id, found.draft)
        return found

    async def set_caller_name(self, user_id: int, name: str | None) -> Draft:
        """The caller's name (None: not given); the call goes on with the resident's first step."""
        cleaned = " ".join((name or "").split())[:MAX_CALLER_NAME] or None
        now = self.d.clock.now()

        def tx(c: sqlite3.Connection) -> Draft:
            self.operator_only(c, user_id)
            self._call_at(c, user_id, Step.CALLER_NAME)
            return drafts.update(c, user_id, now, caller_name=cleaned, step=Step.CATEGORY)

        return self._remember(user_id, await self.d.db.write(tx))  # type: ignore[return-value]

    async def caller_tickets(self, user_id: int, text: str) -> tuple[str, list[Ticket]]:
        """/caller: the number normalised and all its tickets, newest first (operators only; BadPhone)."""
        phone = parse_phone(text).number

        def q(c: sqlite3.Connection) -> list[Ticket]:
            self.operator_only(c, user_id)
            return tickets_of_phone(c, phone)

        return phone, await self.d.db.read(q)

    @staticmethod
    def _call_at(c: sqlite3.Connection, user_id: int, step: Step) -> Draft:
        draft = drafts.get(c, user_id)
        if draft is None or not draft.is_call:
            raise Refused("intake.no_draft")
        if draft.step != step:
            raise Refused("intake.stale_button")
        return draft
