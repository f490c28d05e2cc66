"""Routing and dispatch: a new ticket goes to the unit its place and category name, or to the coordinators.

:meth:`Dispatcher.route_registered` is the seam the intake calls inside its confirming transaction, so a ticket
is never registered without being routed. :meth:`Dispatcher.dispatch` is shared by routing and by the
coordinators' decisions (lead unit, re-dispatch): one way to hand a case to a unit.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from bot import cards
from bot.cards import unit_name
from bot.domain.lifecycle import Action
from bot.workflow.common import WorkflowDeps
from bot.workflow.messages import Messages
from bot.workflow.transitions import Transitions
from storage import tickets
from storage.records import Ticket


class Dispatcher:
    def __init__(self, deps: WorkflowDeps, transitions: Transitions, messages: Messages) -> None:
        self.d = deps
        self.transitions = transitions
        self.messages = messages

    def route_registered(self, c: sqlite3.Connection, ticket: Ticket, now: datetime) -> Ticket:
        """Route a just-registered ticket (inside the intake's transaction): dispatch it, or hand it to the
        coordinators with the reason; sensitive cases alert the supervisors."""
        city = self.d.config.city
        place_unit = city.place(ticket.place_key).unit if ticket.place_key else None
        route = city.router().route(ticket.category, lat=ticket.lat, lon=ticket.lon, place_unit=place_unit)
        reason = json.dumps({"key": route.reason_key, "params": route.reason_params}, ensure_ascii=False)
        rule = self.sensitive_rule(ticket)
        ticket = tickets.update(c, ticket.id, ticket.version, now, zone=route.zone,
                                district=route.district or ticket.district, route_reason=reason, sensitive=rule)
        if route.unit is not None:
            # the reporter hears of the dispatch in the confirmation itself (one message, not two)
            ticket = self.dispatch(c, ticket, route.unit, now, Action.DISPATCH, tell=False)
        else:
            tickets.add_event(c, ticket.id, now, actor_kind="system", action="unroutable", reason=route.reason_key)
            why = cards.route_reason(self.d.texts, self.messages.lang, city, ticket)
            self.messages.to_coordination(c, ticket, now, notes=(("card.unroutable", {"reason": why}),))
        if rule:
            self.messages.sensitive_alerts(c, ticket, rule, now)
        return ticket

    def sensitive_rule(self, ticket: Ticket) -> str | None:
        """The first keyword (global or the category's own) found in the description, if any."""
        text = ticket.description.casefold()
        category = self.d.config.city.category(ticket.category)
        for word in (*category.keywords, *self.d.config.handling.sensitive_keywords):
            if word and word.casefold() in text:
                return word
        return None

    def dispatch(self, c: sqlite3.Connection, t: Ticket, unit: str, now: datetime, action: Action,
                 by: int | None = None, lead: bool = False, data: dict[str, Any] | None = None,
                 tell: bool = True) -> Ticket:
        """Hand ``t`` to ``unit`` (routing, a lead unit named, a re-dispatch): the card goes to the unit's chat,
        or the coordinators hear that the unit has no chat yet."""
        t = self.transitions.apply(c, t, action, now, by=by, data=data, unit=unit, lead=lead)
        self.messages.refresh_cards(c, t, now)
        if not self.messages.post_unit_card(c, t, unit, now):
            name = unit_name(self.d.config.city, unit, self.messages.lang)
            self.messages.to_coordination(c, t, now, notes=(("card.no_chat", {"unit": name}),))
        if tell:
            self.messages.tell_people(c, t, now, "notify.lead" if lead else "notify.dispatched")
        return t
