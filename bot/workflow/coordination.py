"""What the coordinators decide for a case nobody owns, a returned one or an extension request: name a lead unit
(主办) with helping units (协办), re-dispatch it, change its deadline class, reject it with a reason, approve or deny
more time. Every decision is one tap (pickers are follow-up questions remembered per person and chat).
"""

from __future__ import annotations

import sqlite3

from bot.domain.deadlines import DeadlineClass
from bot.domain.lifecycle import Action
from bot.workflow.access import Access, allowing
from bot.workflow.common import Actor, Refused, WorkflowDeps
from bot.workflow.dispatch import Dispatcher
from bot.workflow.messages import Messages
from bot.workflow.transitions import Transitions
from storage import chats, extensions, tickets
from storage.records import Ticket

REASON_MAX = 500


class Coordination:
    def __init__(self, deps: WorkflowDeps, access: Access, transitions: Transitions, messages: Messages,
                 dispatcher: Dispatcher) -> None:
        self.d = deps
        self.access = access
        self.transitions = transitions
        self.messages = messages
        self.dispatcher = dispatcher

    async def check_coordinator(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        return await self.d.db.read(lambda c: self.access.for_coordinator(c, actor, ticket_id, version))

    # -- lead and helpers ----------------------------------------------------------------------------------------

    async def start_lead_pick(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        return await self._allowed(actor, ticket_id, version, Action.ASSIGN_LEAD)

    async def choose_lead(self, actor: Actor, ticket_id: int, version: int, lead: str) -> tuple[Ticket, list[str]]:
        """Remember the chosen lead; helpers are picked next."""
        self._known_unit(lead)

        def tx(c: sqlite3.Connection) -> tuple[Ticket, list[str]]:
            t = allowing(self.access.for_coordinator(c, actor, ticket_id, version), Action.ASSIGN_LEAD)
            self.access.ask(c, actor, "lead", t, {"lead": lead, "helpers": []})
            return t, []

        return await self.d.write(tx)

    async def toggle_helper(self, actor: Actor, ticket_id: int, version: int, unit: str
                            ) -> tuple[Ticket, str, list[str]]:
        self._known_unit(unit)

        def tx(c: sqlite3.Connection) -> tuple[Ticket, str, list[str]]:
            t = self.access.for_coordinator(c, actor, ticket_id, version)
            question = self.access.question(c, actor, t, "lead")
            lead, helpers = question.data["lead"], list(question.data["helpers"])
            if unit == lead:
                raise Refused("deny.same_unit")
            helpers = [h for h in helpers if h != unit] if unit in helpers else [*helpers, unit]
            self.access.ask(c, actor, "lead", t, {"lead": lead, "helpers": helpers})
            return t, lead, helpers

        return await self.d.write(tx)

    async def assign_lead(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self.access.for_coordinator(c, actor, ticket_id, version)
            question = self.access.question(c, actor, t, "lead")
            lead, helpers = question.data["lead"], list(question.data["helpers"])
            tickets.set_helpers(c, t.id, helpers)
            t = self.dispatcher.dispatch(c, t, lead, now, Action.ASSIGN_LEAD, by=actor.user_id, lead=True,
                                         data={"helpers": helpers})
            for helper in helpers:
                self.messages.post_unit_card(c, t, helper, now, kind="helper")
            chats.answered(c, actor.chat_id, actor.user_id)
            return t

        return await self.d.write(tx)

    # -- elsewhere, another class, or not at all -----------------------------------------------------------------

    async def start_redispatch(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        return await self._allowed(actor, ticket_id, version, Action.REDISPATCH)

    async def redispatch(self, actor: Actor, ticket_id: int, version: int, unit: str) -> Ticket:
        self._known_unit(unit)

        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self.access.for_coordinator(c, actor, ticket_id, version)
            tickets.set_helpers(c, t.id, [])
            return self.dispatcher.dispatch(c, t, unit, now, Action.REDISPATCH, by=actor.user_id)

        return await self.d.write(tx)

    async def change_class(self, actor: Actor, ticket_id: int, version: int, deadline_class: str) -> Ticket:
        if deadline_class not in set(DeadlineClass):
            raise Refused("deny.stale")

        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self.access.for_coordinator(c, actor, ticket_id, version)
            t = self.transitions.apply(c, t, Action.CHANGE_CLASS, now, by=actor.user_id, reason=deadline_class,
                                       deadline_class=deadline_class)
            self.messages.refresh_cards(c, t, now)
            return t

        return await self.d.write(tx)

    async def ask_reject_reason(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            t = allowing(self.access.for_coordinator(c, actor, ticket_id, version), Action.REJECT)
            self.access.ask(c, actor, "reject", t)
            return t

        return await self.d.write(tx)

    async def reject(self, actor: Actor, ticket_id: int, version: int, reason: str) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self.access.for_coordinator(c, actor, ticket_id, version)
            t = self.transitions.apply(c, t, Action.REJECT, now, by=actor.user_id, reason=reason[:REASON_MAX],
                                       closed_at=now)
            chats.answered(c, actor.chat_id, actor.user_id)
            self.messages.tell_people(c, t, now, "notify.rejected", reason=reason[:REASON_MAX])
            self.messages.refresh_cards(c, t, now)
            return t

        return await self.d.write(tx)

    # -- more time -----------------------------------------------------------------------------------------------

    async def decide_extension(self, actor: Actor, ticket_id: int, version: int, extension_id: int,
                               approve: bool) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self.access.for_coordinator(c, actor, ticket_id, version)
            ext = extensions.get(c, extension_id, t.id)
            if ext is None or ext.state != "pending":
                raise Refused("deny.stale")
            action = Action.APPROVE_EXTENSION if approve else Action.DENY_EXTENSION
            t = self.transitions.apply(c, t, action, now, by=actor.user_id, reason=f"{ext.days}",
                                       extend_days=ext.days)
            extensions.decide(c, extension_id, approve, actor.user_id, now, t.due_at)
            decision = self.d.texts.get(self.messages.lang, "card.btn_approve" if approve else "card.btn_deny")
            self.messages.extension_card(c, t, extension_id, ext.unit, ext.days, ext.reason, now,
                                         decision=decision, chat_id=actor.chat_id)
            if approve:
                self.messages.tell_people(c, t, now, "notify.extended")
            self.messages.refresh_cards(c, t, now)
            return t

        return await self.d.write(tx)

    def _known_unit(self, key: str) -> None:
        """A unit key from a button: one the city does not have means a forged or outdated button."""
        if key not in {u.key for u in self.d.config.city.units}:
            raise Refused("deny.stale")

    async def _allowed(self, actor: Actor, ticket_id: int, version: int, action: Action) -> Ticket:
        """The coordinator may start ``action`` now (a read: the picker that follows remembers nothing yet)."""
        return await self.d.db.read(lambda c: allowing(self.access.for_coordinator(c, actor, ticket_id, version),
                                                       action))
