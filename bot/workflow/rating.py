"""The resident's rating of the answer (回访): satisfied closes the case; dissatisfied re-opens it at the same unit
as a re-complaint, with a fresh deadline, a fresh card and an alert to the supervision group. An answer nobody
rates in time is closed by the sweep (:meth:`Rating.auto_close`, called inside the sweep's transaction).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.domain.lifecycle import Action, TicketState
from bot.workflow.common import Refused, WorkflowDeps
from bot.workflow.messages import Messages
from bot.workflow.transitions import Transitions
from storage import tickets
from storage.records import Ticket


class Rating:
    def __init__(self, deps: WorkflowDeps, transitions: Transitions, messages: Messages) -> None:
        self.d = deps
        self.transitions = transitions
        self.messages = messages

    async def rate(self, user_id: int, ticket_id: int, version: int, satisfied: bool) -> Ticket:
        def tx(c: sqlite3.Connection) -> Ticket:
            now = self.d.clock.now()
            t = tickets.get(c, ticket_id)
            if t is None or t.reporter_id != user_id:
                raise Refused("deny.not_reporter" if t else "deny.stale")
            if t.version != version:  # this answer was rated already (or closed unrated): say so, change nothing
                raise Refused("deny.already_rated" if t.rating or t.state == TicketState.CLOSED else "deny.stale")
            rated = t
            if satisfied:
                t = self.transitions.apply(c, t, Action.RATE_SATISFIED, now, by=user_id, rating="satisfied",
                                           closed_at=now)
                self.messages.tell_people(c, t, now, "notify.closed")
                self.messages.refresh_cards(c, t, now)
            else:
                t = self.transitions.apply(c, t, Action.RATE_DISSATISFIED, now, by=user_id, rating="dissatisfied",
                                           reopen_count=t.reopen_count + 1)
                self.messages.refresh_cards(c, t, now)
                if t.unit:  # a fresh card, so the unit notices the re-complaint
                    self.messages.post_unit_card(c, t, t.unit, now, with_media=False)
                self.messages.recomplaint_alert(c, t, now)
                self.messages.tell_people(c, t, now, "notify.reopened")
            self.messages.drop_rating_buttons(c, rated, user_id, now)
            return t

        return await self.d.write(tx)

    def auto_close(self, c: sqlite3.Connection, t: Ticket, now: datetime) -> Ticket:
        """A resolved case the resident did not rate in time is closed."""
        rated = t
        t = self.transitions.apply(c, t, Action.AUTO_CLOSE, now, closed_at=now)
        self.messages.tell_people(c, t, now, "notify.closed")
        self.messages.refresh_cards(c, t, now)
        self.messages.drop_rating_buttons(c, rated, t.reporter_id, now)
        return t
