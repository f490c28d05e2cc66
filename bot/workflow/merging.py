"""Merging duplicates (并单): ticket B reports what open ticket A already does. A coordinator merges B into A from
B's card in the coordination chat (typing A's number); a unit's liaison proposes it from the unit card (typing
A's number), and a coordinator approves or denies the proposal card. On merge B is final (``merged``, pointing at
A), its cards lose their buttons and say so, its followers follow A (its reporter as one of A's raters), and A's
cards show how many residents follow it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.domain.lifecycle import OPEN_STATES, Action
from bot.domain.numbers import BadNumber, format_number, parse_number
from bot.workflow.access import Access, allowing
from bot.workflow.common import Actor, Refused, WorkflowDeps
from bot.workflow.messages import Messages
from bot.workflow.transitions import Transitions
from storage import chats, tickets
from storage.records import Ticket


class Merging:
    def __init__(self, deps: WorkflowDeps, access: Access, transitions: Transitions, messages: Messages) -> None:
        self.d = deps
        self.access = access
        self.transitions = transitions
        self.messages = messages

    # -- a coordinator merges ------------------------------------------------------------------------------------

    async def ask_number(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        """A coordinator pressed 并单 on B's card: wait for A's number."""
        def tx(c: sqlite3.Connection) -> Ticket:
            t = allowing(self.access.for_coordinator(c, actor, ticket_id, version), Action.MERGE)
            self.access.ask(c, actor, "merge", t)
            return t

        return await self.d.write(tx)

    async def merge(self, actor: Actor, ticket_id: int, version: int, number_text: str) -> tuple[Ticket, Ticket]:
        """Merge B (``ticket_id``) into the ticket whose number was typed; returns (B, A) as written."""
        def tx(c: sqlite3.Connection) -> tuple[Ticket, Ticket]:
            now = self.d.clock.now()
            b = self.access.for_coordinator(c, actor, ticket_id, version)
            self.access.question(c, actor, b, "merge")
            a = self._target(c, b, number_text)
            chats.answered(c, actor.chat_id, actor.user_id)
            return self._merge(c, b, a, Action.MERGE, actor.user_id, now), a

        return await self.d.write(tx)

    # -- a unit proposes, a coordinator decides ------------------------------------------------------------------

    async def ask_proposal(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        """The unit pressed 建议并单: wait for A's number."""
        def tx(c: sqlite3.Connection) -> Ticket:
            t = allowing(self.access.for_unit(c, actor, ticket_id, version), Action.PROPOSE_MERGE)
            self.access.ask(c, actor, "propose_merge", t)
            return t

        return await self.d.write(tx)

    async def propose(self, actor: Actor, ticket_id: int, version: int, number_text: str) -> tuple[Ticket, Ticket]:
        def tx(c: sqlite3.Connection) -> tuple[Ticket, Ticket]:
            now = self.d.clock.now()
            b = self.access.for_unit(c, actor, ticket_id, version)
            self.access.question(c, actor, b, "propose_merge")
            a = self._target(c, b, number_text)
            unit = b.unit
            b = self.transitions.apply(c, b, Action.PROPOSE_MERGE, now, by=actor.user_id,
                                       data={"into": a.number})
            chats.answered(c, actor.chat_id, actor.user_id)
            self.messages.refresh_cards(c, b, now)
            self.messages.merge_proposal_card(c, b, a, unit, now)
            return b, a

        return await self.d.write(tx)

    async def decide(self, actor: Actor, ticket_id: int, version: int, into_id: int, approve: bool) -> Ticket:
        """A coordinator approves (B is merged into A) or denies a unit's proposal."""
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            b = self.access.for_coordinator(c, actor, ticket_id, version)
            a = tickets.get(c, into_id)
            if a is None:
                raise Refused("deny.stale")
            if approve:
                self._check_target(b, a)
                merged = self._merge(c, b, a, Action.APPROVE_MERGE, actor.user_id, now)
            else:
                merged = self.transitions.apply(c, b, Action.DENY_MERGE, now, by=actor.user_id,
                                                data={"into": a.number})
                self.messages.refresh_cards(c, merged, now)
                self.messages.to_unit_chat(c, merged, "merge.unit_denied", now, into=format_number(a.number))
            decision = self.d.texts.get(self.messages.lang,
                                        "card.btn_approve_merge" if approve else "card.btn_deny_merge")
            self.messages.merge_proposal_card(c, merged, a, b.unit, now, decision=decision, chat_id=actor.chat_id)
            return merged

        return await self.d.write(tx)

    # -- the merge itself ----------------------------------------------------------------------------------------

    def _target(self, c: sqlite3.Connection, b: Ticket, number_text: str) -> Ticket:
        """A from the typed number: a valid number (check digit), an existing ticket, open and not B."""
        try:
            number = parse_number(number_text)
        except BadNumber as bad:
            key = "merge.deny_mistyped" if bad.reason == "mistyped" else "merge.deny_garbage"
            raise Refused(key) from None
        a = tickets.by_number(c, number)
        if a is None:
            raise Refused("merge.deny_not_found", number=format_number(number))
        self._check_target(b, a)
        return a

    @staticmethod
    def _check_target(b: Ticket, a: Ticket) -> None:
        if a.id == b.id:
            raise Refused("merge.deny_same")
        if a.state not in OPEN_STATES:
            raise Refused("merge.deny_not_open", number=format_number(a.number))

    def _merge(self, c: sqlite3.Connection, b: Ticket, a: Ticket, action: Action, by: int, now: datetime) -> Ticket:
        b = self.transitions.apply(c, b, action, now, by=by, merged_into=a.id, closed_at=now, data={"into": a.number})
        joined = tickets.move_followers(c, b, a.id, now)
        tickets.add_event(c, a.id, now, actor_kind="coordinator", actor_id=by, action="merge_absorbed",
                          unit=a.unit, public=False, data={"from": b.number, "followers": joined})
        self.messages.tell_people(c, b, now, "merge.notify_merged", into=format_number(a.number), raw_into=a.number)
        self.messages.refresh_cards(c, b, now)
        self.messages.refresh_cards(c, a, now)  # A's cards now count B's residents among its followers
        return b
