"""Who may act on a ticket, from where, on which version of its card; and the questions the bot is waiting for.

Every button and typed answer of the handling loop passes through here first: a stranger, a second press, a stale
card or a forged button is refused with a catalogue key and changes nothing.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

from bot.domain.lifecycle import Action, Move, TransitionRefused, plan
from bot.workflow.common import Actor, Refused, WorkflowDeps
from storage import chats, tickets
from storage.records import Ticket

COORDINATION_ROLE = "@coordination"  # the "unit" liaisons of the coordination group are registered under


def load(c: sqlite3.Connection, ticket_id: int, version: int) -> Ticket:
    """The ticket if the button's version is still its version."""
    t = tickets.get(c, ticket_id)
    if t is None or t.version != version:
        raise Refused("deny.stale")
    return t


def planned(t: Ticket, action: Action) -> Move:
    """The lifecycle's move for ``action``, or the refusal a person reads."""
    try:
        return plan(t.state, action, is_lead=t.lead)
    except TransitionRefused as refused:
        key = "deny.lead_cannot_return" if refused.reason_key == "lead_cannot_return" else "deny.stale"
        raise Refused(key) from None


def allowing(t: Ticket, action: Action) -> Ticket:
    """``t`` if its state allows ``action`` now (a follow-up question is asked only then)."""
    planned(t, action)
    return t


class Access:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    def for_unit(self, c: sqlite3.Connection, actor: Actor, ticket_id: int, version: int) -> Ticket:
        """The ticket, if the actor may act for its unit from this chat and the card is current."""
        t = tickets.get(c, ticket_id)
        binding = chats.binding_of_chat(c, actor.chat_id)
        if t is None or binding is None or binding.role != "unit" or binding.unit != t.unit:
            raise Refused("deny.not_allowed")
        policy = self.d.config.handling.unit_actors
        liaison = chats.is_liaison(c, actor.user_id, binding.unit or "")
        allowed = (liaison or actor.chat_admin) if policy == "admins_and_liaisons" else (
            liaison if policy == "liaisons" else actor.chat_admin)
        if not allowed:
            raise Refused("deny.not_allowed")
        if t.version != version:
            raise Refused("deny.stale")
        return t

    def for_coordinator(self, c: sqlite3.Connection, actor: Actor, ticket_id: int, version: int) -> Ticket:
        binding = chats.binding_of_chat(c, actor.chat_id)
        if binding is None or binding.role != "coordination":
            raise Refused("deny.not_coordinator")
        if not (actor.chat_admin or chats.is_liaison(c, actor.user_id, COORDINATION_ROLE)):
            raise Refused("deny.not_coordinator")
        return load(c, ticket_id, version)

    def ask(self, c: sqlite3.Connection, actor: Actor, question: str, t: Ticket,
            data: dict[str, Any] | None = None) -> None:
        """Remember that the bot asked this person, in this chat, a question about ``t`` (their next message
        there is the answer, until it expires)."""
        now = self.d.clock.now()
        chats.ask(c, actor.chat_id, actor.user_id, question, t.id, t.version, data or {}, now,
                  now + timedelta(minutes=self.d.config.handling.question_ttl_minutes))

    def question(self, c: sqlite3.Connection, actor: Actor, t: Ticket, kind: str) -> chats.PendingInput:
        """The pending question of ``kind`` about ``t``, or the refusal for an expired one."""
        found = chats.pending(c, actor.chat_id, actor.user_id, self.d.clock.now())
        if found is None or found.action != kind or found.ticket_id != t.id:
            raise Refused("deny.expired_question")
        return found
