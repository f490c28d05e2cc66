"""What a unit's liaison does with a case, from the card in the unit's group: sign for it (签收), return it
(退回, with a reason), ask for more time (申请延期, days then a reason), answer it (办结, text and maybe a photo).

The ``ask_*`` methods check the press is allowed now and remember the follow-up question; the typed answer then
arrives through the matching action method.
"""

from __future__ import annotations

import sqlite3
from html import escape

from bot.domain.day_count import DaysProblem, DaysRejected, parse_days
from bot.domain.lifecycle import Action
from bot.workflow.access import Access, allowing
from bot.workflow.common import Actor, Refused, WorkflowDeps
from bot.workflow.messages import Messages, is_stray_copy
from bot.workflow.transitions import Transitions
from storage import chats, extensions, tickets
from storage.records import Photo, Ticket

REASON_MAX = 500  # characters of a typed reason kept on the event
#: Why a typed number of extension days was refused → the text that says so.
_DAYS_REFUSED: dict[DaysProblem, str] = {
    "not_a_number": "ext.not_a_number", "too_small": "ext.too_small", "too_large": "ext.too_large"}


class UnitActions:
    def __init__(self, deps: WorkflowDeps, access: Access, transitions: Transitions, messages: Messages) -> None:
        self.d = deps
        self.access = access
        self.transitions = transitions
        self.messages = messages

    async def pending_question(self, chat_id: int, user_id: int) -> chats.PendingInput | None:
        now = self.d.clock.now()
        return await self.d.db.read(lambda c: chats.pending(c, chat_id, user_id, now))

    async def retire_copy(self, ticket_id: int, chat_id: int, message_id: int) -> bool:
        """After a card button's press: retire the pressed message's buttons if it is an untracked copy of a card
        (see ``Messages.retire_copy``). A read first: almost every press is on the tracked card."""
        tracked = await self.d.db.read(lambda c: chats.card_messages_in(c, ticket_id, chat_id))
        if not is_stray_copy(tracked, message_id):
            return False
        return await self.d.write(lambda c: self.messages.retire_copy(c, ticket_id, chat_id, message_id,
                                                                      self.d.clock.now()))

    async def accept(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self.access.for_unit(c, actor, ticket_id, version)
            t = self.transitions.apply(c, t, Action.ACCEPT, now, by=actor.user_id)
            self.messages.tell_people(c, t, now, "notify.accepted",
                                      extra_key="notify.due_line" if t.due_at else None)
            self.messages.refresh_cards(c, t, now)
            return t

        return await self.d.write(tx)

    async def ask_return_reason(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        """The unit pressed 退回: check it may, then wait for the reason (buttons or typed)."""
        return await self._ask(actor, ticket_id, version, Action.RETURN, "return")

    async def return_case(self, actor: Actor, ticket_id: int, version: int, reason: str) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self.access.for_unit(c, actor, ticket_id, version)
            unit = t.unit or ""
            t = self.transitions.apply(c, t, Action.RETURN, now, by=actor.user_id, reason=reason[:REASON_MAX],
                                       unit=None, lead=False)
            chats.answered(c, actor.chat_id, actor.user_id)
            self.messages.refresh_cards(c, t, now)
            self.messages.to_coordination(c, t, now, return_reason=(unit, reason[:REASON_MAX]))
            self.messages.tell_people(c, t, now, "notify.returned")
            return t

        return await self.d.write(tx)

    async def ask_extension_days(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        """The unit pressed 申请延期: check it may (a read; the days are a button, nothing is remembered yet)."""
        return await self.d.db.read(lambda c: allowing(self.access.for_unit(c, actor, ticket_id, version),
                                                       Action.REQUEST_EXTENSION))

    @property
    def max_extension_days(self) -> int:
        return self.d.config.deadlines.max_extension_days

    async def ask_extension_typed_days(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        """The unit pressed 其他天数: its next message in the chat is the number of working days."""
        return await self._ask(actor, ticket_id, version, Action.REQUEST_EXTENSION, "extension_days")

    async def typed_extension_days(self, actor: Actor, ticket_id: int, version: int, text: str) -> int:
        """The typed number of days, if it is one within the maximum; then the reason is asked for. A bad number
        is refused with the reason and the question stays open, so the liaison can simply type again."""
        try:
            days = parse_days(text, self.max_extension_days)
        except DaysRejected as bad:
            raise Refused(_DAYS_REFUSED[bad.reason], text=escape(text[:20]), max=self.max_extension_days) from None
        await self.ask_extension_reason(actor, ticket_id, version, days)
        return days

    async def ask_extension_reason(self, actor: Actor, ticket_id: int, version: int, days: int) -> Ticket:
        if not 1 <= days <= self.max_extension_days:
            raise Refused("ext.too_large", max=self.max_extension_days)
        return await self._ask(actor, ticket_id, version, Action.REQUEST_EXTENSION, "extension", {"days": days})

    async def request_extension(self, actor: Actor, ticket_id: int, version: int, days: int, reason: str) -> Ticket:
        reason = reason[:REASON_MAX]

        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self.access.for_unit(c, actor, ticket_id, version)
            before_due = t.due_at
            t = self.transitions.apply(c, t, Action.REQUEST_EXTENSION, now, by=actor.user_id, reason=reason,
                                       data={"days": days})
            ext_id = extensions.add(c, t.id, t.unit or "", actor.user_id, days, reason, now, before_due)
            chats.answered(c, actor.chat_id, actor.user_id)
            self.messages.extension_card(c, t, ext_id, t.unit or "", days, reason, now)
            self.messages.refresh_cards(c, t, now)
            return t

        return await self.d.write(tx)

    async def ask_answer(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        return await self._ask(actor, ticket_id, version, Action.RESOLVE, "resolve")

    async def resolve(self, actor: Actor, ticket_id: int, version: int, answer: str, photo: Photo | None) -> Ticket:
        limit = self.d.config.handling.answer_max_chars
        if len(answer) > limit:
            raise Refused("deny.answer_too_long", length=len(answer), max=limit)

        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self.access.for_unit(c, actor, ticket_id, version)
            t = self.transitions.apply(c, t, Action.RESOLVE, now, by=actor.user_id, reason=answer[:REASON_MAX],
                                       answer=answer)
            if photo is not None:
                tickets.add_photo(c, t.id, photo, "answer")
            chats.answered(c, actor.chat_id, actor.user_id)
            self.messages.tell_resolved(c, t, now)
            self.messages.refresh_cards(c, t, now)
            return t

        return await self.d.write(tx)

    async def _ask(self, actor: Actor, ticket_id: int, version: int, action: Action, question: str,
                   data: dict[str, int] | None = None) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            t = allowing(self.access.for_unit(c, actor, ticket_id, version), action)
            self.access.ask(c, actor, question, t, data)
            return t

        return await self.d.write(tx)
