"""The hotline's callback (回访) from the operators' chat: an operator calls the caller back once the unit has
answered, and records the caller's rating with the resident's own two questions (``bot.workflow.rating``, which
lets registered operators rate hotline tickets) — or presses "not reached". Each such press is a try (an event);
the ``hotline.callback_tries``-th closes the case as "caller unreachable", the way an unrated answer auto-closes.
"""

from __future__ import annotations

import sqlite3

from bot.domain import channels
from bot.domain.lifecycle import SPEC, Action
from bot.workflow.access import load
from bot.workflow.common import Actor, Refused, WorkflowDeps
from bot.workflow.messages import OPERATORS_CHAT, Messages
from bot.workflow.transitions import Transitions
from storage import chats, contacts, hotline
from storage.records import Ticket


class Hotline:
    def __init__(self, deps: WorkflowDeps, transitions: Transitions, messages: Messages) -> None:
        self.d = deps
        self.transitions = transitions
        self.messages = messages

    async def not_reached(self, actor: Actor, ticket_id: int, version: int) -> tuple[Ticket, int]:
        """An operator could not reach the caller: (the ticket as written, tries so far). The last try closes it."""
        def tx(c: sqlite3.Connection) -> tuple[Ticket, int]:
            now = self.d.clock.now()
            if not chats.is_operator(c, actor.user_id):
                raise Refused("hotline.not_operator")
            t = load(c, ticket_id, version)
            if t.channel != channels.HOTLINE:
                raise Refused("deny.stale")
            tries = hotline.tries_since_answer(c, t.id, SPEC[Action.CALLBACK_NOT_REACHED].event,
                                               SPEC[Action.RESOLVE].event) + 1
            most = self.d.config.hotline.callback_tries
            if tries < most:
                t = self.transitions.apply(c, t, Action.CALLBACK_NOT_REACHED, now, by=actor.user_id,
                                           data={"try": tries})
            else:
                reason = self.d.texts.get(self.messages.lang, "hotline.unreachable_reason", tries=tries)
                rated = t
                t = self.transitions.apply(c, t, Action.CALLER_UNREACHABLE, now, by=actor.user_id, reason=reason,
                                           data={"tries": tries}, closed_at=now)
                self.messages.drop_all_rating_buttons(c, rated, now)
            self.messages.refresh_cards(c, t, now)
            return t, tries

        return await self.d.write(tx)

    async def may_see_callers(self, user_id: int, chat_id: int) -> bool:
        """Whether callers' contacts may be shown here: an operator's own private chat, or the operators' chat
        (never a chat where others read along, even when an operator asks there)."""
        def q(c: sqlite3.Connection) -> bool:
            if chat_id == user_id:
                return chats.is_operator(c, user_id)
            binding = chats.binding_of_chat(c, chat_id)
            return binding is not None and binding.role == OPERATORS_CHAT

        return await self.d.db.read(q)

    async def contact(self, ticket_id: int) -> contacts.Contact | None:
        """A ticket's caller, for an operators' view (check :meth:`may_see_callers` first)."""
        return await self.d.db.read(lambda c: contacts.get(c, ticket_id))
