"""The resident's rating of the answer (回访): two questions, one tap each (was it solved? how satisfied?), then
an optional reason. An accepted answer closes the case; unsolved or dissatisfied re-opens it at the same unit as a
re-complaint, with a fresh deadline, a fresh card and an alert to the supervision group (``bot.domain.rating``
says which pair does which). An answer nobody rates in time is closed by the sweep (:meth:`Rating.auto_close`,
called inside the sweep's transaction).

Who rates: the reporter, and the reporters of duplicates merged into the ticket (``tickets.raters``). Each of
them gets the rating buttons; the first rating received decides, the others' buttons are spent with it (a later
press is told ``deny.already_rated``). Every rating is a row of ``ticket_ratings`` and an event.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from html import escape

from bot import cards
from bot.domain import channels
from bot.domain.lifecycle import Action, ActorKind, TicketState
from bot.domain.rating import Satisfaction, Solved, reopens, summary
from bot.workflow.common import Refused, WorkflowDeps
from bot.workflow.messages import Messages
from bot.workflow.transitions import Transitions
from storage import chats, tickets
from storage.records import Ticket

REASON_MAX = 500
REASON_QUESTION = "rating_reason"  # the pending input of a typed reason, asked in the rater's private chat


@dataclass(frozen=True)
class Rated:
    ticket: Ticket  # as written
    rated: Ticket  # the answer as it was rated: the reason buttons carry its version
    ask_reason: bool  # not a plain 解决 + 满意: the reason buttons are offered


class Rating:
    def __init__(self, deps: WorkflowDeps, transitions: Transitions, messages: Messages) -> None:
        self.d = deps
        self.transitions = transitions
        self.messages = messages

    @staticmethod
    def _rateable(c: sqlite3.Connection, user_id: int, ticket_id: int, version: int) -> Ticket:
        t = tickets.get(c, ticket_id)
        if t is None:
            raise Refused("deny.stale")
        if t.channel == channels.HOTLINE:  # rated from the callback card, by an operator for the caller
            if not chats.is_operator(c, user_id):
                raise Refused("hotline.not_operator")
        elif user_id not in tickets.raters(c, t):
            raise Refused("deny.not_reporter")
        if t.version != version:  # this answer was rated already (or closed unrated): say so, change nothing
            raise Refused("deny.already_rated" if t.rating or t.state == TicketState.CLOSED else "deny.stale")
        return t

    async def check(self, user_id: int, ticket_id: int, version: int) -> Ticket:
        """The first answer was tapped: the answer may still be rated by this person (nothing is written)."""
        return await self.d.db.read(lambda c: self._rateable(c, user_id, ticket_id, version))

    async def rate(self, user_id: int, ticket_id: int, version: int, solved: Solved | None,
                   satisfaction: Satisfaction) -> Rated:
        """Both answers (``solved`` None: a one-tap rating on an answer sent before the two questions)."""
        def tx(c: sqlite3.Connection) -> Rated:
            now = self.d.clock.now()
            rated = self._rateable(c, user_id, ticket_id, version)
            answers = {"rating": summary(satisfaction), "solved": solved, "satisfaction": satisfaction}
            data = {"solved": solved, "satisfaction": str(satisfaction)}
            why = self._in_words(solved, satisfaction)
            # A hotline caller's rating is the caller's (the stand-in reporter rated), pressed by the operator.
            by_operator = rated.channel == channels.HOTLINE
            kind = ActorKind.OPERATOR if by_operator else None
            if not reopens(solved, satisfaction):
                t = self.transitions.apply(c, rated, Action.RATE_SATISFIED, now, by=user_id, data=data,
                                           reason=why, closed_at=now, as_kind=kind, **answers)
                self.messages.tell_people(c, t, now, "notify.closed")
                self.messages.refresh_cards(c, t, now)
            else:
                t = self.transitions.apply(c, rated, Action.RATE_DISSATISFIED, now, by=user_id, data=data,
                                           reason=why, reopen_count=rated.reopen_count + 1, as_kind=kind,
                                           **answers)
                self.messages.refresh_cards(c, t, now)
                if t.unit:  # a fresh card, so the unit notices the re-complaint
                    self.messages.post_unit_card(c, t, t.unit, now, with_media=False)
                self.messages.recomplaint_alert(c, t, now)
                self.messages.tell_people(c, t, now, "notify.reopened")
            tickets.add_rating(c, rated, rated.reporter_id if by_operator else user_id, now, solved, satisfaction)
            # no reason buttons on the callback card: its redraw says what was rated
            ask_reason = (not by_operator and solved is not None
                          and (solved, satisfaction) != (Solved.SOLVED, Satisfaction.SATISFIED))
            keyboard = None
            if ask_reason:
                keyboard = cards.reason_buttons(self.d.texts, self.messages.lang_of(c, user_id), rated)
            self.messages.drop_all_rating_buttons(c, rated, now, keep=(user_id, keyboard) if keyboard else None)
            return Rated(t, rated, ask_reason)

        return await self.d.write(tx)

    def _in_words(self, solved: Solved | None, satisfaction: Satisfaction) -> str:
        """Both answers as the operators' timeline shows them (the group language)."""
        lang, g = self.messages.lang, self.d.texts.get
        words = [g(lang, f"report.solved_{solved}")] if solved is not None else []
        return " · ".join([*words, g(lang, f"report.satisfaction_{satisfaction}")])

    # -- the reason ----------------------------------------------------------------------------------------------

    async def ask_reason_text(self, user_id: int, ticket_id: int, rated_version: int) -> None:
        """"Type my own": the rater's next private message is the reason."""
        def tx(c: sqlite3.Connection) -> None:
            now = self.d.clock.now()
            self._awaiting_reason(c, user_id, ticket_id, rated_version)
            chats.ask(c, user_id, user_id, REASON_QUESTION, ticket_id, rated_version, {}, now,
                      now + timedelta(minutes=self.d.config.handling.question_ttl_minutes))

        await self.d.write(tx)

    async def pending_reason(self, user_id: int) -> chats.PendingInput | None:
        """The typed reason this person's private chat waits for, if any."""
        now = self.d.clock.now()
        found = await self.d.db.read(lambda c: chats.pending(c, user_id, user_id, now))
        return found if found is not None and found.action == REASON_QUESTION else None

    async def add_reason(self, user_id: int, ticket_id: int, rated_version: int, reason: str) -> None:
        """The reason of this person's rating of the answer at ``rated_version``: an event for the operators."""
        def tx(c: sqlite3.Connection) -> None:
            now = self.d.clock.now()
            rated = self._awaiting_reason(c, user_id, ticket_id, rated_version)
            text = reason.strip()[:REASON_MAX]
            tickets.set_rating_reason(c, ticket_id, rated_version, text, now)
            tickets.add_event(c, ticket_id, now, actor_kind="resident", actor_id=user_id, action="rating_reason",
                              unit=rated.unit, reason=text, public=False)
            if rated.is_open:  # a re-complaint: the unit handling it again hears why
                self.messages.to_unit_chat(c, rated, "rates.unit_reason", now, reason=escape(text))
            chats.answered(c, user_id, user_id)
            # the reason buttons are spent too (after the drop that put them there: a chat's rows go in order)
            self.messages.drop_rating_buttons(c, replace(rated, version=rated_version), user_id, now, step="reason")

        await self.d.write(tx)

    @staticmethod
    def _awaiting_reason(c: sqlite3.Connection, user_id: int, ticket_id: int, rated_version: int) -> Ticket:
        state = tickets.rating_awaiting_reason(c, ticket_id, rated_version, user_id)
        t = tickets.get(c, ticket_id)
        if state is None or t is None:
            raise Refused("deny.stale")
        if state is False:
            raise Refused("rates.reason_done")
        return t

    def auto_close(self, c: sqlite3.Connection, t: Ticket, now: datetime) -> Ticket:
        """A resolved case the resident did not rate in time is closed."""
        rated = t
        t = self.transitions.apply(c, t, Action.AUTO_CLOSE, now, closed_at=now)
        self.messages.tell_people(c, t, now, "notify.closed")
        self.messages.refresh_cards(c, t, now)
        self.messages.drop_all_rating_buttons(c, rated, now)
        return t
