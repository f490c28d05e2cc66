"""The seam every state change goes through: apply one row of the lifecycle specification to a ticket.

:meth:`Transitions.apply` is called inside a use-case's transaction. It takes the move from
``bot.domain.lifecycle.plan`` (the from-state is the state the ticket is in, never written by hand), sets the
fields the transition's deadline effect implies, counts a bounce (and escalates after ``handling.max_bounces``),
writes the ticket and its event, and records the reminders a deadline set too close no longer needs. Cards and
notices are the caller's business (``Messages``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.domain.calendar import Deadline, UnknownYear, WorkingCalendar
from bot.domain.deadlines import DeadlinePolicy
from bot.domain.lifecycle import SIGN_CLOCK_STATES, Action, ActorKind, DeadlineEffect, TicketState
from bot.workflow.access import planned
from bot.workflow.common import WorkflowDeps
from bot.workflow.messages import Messages
from storage import deadlines, extensions, tickets
from storage.records import Ticket

E = DeadlineEffect
_CLOCK_COLUMN = {E.START_SIGN: "sign_due_at", E.START_HANDLING: "due_at", E.RESTART_HANDLING: "due_at"}


class Transitions:
    def __init__(self, deps: WorkflowDeps, messages: Messages) -> None:
        self.d = deps
        self.messages = messages

    def apply(self, c: sqlite3.Connection, t: Ticket, action: Action, now: datetime, *, by: int | None = None,
              reason: str | None = None, data: dict[str, Any] | None = None, extend_days: int = 0,
              as_kind: ActorKind | None = None, **fields: Any) -> Ticket:
        """Perform ``action`` on ``t`` (Refused if its state does not allow it); ``fields`` are the action's own
        data (the unit dispatched to, the answer, the rating …). ``as_kind`` records another actor kind than the
        specification's (a hotline operator rating for the caller). Returns the ticket as written."""
        move = planned(t, action)
        spec = move.transition
        changes = {**self._clock_fields(c, t, spec.deadline, now, fields, extend_days), **fields}
        if move.changes_state:
            changes["state"] = move.to_state
        escalate = False
        if spec.bounce:
            changes["bounces"] = t.bounces + 1
            escalate = changes["bounces"] >= self.d.config.handling.max_bounces and not t.escalated
            if escalate:
                changes["escalated"] = True
        new = tickets.update(c, t.id, t.version, now, **changes)
        tickets.add_event(c, t.id, now, actor_kind=as_kind or spec.actor, actor_id=by, action=spec.event,
                          from_state=move.from_state, to_state=move.to_state, unit=new.unit or t.unit,
                          reason=reason, public=spec.public, data=data)
        if escalate:
            tickets.add_event(c, t.id, now, actor_kind="system", action="escalated", public=False,
                              data={"bounces": new.bounces})
        column = _CLOCK_COLUMN.get(spec.deadline)
        if column is not None:
            self._skip_reminders_already_inside(c, new, column, now)
        return new

    # -- deadline effects ---------------------------------------------------------------------------------------

    def _clock_fields(self, c: sqlite3.Connection, t: Ticket, effect: DeadlineEffect, now: datetime,
                      fields: dict[str, Any], extend_days: int) -> dict[str, Any]:
        if effect is E.START_SIGN:
            out = {"dispatched_at": now, "accepted_at": None, "due_at": None, **self._sign_due(c, t, now)}
            if t.first_dispatched_at is None:
                out["first_dispatched_at"] = now
            return out
        if effect is E.START_HANDLING:
            out = {"accepted_at": now}
            if t.signed_on_time is None:
                out["signed_on_time"] = t.sign_due_at is None or now <= t.sign_due_at
            if t.due_at is None:  # a re-opened case keeps the fresh deadline it got
                out.update(self._handling_due(c, t, now, t.deadline_class))
            return out
        if effect is E.RESTART_HANDLING:
            return self._handling_due(c, t, now, t.deadline_class)
        if effect is E.STOP_HANDLING:
            out = {"resolved_at": now}
            if t.resolved_on_time is None:
                out["resolved_on_time"] = t.due_at is None or now <= t.due_at
            return out
        if effect is E.CLEAR:
            return {"sign_due_at": None, "due_at": None}
        if effect is E.EXTEND and t.due_at is not None:
            deadline = self._deadline(c, t, lambda cal, policy: policy.extended(cal, t.due_at, extend_days))
            deadline = deadline or Deadline(t.due_at + timedelta(days=extend_days), True)
            return {"due_at": deadline.at, "deadline_provisional": deadline.provisional}
        if effect is E.RECLASS and t.state == TicketState.ACCEPTED and t.accepted_at:
            # signed for: the handling deadline runs from sign-for under the new class (a re-opened case keeps
            # the fresh deadline its re-complaint started)
            return self._handling_due(c, t, t.accepted_at, fields.get("deadline_class", t.deadline_class))
        return {}

    def _deadline(self, c: sqlite3.Connection, t: Ticket,
                  compute: Callable[[WorkingCalendar, DeadlinePolicy], Deadline]) -> Deadline | None:
        """A deadline from the city's calendar. A year nobody declared is no silent guess: without the
        weekends-only fallback there is no deadline and the supervision group is told which year is missing;
        with it the deadline is provisional and the supervision group is told too."""
        now = self.d.clock.now()
        try:
            deadline = compute(self.d.config.city.calendar(), self.d.config.deadlines.policy())
        except UnknownYear as unknown:
            self.messages.calendar_alert(c, t, "calendar.unknown_year", unknown.year, now)
            return None
        if deadline.provisional:
            year = deadline.at.astimezone(self.d.config.city.timezone).year
            self.messages.calendar_alert(c, t, "calendar.provisional", year, now)
        return deadline

    def _due(self, c: sqlite3.Connection, t: Ticket, column: str,
             compute: Callable[[WorkingCalendar, DeadlinePolicy], Deadline]) -> dict[str, Any]:
        """The fields of one deadline column: the due instant and whether it is provisional (or none at all)."""
        deadline = self._deadline(c, t, compute)
        if deadline is None:
            return {column: None}
        return {column: deadline.at, "deadline_provisional": deadline.provisional}

    def _sign_due(self, c: sqlite3.Connection, t: Ticket, dispatched_at: datetime) -> dict[str, Any]:
        return self._due(c, t, "sign_due_at", lambda cal, policy: policy.sign_due(cal, dispatched_at))

    def _handling_due(self, c: sqlite3.Connection, t: Ticket, start: datetime, deadline_class: str
                      ) -> dict[str, Any]:
        return self._due(c, t, "due_at", lambda cal, policy: policy.handling_due(cal, start, deadline_class))

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

    # -- after the calendar changed -----------------------------------------------------------------------------

    def recompute_provisional(self, c: sqlite3.Connection, now: datetime) -> int:
        """Provisional deadlines whose year is now declared get their real value (extensions are re-applied).
        Called inside the start-up transaction of the sweep."""
        count = 0
        for ticket_id in deadlines.provisional_open(c):
            t = tickets.get(c, ticket_id)
            assert t is not None
            try:
                fields = self._exact_deadline(c, t)
            except UnknownYear:
                continue
            if not fields or fields["deadline_provisional"]:
                continue
            t = tickets.update(c, t.id, t.version, now, **fields)
            tickets.add_event(c, t.id, now, actor_kind="system", action="deadline_recomputed", public=False)
            self.messages.refresh_cards(c, t, now)
            count += 1
        return count

    def _exact_deadline(self, c: sqlite3.Connection, t: Ticket) -> dict[str, Any]:
        cal, policy = self.d.config.city.calendar(), self.d.config.deadlines.policy()
        if t.state in SIGN_CLOCK_STATES and t.dispatched_at:
            d = policy.sign_due(cal, t.dispatched_at)
            return {"sign_due_at": d.at, "deadline_provisional": d.provisional}
        if t.accepted_at:
            d = policy.handling_due(cal, t.accepted_at, t.deadline_class)
            extra = extensions.approved_days(c, t.id)
            if extra:
                d = policy.extended(cal, d.at, int(extra))
            return {"due_at": d.at, "deadline_provisional": d.provisional}
        return {}
