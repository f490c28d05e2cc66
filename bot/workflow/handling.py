"""The handling loop after intake: routing and dispatch, the unit's actions, coordination, the resident's rating.

Every public method is one transaction: it checks who acts and the version the button carried, applies the
lifecycle transition, appends the event(s) and queues every message the change causes (cards, their edits, the
resident's notice, alerts) in the outbox. Nothing is sent from here.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import cards
from bot.cards import GROUP_LANG, CardExtras, unit_name, when
from bot.domain.calendar import UnknownYear
from bot.domain.deadlines import Deadline
from bot.domain.lifecycle import Action, TicketState, TransitionRefused, next_state
from bot.domain.numbers import format_number
from bot.workflow.common import Refused, WorkflowDeps
from storage import chats, deadlines, extensions, outbox, tickets, users
from storage.records import Photo, Ticket

COORDINATION_ROLE = "@coordination"  # the "unit" liaisons of the coordination group are registered under


@dataclass(frozen=True)
class Actor:
    """Who pressed or typed, where, and whether Telegram says they administer that chat."""

    user_id: int
    chat_id: int
    chat_admin: bool = False


class Handling:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    @property
    def _cfg(self):  # type: ignore[no-untyped-def]
        return self.d.config.handling

    # == reading ===============================================================================================

    async def ticket(self, ticket_id: int) -> Ticket | None:
        return await self.d.db.read(lambda c: tickets.get(c, ticket_id))

    async def binding(self, chat_id: int) -> chats.Binding | None:
        return await self.d.db.read(lambda c: chats.binding_of_chat(c, chat_id))

    async def pending_question(self, chat_id: int, user_id: int) -> chats.PendingInput | None:
        now = self.d.clock.now()
        return await self.d.db.read(lambda c: chats.pending(c, chat_id, user_id, now))

    # == routing a new ticket (called inside the intake's confirm transaction) =================================

    def route_new(self, c: sqlite3.Connection, ticket: Ticket, now: datetime) -> Ticket:
        city = self.d.config.city
        place_unit = city.place(ticket.place_key).unit if ticket.place_key else None
        route = city.router().route(ticket.category, lat=ticket.lat, lon=ticket.lon, place_unit=place_unit)
        reason = json.dumps({"key": route.reason_key, "params": route.reason_params}, ensure_ascii=False)
        rule = self._sensitive_rule(ticket)
        ticket = tickets.update(c, ticket.id, ticket.version, now, zone=route.zone,
                                district=route.district or ticket.district, route_reason=reason, sensitive=rule)
        if route.unit is not None:
            # the reporter hears of the dispatch in the confirmation itself (one message, not two)
            ticket = self._dispatch(c, ticket, route.unit, now, Action.DISPATCH, actor=None, event="dispatched",
                                    tell=False)
        else:
            tickets.add_event(c, ticket.id, now, actor_kind="system", action="unroutable", reason=route.reason_key)
            self._to_coordination(c, ticket, now, notes=(("card.unroutable", {
                "reason": cards.route_reason(self.d.texts, GROUP_LANG, city, ticket)}),))
        if rule:
            self._sensitive_alerts(c, ticket, rule, now)
        return ticket

    def _sensitive_rule(self, ticket: Ticket) -> str | None:
        """The first keyword (global or the category's own) found in the description, if any."""
        text = ticket.description.casefold()
        category = self.d.config.city.category(ticket.category)
        for word in (*category.keywords, *self._cfg.sensitive_keywords):
            if word and word.casefold() in text:
                return word
        return None

    def _sensitive_alerts(self, c: sqlite3.Connection, t: Ticket, rule: str, now: datetime) -> None:
        city, texts = self.d.config.city, self.d.texts
        recipients = [(uid, self._lang_of(c, uid)) for uid in chats.social_supervisors(c)]
        supervision = chats.chat_for(c, "supervision")
        if supervision is not None:
            recipients.append((supervision, GROUP_LANG))
        for chat_id, lang in recipients:
            clock = (texts.get(lang, "alert.clock", due=when(t.sign_due_at, city)) if t.sign_due_at
                     else texts.get(lang, "alert.clock_none"))
            text = texts.get(lang, "alert.sensitive", number=format_number(t.number),
                             category=city.category(t.category).name(lang),
                             district=unit_name(city, t.district, lang), rule=rule,
                             created=when(t.created_at, city), unit=unit_name(city, t.unit, lang), clock=clock)
            outbox.add(c, chat_id, "message", {"text": text, "parse_mode": "HTML"}, now, ticket_id=t.id,
                       dedupe_key=f"t{t.id}:sensitive:{chat_id}")

    # == the unit's actions ====================================================================================

    async def accept(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._for_unit(c, actor, ticket_id, version)
            state = self._next(t, Action.ACCEPT)
            fields: dict[str, Any] = {"state": state, "accepted_at": now}
            if t.signed_on_time is None:
                fields["signed_on_time"] = t.sign_due_at is None or now <= t.sign_due_at
            if t.state == TicketState.DISPATCHED:  # a re-opened case keeps the fresh deadline it got
                fields.update(self._handling_due(c, t, now, t.deadline_class))
            t = tickets.update(c, t.id, t.version, now, **fields)
            self._skip_reminders_already_inside(c, t, "due_at", now)
            tickets.add_event(c, t.id, now, actor_kind="unit", actor_id=actor.user_id, action="accepted",
                              from_state=TicketState.DISPATCHED, to_state=state, unit=t.unit)
            self._tell_people(c, t, now, "notify.accepted", extra_key="notify.due_line" if t.due_at else None)
            self._refresh_cards(c, t, now)
            return t

        return await self._write(tx)

    async def ask_return_reason(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        """The unit pressed 退回: check it may, then wait for the reason (buttons or typed)."""
        def tx(c: sqlite3.Connection) -> Ticket:
            t = self._for_unit(c, actor, ticket_id, version)
            self._next(t, Action.RETURN)
            self._ask(c, actor, "return", t)
            return t

        return await self._write(tx)

    async def return_(self, actor: Actor, ticket_id: int, version: int, reason: str) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._for_unit(c, actor, ticket_id, version)
            state = self._next(t, Action.RETURN)
            unit, before = t.unit, t.state
            bounces = t.bounces + 1
            newly_escalated = bounces >= self._cfg.max_bounces and not t.escalated
            t = tickets.update(c, t.id, t.version, now, state=state, unit=None, lead=False, bounces=bounces,
                               escalated=t.escalated or newly_escalated, sign_due_at=None, due_at=None)
            tickets.add_event(c, t.id, now, actor_kind="unit", actor_id=actor.user_id, action="returned",
                              from_state=before, to_state=state, unit=unit, reason=reason[:500])
            if newly_escalated:
                tickets.add_event(c, t.id, now, actor_kind="system", action="escalated", public=False,
                                  data={"bounces": bounces})
            chats.answered(c, actor.chat_id, actor.user_id)
            self._refresh_cards(c, t, now)
            self._to_coordination(c, t, now, return_reason=(unit or "", reason[:500]))
            self._tell_people(c, t, now, "notify.returned")
            return t

        return await self._write(tx)

    async def ask_extension_days(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        return await self._write(lambda c: self._checked(self._for_unit(c, actor, ticket_id, version),
                                                         Action.REQUEST_EXTENSION))

    async def ask_extension_reason(self, actor: Actor, ticket_id: int, version: int, days: int) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            t = self._checked(self._for_unit(c, actor, ticket_id, version), Action.REQUEST_EXTENSION)
            self._ask(c, actor, "extension", t, {"days": days})
            return t

        return await self._write(tx)

    async def request_extension(self, actor: Actor, ticket_id: int, version: int, days: int, reason: str) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._checked(self._for_unit(c, actor, ticket_id, version), Action.REQUEST_EXTENSION)
            t = tickets.update(c, t.id, t.version, now)
            ext_id = extensions.add(c, t.id, t.unit or "", actor.user_id, days, reason[:500], now, t.due_at)
            tickets.add_event(c, t.id, now, actor_kind="unit", actor_id=actor.user_id, action="extension_requested",
                              unit=t.unit, reason=reason[:500], public=False, data={"days": days})
            chats.answered(c, actor.chat_id, actor.user_id)
            coordination = chats.chat_for(c, "coordination")
            if coordination is not None:
                payload = cards.extension_card(self.d.texts, self.d.config.city, t, ext_id, t.unit or "", days,
                                               reason[:500])
                self._post_card(c, t, f"extension:{ext_id}", coordination, payload, now)
            self._refresh_cards(c, t, now)
            return t

        return await self._write(tx)

    async def ask_answer(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            t = self._checked(self._for_unit(c, actor, ticket_id, version), Action.RESOLVE)
            self._ask(c, actor, "resolve", t)
            return t

        return await self._write(tx)

    async def resolve(self, actor: Actor, ticket_id: int, version: int, answer: str, photo: Photo | None) -> Ticket:
        if len(answer) > self._cfg.answer_max_chars:
            raise Refused("deny.answer_too_long", length=len(answer), max=self._cfg.answer_max_chars)

        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._for_unit(c, actor, ticket_id, version)
            before = t.state
            state = self._next(t, Action.RESOLVE)
            fields: dict[str, Any] = {"state": state, "resolved_at": now, "answer": answer}
            if t.resolved_on_time is None:
                fields["resolved_on_time"] = t.due_at is None or now <= t.due_at
            t = tickets.update(c, t.id, t.version, now, **fields)
            if photo is not None:
                tickets.add_photo(c, t.id, photo, "answer")
            tickets.add_event(c, t.id, now, actor_kind="unit", actor_id=actor.user_id, action="resolved",
                              from_state=before, to_state=state, unit=t.unit, reason=answer[:500])
            chats.answered(c, actor.chat_id, actor.user_id)
            self._tell_resolved(c, t, now)
            self._refresh_cards(c, t, now)
            return t

        return await self._write(tx)

    # == the resident's rating =================================================================================

    async def rate(self, user_id: int, ticket_id: int, version: int, satisfied: bool) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._load(c, ticket_id, version)
            if t.reporter_id != user_id:
                raise Refused("deny.not_reporter")
            if satisfied:
                state = self._next(t, Action.RATE_SATISFIED)
                t = tickets.update(c, t.id, t.version, now, state=state, rating="satisfied", closed_at=now)
                tickets.add_event(c, t.id, now, actor_kind="resident", actor_id=user_id, action="rated_satisfied",
                                  from_state=TicketState.RESOLVED, to_state=state, unit=t.unit)
                self._tell_people(c, t, now, "notify.closed")
                self._refresh_cards(c, t, now)
                return t
            state = self._next(t, Action.RATE_DISSATISFIED)
            fields: dict[str, Any] = {"state": state, "rating": "dissatisfied", "reopen_count": t.reopen_count + 1}
            fields.update(self._handling_due(c, t, now, t.deadline_class))  # a re-opened case: a fresh deadline
            t = tickets.update(c, t.id, t.version, now, **fields)
            self._skip_reminders_already_inside(c, t, "due_at", now)
            tickets.add_event(c, t.id, now, actor_kind="resident", actor_id=user_id, action="reopened",
                              from_state=TicketState.RESOLVED, to_state=state, unit=t.unit)
            self._refresh_cards(c, t, now)
            chat = chats.chat_for(c, "unit", t.unit)
            if chat is not None:  # a fresh card, so the unit notices the re-complaint
                self._post_card(c, t, "unit", chat, self._render(c, t, "unit"), now, with_media=False)
            supervision = chats.chat_for(c, "supervision")
            if supervision is not None:
                city = self.d.config.city
                text = self.d.texts.get(GROUP_LANG, "alert.recomplaint", number=format_number(t.number),
                                        category=city.category(t.category).name(GROUP_LANG),
                                        unit=unit_name(city, t.unit, GROUP_LANG), count=t.reopen_count)
                outbox.add(c, supervision, "message", {"text": text, "parse_mode": "HTML"}, now, ticket_id=t.id,
                           dedupe_key=f"t{t.id}:recomplaint:{t.reopen_count}")
            self._tell_people(c, t, now, "notify.reopened")
            return t

        return await self._write(tx)

    # == coordination ==========================================================================================

    async def start_lead_pick(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        return await self._write(lambda c: self._checked(self._for_coordinator(c, actor, ticket_id, version),
                                                         Action.ASSIGN_LEAD))

    async def choose_lead(self, actor: Actor, ticket_id: int, version: int, lead: str) -> tuple[Ticket, list[str]]:
        """Remember the chosen lead; helpers are picked next."""
        self.d.config.city.unit(lead)

        def tx(c: sqlite3.Connection) -> tuple[Ticket, list[str]]:
            t = self._checked(self._for_coordinator(c, actor, ticket_id, version), Action.ASSIGN_LEAD)
            self._ask(c, actor, "lead", t, {"lead": lead, "helpers": []})
            return t, []

        return await self._write(tx)

    async def toggle_helper(self, actor: Actor, ticket_id: int, version: int, unit: str
                            ) -> tuple[Ticket, str, list[str]]:
        self.d.config.city.unit(unit)

        def tx(c: sqlite3.Connection) -> tuple[Ticket, str, list[str]]:
            t = self._for_coordinator(c, actor, ticket_id, version)
            question = chats.pending(c, actor.chat_id, actor.user_id, self.d.clock.now())
            if question is None or question.action != "lead" or question.ticket_id != t.id:
                raise Refused("deny.expired_question")
            lead, helpers = question.data["lead"], list(question.data["helpers"])
            if unit == lead:
                raise Refused("deny.same_unit")
            helpers = [h for h in helpers if h != unit] if unit in helpers else [*helpers, unit]
            self._ask(c, actor, "lead", t, {"lead": lead, "helpers": helpers})
            return t, lead, helpers

        return await self._write(tx)

    async def assign_lead(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._for_coordinator(c, actor, ticket_id, version)
            question = chats.pending(c, actor.chat_id, actor.user_id, now)
            if question is None or question.action != "lead" or question.ticket_id != t.id:
                raise Refused("deny.expired_question")
            lead, helpers = question.data["lead"], list(question.data["helpers"])
            tickets.set_helpers(c, t.id, helpers)
            t = self._dispatch(c, t, lead, now, Action.ASSIGN_LEAD, actor=actor, event="assigned_lead", lead=True,
                               data={"helpers": helpers})
            for helper in helpers:
                chat = chats.chat_for(c, "unit", helper)
                if chat is not None:
                    self._post_card(c, t, "helper", chat, self._render(c, t, "helper"), now)
            chats.answered(c, actor.chat_id, actor.user_id)
            return t

        return await self._write(tx)

    async def start_redispatch(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        return await self._write(lambda c: self._checked(self._for_coordinator(c, actor, ticket_id, version),
                                                         Action.REDISPATCH))

    async def redispatch(self, actor: Actor, ticket_id: int, version: int, unit: str) -> Ticket:
        self.d.config.city.unit(unit)

        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._for_coordinator(c, actor, ticket_id, version)
            tickets.set_helpers(c, t.id, [])
            return self._dispatch(c, t, unit, now, Action.REDISPATCH, actor=actor, event="redispatched", lead=False)

        return await self._write(tx)

    async def check_coordinator(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        return await self.d.db.read(lambda c: self._for_coordinator(c, actor, ticket_id, version))

    async def change_class(self, actor: Actor, ticket_id: int, version: int, deadline_class: str) -> Ticket:
        if deadline_class not in ("immediate", "general", "complex"):
            raise Refused("deny.stale")

        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._for_coordinator(c, actor, ticket_id, version)
            if not t.is_open:
                raise Refused("deny.stale")
            fields: dict[str, Any] = {"deadline_class": deadline_class}
            if t.state == TicketState.ACCEPTED and t.accepted_at:
                fields.update(self._handling_due(c, t, t.accepted_at, deadline_class))
            t = tickets.update(c, t.id, t.version, now, **fields)
            tickets.add_event(c, t.id, now, actor_kind="coordinator", actor_id=actor.user_id, action="class_changed",
                              reason=deadline_class, public=False)
            self._refresh_cards(c, t, now)
            return t

        return await self._write(tx)

    async def ask_reject_reason(self, actor: Actor, ticket_id: int, version: int) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            t = self._checked(self._for_coordinator(c, actor, ticket_id, version), Action.REJECT)
            self._ask(c, actor, "reject", t)
            return t

        return await self._write(tx)

    async def reject(self, actor: Actor, ticket_id: int, version: int, reason: str) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._for_coordinator(c, actor, ticket_id, version)
            before = t.state
            state = self._next(t, Action.REJECT)
            t = tickets.update(c, t.id, t.version, now, state=state, closed_at=now)
            tickets.add_event(c, t.id, now, actor_kind="coordinator", actor_id=actor.user_id, action="rejected",
                              from_state=before, to_state=state, reason=reason[:500])
            chats.answered(c, actor.chat_id, actor.user_id)
            self._tell_people(c, t, now, "notify.rejected", reason=reason[:500])
            self._refresh_cards(c, t, now)
            return t

        return await self._write(tx)

    async def decide_extension(self, actor: Actor, ticket_id: int, version: int, extension_id: int,
                               approve: bool) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = self._for_coordinator(c, actor, ticket_id, version)
            ext = extensions.get(c, extension_id, t.id)
            if ext is None or ext.state != "pending":
                raise Refused("deny.stale")
            action = Action.APPROVE_EXTENSION if approve else Action.DENY_EXTENSION
            self._next(t, action)
            fields: dict[str, Any] = {}
            if approve and t.due_at:
                deadline = self._extended(c, t, t.due_at, ext.days)
                fields = {"due_at": deadline.at, "deadline_provisional": deadline.provisional}
            t = tickets.update(c, t.id, t.version, now, **fields)
            extensions.decide(c, extension_id, approve, actor.user_id, now, t.due_at)
            tickets.add_event(c, t.id, now, actor_kind="coordinator", actor_id=actor.user_id,
                              action="extension_approved" if approve else "extension_denied", unit=ext.unit,
                              reason=f"{ext.days}", public=approve)
            decision = self.d.texts.get(GROUP_LANG, "card.btn_approve" if approve else "card.btn_deny")
            payload = cards.extension_card(self.d.texts, self.d.config.city, t, extension_id, ext.unit,
                                           ext.days, ext.reason, decision=decision)
            self._edit_card(c, t, f"extension:{extension_id}", actor.chat_id, payload, now)
            if approve:
                self._tell_people(c, t, now, "notify.extended")
            self._refresh_cards(c, t, now)
            return t

        return await self._write(tx)

    # == administration ========================================================================================

    async def make_code(self, admin: int, purpose: str, role: str | None, unit: str | None) -> str:
        if admin not in self.d.config.admins:
            raise Refused("admin.not_admin")
        if unit is not None:
            self.d.config.city.unit(unit)  # KeyError: the handler shows the usage
        now = self.d.clock.now()
        code = secrets.token_hex(4).upper()
        expires = now + timedelta(hours=self._cfg.code_ttl_hours)
        await self.d.db.write(lambda c: chats.add_code(c, code, purpose, role, unit, admin, now, expires))
        return code

    async def bind(self, user_id: int, chat_id: int, title: str | None, code: str) -> chats.Binding:
        def tx(c: sqlite3.Connection) -> chats.Binding:
            now = self.d.clock.now()
            found = chats.take_code(c, code.strip().upper(), "bind", user_id, now)
            if found is None or found.used_at is not None or found.expires_at <= now:
                raise Refused("admin.code_invalid")
            chats.bind(c, chat_id, found.role or "unit", found.unit, title, user_id, now)
            return chats.binding_of_chat(c, chat_id)  # type: ignore[return-value]

        return await self._write(tx)

    async def register(self, user_id: int, code: str, purpose: str) -> str | None:
        """A liaison or social supervisor registers with their own code; returns the unit (liaisons)."""
        def tx(c: sqlite3.Connection) -> str | None:
            now = self.d.clock.now()
            found = chats.take_code(c, code.strip().upper(), purpose, user_id, now)
            if found is None or found.used_at is not None or found.expires_at <= now:
                raise Refused("admin.code_invalid")
            if purpose == "liaison":
                chats.add_liaison(c, user_id, found.unit or COORDINATION_ROLE, now)
                return found.unit or COORDINATION_ROLE
            chats.add_social_supervisor(c, user_id, now)
            return None

        return await self._write(tx)

    async def bindings(self) -> list[chats.Binding]:
        return await self.d.db.read(chats.all_bindings)

    async def unbind(self, admin: int, chat_id: int) -> bool:
        if admin not in self.d.config.admins:
            raise Refused("admin.not_admin")
        return await self.d.db.write(lambda c: chats.unbind(c, chat_id))

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        now = self.d.clock.now()

        def tx(c: sqlite3.Connection) -> None:
            chats.move_binding(c, old_chat_id, new_chat_id)
            outbox.move_chat(c, old_chat_id, new_chat_id, now)

        await self.d.db.write(tx)

    # == operators' lookups ====================================================================================

    async def case(self, number: str) -> tuple[Ticket, list[Any], list[str], int] | None:
        def q(c: sqlite3.Connection) -> tuple[Ticket, list[Any], list[str], int] | None:
            t = tickets.by_number(c, number)
            if t is None:
                return None
            return t, tickets.events(c, t.id), tickets.helpers(c, t.id), tickets.photo_count(c, t.id)

        return await self.d.db.read(q)

    async def open_cases(self, unit: str) -> list[Ticket]:
        return await self.d.db.read(lambda c: tickets.open_for_unit(c, unit))

    # == internals =============================================================================================

    async def _write(self, fn):  # type: ignore[no-untyped-def]
        result = await self.d.db.write(fn)
        self.d.outbox_kick()
        return result

    def _load(self, c: sqlite3.Connection, ticket_id: int, version: int) -> Ticket:
        t = tickets.get(c, ticket_id)
        if t is None or t.version != version:
            raise Refused("deny.stale")
        return t

    def _next(self, t: Ticket, action: Action) -> TicketState:
        try:
            return next_state(t.state, action, is_lead=t.lead)
        except TransitionRefused as refused:
            key = "deny.lead_cannot_return" if refused.reason_key == "lead_cannot_return" else "deny.stale"
            raise Refused(key) from None

    def _checked(self, t: Ticket, action: Action) -> Ticket:
        self._next(t, action)
        return t

    def _for_unit(self, c: sqlite3.Connection, actor: Actor, ticket_id: int, version: int) -> Ticket:
        """The ticket, if the actor may act for its unit from this chat and the card is current."""
        t = tickets.get(c, ticket_id)
        binding = chats.binding_of_chat(c, actor.chat_id)
        if t is None or binding is None or binding.role != "unit" or binding.unit != t.unit:
            raise Refused("deny.not_allowed")
        policy = self._cfg.unit_actors
        liaison = chats.is_liaison(c, actor.user_id, binding.unit or "")
        allowed = (liaison or actor.chat_admin) if policy == "admins_and_liaisons" else (
            liaison if policy == "liaisons" else actor.chat_admin)
        if not allowed:
            raise Refused("deny.not_allowed")
        if t.version != version:
            raise Refused("deny.stale")
        return t

    def _for_coordinator(self, c: sqlite3.Connection, actor: Actor, ticket_id: int, version: int) -> Ticket:
        binding = chats.binding_of_chat(c, actor.chat_id)
        if binding is None or binding.role != "coordination":
            raise Refused("deny.not_coordinator")
        if not (actor.chat_admin or chats.is_liaison(c, actor.user_id, COORDINATION_ROLE)):
            raise Refused("deny.not_coordinator")
        return self._load(c, ticket_id, version)

    def _ask(self, c: sqlite3.Connection, actor: Actor, action: str, t: Ticket, data: dict[str, Any] | None = None
             ) -> None:
        now = self.d.clock.now()
        chats.ask(c, actor.chat_id, actor.user_id, action, t.id, t.version, data or {}, now,
                  now + timedelta(minutes=self._cfg.question_ttl_minutes))

    # -- deadlines -----------------------------------------------------------------------------------------------

    def _deadline(self, c: sqlite3.Connection, t: Ticket, compute) -> Deadline | None:  # type: ignore[no-untyped-def]
        """A deadline from the city's calendar. A year nobody declared is no silent guess: without the
        weekends-only fallback there is no deadline and the supervision group is told which year is missing;
        with it the deadline is provisional and the supervision group is told too."""
        now = self.d.clock.now()
        try:
            deadline = compute(self.d.config.city.calendar(), self.d.config.deadlines.policy())
        except UnknownYear as unknown:
            self._calendar_alert(c, t, "calendar.unknown_year", unknown.year, now)
            return None
        if deadline.provisional:
            self._calendar_alert(c, t, "calendar.provisional", deadline.at.astimezone(
                self.d.config.city.timezone).year, now)
        return deadline

    def _calendar_alert(self, c: sqlite3.Connection, t: Ticket, key: str, year: int, now: datetime) -> None:
        supervision = chats.chat_for(c, "supervision")
        if supervision is None:
            return
        text = self.d.texts.get(GROUP_LANG, key, year=year, number=format_number(t.number))
        outbox.add(c, supervision, "message", {"text": text}, now, ticket_id=t.id,
                   dedupe_key=f"calendar:{key}:{year}:{t.id}")

    def _sign_due(self, c: sqlite3.Connection, t: Ticket, dispatched_at: datetime) -> dict[str, Any]:
        deadline = self._deadline(c, t, lambda cal, policy: policy.sign_due(cal, dispatched_at))
        if deadline is None:
            return {"sign_due_at": None}
        return {"sign_due_at": deadline.at, "deadline_provisional": deadline.provisional}

    def _handling_due(self, c: sqlite3.Connection, t: Ticket, start: datetime, deadline_class: str
                      ) -> dict[str, Any]:
        deadline = self._deadline(c, t, lambda cal, policy: policy.handling_due(cal, start, deadline_class))
        if deadline is None:
            return {"due_at": None}
        return {"due_at": deadline.at, "deadline_provisional": deadline.provisional}

    def _extended(self, c: sqlite3.Connection, t: Ticket, due_at: datetime, days: int) -> Deadline:
        deadline = self._deadline(c, t, lambda cal, policy: policy.extended(cal, due_at, days))
        return deadline or Deadline(due_at + timedelta(days=days), True)

    def _skip_reminders_already_inside(self, c: sqlite3.Connection, t: Ticket, column: str, now: datetime) -> None:
        """A deadline set closer than a reminder's offset gets no such reminder: the card itself is the news."""
        due = getattr(t, column)
        if due is None:
            return
        try:
            left = self.d.config.city.calendar().working_seconds_between(now, due)
        except UnknownYear:
            return
        for hours in self.d.config.reminders.before_working_hours:
            if left <= hours * 3600:
                deadlines.record(c, t.id, column, f"before:{hours:g}h", due, now)

    def recompute_provisional(self, c: sqlite3.Connection, now: datetime) -> int:
        """Provisional deadlines whose year is now declared get their real value (extensions are re-applied)."""
        count = 0
        for ticket_id in deadlines.provisional_open(c):
            t = tickets.get(c, ticket_id)
            assert t is not None
            fields: dict[str, Any] = {}
            try:
                cal, policy = self.d.config.city.calendar(), self.d.config.deadlines.policy()
                if t.state == TicketState.DISPATCHED and t.dispatched_at:
                    d = policy.sign_due(cal, t.dispatched_at)
                    fields = {"sign_due_at": d.at, "deadline_provisional": d.provisional}
                elif t.accepted_at:
                    d = policy.handling_due(cal, t.accepted_at, t.deadline_class)
                    extra = extensions.approved_days(c, t.id)
                    if extra:
                        d = policy.extended(cal, d.at, int(extra))
                    fields = {"due_at": d.at, "deadline_provisional": d.provisional}
            except UnknownYear:
                continue
            if not fields or fields["deadline_provisional"]:
                continue
            t = tickets.update(c, t.id, t.version, now, **fields)
            tickets.add_event(c, t.id, now, actor_kind="system", action="deadline_recomputed", public=False)
            self._refresh_cards(c, t, now)
            count += 1
        return count

    def auto_close(self, c: sqlite3.Connection, t: Ticket, now: datetime) -> Ticket:
        """A resolved case the resident did not rate in time is closed (for the scheduler's sweep)."""
        state = self._next(t, Action.AUTO_CLOSE)
        t = tickets.update(c, t.id, t.version, now, state=state, closed_at=now)
        tickets.add_event(c, t.id, now, actor_kind="system", action="auto_closed", from_state=TicketState.RESOLVED,
                          to_state=state, unit=t.unit)
        self._tell_people(c, t, now, "notify.closed")
        self._refresh_cards(c, t, now)
        return t

    # -- dispatch and cards --------------------------------------------------------------------------------------

    def _dispatch(self, c: sqlite3.Connection, t: Ticket, unit: str, now: datetime, action: Action,
                  actor: Actor | None, event: str, lead: bool = False, data: dict[str, Any] | None = None,
                  tell: bool = True) -> Ticket:
        before = t.state
        state = self._next(t, action)
        fields: dict[str, Any] = {"state": state, "unit": unit, "lead": lead, "dispatched_at": now,
                                  "accepted_at": None, "due_at": None, **self._sign_due(c, t, now)}
        if t.first_dispatched_at is None:
            fields["first_dispatched_at"] = now
        t = tickets.update(c, t.id, t.version, now, **fields)
        self._skip_reminders_already_inside(c, t, "sign_due_at", now)
        tickets.add_event(c, t.id, now, actor_kind="coordinator" if actor else "system",
                          actor_id=actor.user_id if actor else None, action=event, from_state=before, to_state=state,
                          unit=unit, data=data)
        self._refresh_cards(c, t, now)
        chat = chats.chat_for(c, "unit", unit)
        if chat is not None:
            self._post_card(c, t, "unit", chat, self._render(c, t, "unit"), now)
        else:
            self._to_coordination(c, t, now, notes=(("card.no_chat", {"unit": unit_name(self.d.config.city, unit,
                                                                                          GROUP_LANG)}),))
        if tell:
            self._tell_people(c, t, now, "notify.lead" if lead else "notify.dispatched")
        return t

    def _to_coordination(self, c: sqlite3.Connection, t: Ticket, now: datetime,
                         return_reason: tuple[str, str] | None = None,
                         notes: tuple[tuple[str, dict[str, Any]], ...] = ()) -> None:
        chat = chats.chat_for(c, "coordination")
        if chat is None:
            return  # nobody to tell yet; /open and /ticket still show it, and binding the group is step one
        extras = self._extras(c, t, return_reason=return_reason, notes=notes)
        payload = cards.coordination_card(self.d.texts, self.d.config.city, t, extras)
        self._post_card(c, t, "coordination", chat, payload, now)

    def _extras(self, c: sqlite3.Connection, t: Ticket, return_reason: tuple[str, str] | None = None,
                notes: tuple[tuple[str, dict[str, Any]], ...] = ()) -> CardExtras:
        if return_reason is None and t.state == TicketState.RETURNED:
            return_reason = tickets.last_return(c, t.id)
        return CardExtras(photo_count=tickets.photo_count(c, t.id), helpers=tuple(tickets.helpers(c, t.id)),
                          return_reason=return_reason, note_keys=notes)

    def _render(self, c: sqlite3.Connection, t: Ticket, kind: str, chat_id: int | None = None) -> dict[str, Any]:
        extras = self._extras(c, t)
        city, texts = self.d.config.city, self.d.texts
        if kind == "unit":
            current = chats.chat_for(c, "unit", t.unit) if t.unit else None
            return cards.unit_card(texts, city, t, extras, actionable=chat_id is None or chat_id == current)
        if kind == "helper":
            return cards.helper_card(texts, city, t, extras)
        return cards.coordination_card(texts, city, t, extras)

    def _post_card(self, c: sqlite3.Connection, t: Ticket, kind: str, chat_id: int, payload: dict[str, Any],
                   now: datetime, with_media: bool = True) -> None:
        """Queue a card (after the map pin and photos for a unit); the chat's older card of the ticket keeps its
        text but loses its buttons, so only the newest card acts."""
        old_message, _ = chats.card_message(c, t.id, kind, chat_id)
        if old_message is not None:
            retired = {"text": payload["text"], "parse_mode": "HTML", "reply_markup": {"inline_keyboard": []},
                       "message_id": old_message}
            self._edit_card(c, t, kind, chat_id, retired, now)
        if with_media and kind in ("unit", "helper"):
            self._queue_media(c, t, chat_id, now)
        row_id = outbox.add(c, chat_id, "card", {**payload, "ticket_id": t.id, "kind": kind}, now, ticket_id=t.id)
        if row_id is not None:
            chats.card_queued(c, t.id, kind, chat_id, row_id)

    def _edit_card(self, c: sqlite3.Connection, t: Ticket, kind: str, chat_id: int, payload: dict[str, Any],
                   now: datetime) -> None:
        """Queue an edit of the card as it is now: by its message id, or by the outbox row still sending it."""
        if "message_id" not in payload:
            message_id, card_row = chats.card_message(c, t.id, kind, chat_id)
            if message_id is None and card_row is None:
                return
            payload = {**payload, "message_id": message_id} if message_id else {**payload, "card_row": card_row}
        outbox.add(c, chat_id, "edit_card", payload, now, ticket_id=t.id)

    def _refresh_cards(self, c: sqlite3.Connection, t: Ticket, now: datetime) -> None:
        """Redraw every card of the ticket so its text and buttons match the new state."""
        for kind, chat_id in chats.cards_of(c, t.id):
            if kind.startswith("extension:"):
                continue
            self._edit_card(c, t, kind, chat_id, self._render(c, t, kind, chat_id), now)

    def _queue_media(self, c: sqlite3.Connection, t: Ticket, chat_id: int, now: datetime) -> None:
        city = self.d.config.city
        if t.lat is not None and t.lon is not None:
            if t.place_key:
                place = city.place(t.place_key)
                outbox.add(c, chat_id, "venue", {"latitude": t.lat, "longitude": t.lon,
                                                 "title": place.name(GROUP_LANG),
                                                 "address": unit_name(city, place.unit, GROUP_LANG)}, now,
                           ticket_id=t.id)
            else:
                outbox.add(c, chat_id, "location", {"latitude": t.lat, "longitude": t.lon}, now, ticket_id=t.id)
        photo_rows = [row_id for row_id, _ in tickets.photos_of(c, t.id, "report")]
        if photo_rows:
            outbox.add(c, chat_id, "photos", {"photo_rows": photo_rows}, now, ticket_id=t.id)

    # -- people --------------------------------------------------------------------------------------------------

    def _lang_of(self, c: sqlite3.Connection, user_id: int) -> str:
        user = users.get(c, user_id)
        return user.language if user else GROUP_LANG

    def _tell_people(self, c: sqlite3.Connection, t: Ticket, now: datetime, key: str, extra_key: str | None = None,
                     **params: Any) -> None:
        """The reporter and everyone following the ticket hear of the change, each in their language."""
        city = self.d.config.city
        for user_id in tickets.followers(c, t.id):
            user = users.get(c, user_id)
            if user is None or not user.reachable:
                continue
            lang = user.language
            text = self.d.texts.get(lang, key, number=format_number(t.number),
                                    unit=unit_name(city, t.unit, lang), due=when(t.due_at, city), **params)
            if extra_key:
                text += "\n" + self.d.texts.get(lang, extra_key, due=when(t.due_at, city))
            outbox.add(c, user_id, "message", {"text": text}, now, ticket_id=t.id,
                       dedupe_key=f"t{t.id}:v{t.version}:{key}:{user_id}")

    def _tell_resolved(self, c: sqlite3.Connection, t: Ticket, now: datetime) -> None:
        """The answer (and its photo) to the reporter with the rating buttons; followers hear it without them."""
        city = self.d.config.city
        answer_photos = [row_id for row_id, _ in tickets.photos_of(c, t.id, "answer")][-1:]
        for user_id in tickets.followers(c, t.id):
            user = users.get(c, user_id)
            if user is None or not user.reachable:
                continue
            lang = user.language
            if answer_photos:
                outbox.add(c, user_id, "photos", {"photo_rows": answer_photos}, now, ticket_id=t.id)
            text = self.d.texts.get(lang, "notify.resolved", number=format_number(t.number),
                                    unit=unit_name(city, t.unit, lang), answer=t.answer or "")
            payload: dict[str, Any] = {"text": text}
            if user_id == t.reporter_id:
                payload["reply_markup"] = cards.rating_buttons(self.d.texts, lang, t)
            outbox.add(c, user_id, "message", payload, now, ticket_id=t.id,
                       dedupe_key=f"t{t.id}:v{t.version}:resolved:{user_id}")


__all__ = ["Actor", "Handling"]
