"""The deadline sweep: reminders before a deadline, notices when it passes, escalation of overdue cases, closing
of unrated answers, and the morning digest. Derived from the stored due times, recorded in `reminders` in the same
transaction as the messages, so a restart neither loses nor repeats one.

A reminder is due when a deadline lies within `k` working hours of now. Computing, once per sweep, the instant
`now + k working hours` turns that into a range query on the indexed due time; no per-ticket calendar arithmetic
is needed to find them.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from bot import digests
from bot.domain.calendar import UnknownYear
from bot.workflow.common import WorkflowDeps
from bot.workflow.rating import Rating
from bot.workflow.transitions import Transitions
from storage import chats, deadlines, outbox, tickets
from storage.records import Ticket

BATCH = 20_000  # tickets per kind per sweep; the rest come next sweep

DEADLINE_COLUMNS = ("sign_due_at", "due_at")  # sign-for (while dispatched), handling (accepted, reopened)


@dataclass
class SweepResult:
    reminders: int = 0
    overdue: int = 0
    escalated: int = 0
    auto_closed: int = 0
    messages: int = 0
    chats: int = 0


@dataclass
class _Digest:
    soon: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)


class Sweeper:
    def __init__(self, deps: WorkflowDeps, transitions: Transitions, rating: Rating) -> None:
        self.d = deps
        self.transitions = transitions
        self.rating = rating

    @property
    def lang(self) -> str:
        return self.d.group_lang

    # -- the minute sweep ------------------------------------------------------------------------------------------

    async def sweep(self) -> SweepResult:
        now = self.d.clock.now()
        result = await self.d.db.write(lambda c: self._sweep(c, now))
        if result.messages or result.auto_closed:
            self.d.outbox_kick()
        return result

    def _sweep(self, c: sqlite3.Connection, now: datetime) -> SweepResult:
        result = SweepResult()
        digests: dict[int, _Digest] = defaultdict(_Digest)
        unit_chats = {b.unit: b.chat_id for b in chats.all_bindings(c) if b.role == "unit"}
        supervision = chats.chat_for(c, "supervision")
        calendar = self.d.config.city.calendar()
        listed: set[tuple[int, str]] = set()
        # Nearest offset first: a deadline inside several offsets at once (after downtime, say) is listed once
        # and every offset it passed is recorded.
        for hours in sorted(self.d.config.reminders.before_working_hours):
            try:
                horizon = calendar.add_working_hours(now, hours).at
            except UnknownYear:
                horizon = now + timedelta(hours=hours)  # the calendar warning is sent elsewhere; remind anyway
            kind = f"before:{hours:g}h"
            for t, column in self._due_within(c, now, horizon, kind):
                if not self._record(c, t, column, kind, now) or (t.id, column) in listed:
                    continue
                listed.add((t.id, column))
                chat = unit_chats.get(t.unit)
                if chat is not None:
                    digests[chat].soon.append(self._soon_line(t, column, now))
                result.reminders += 1
        for t, column in self._passed(c, now, "overdue"):
            if not self._record(c, t, column, "overdue", now):
                continue  # a concurrent sweep queued it
            late = self._hours(self._working_seconds(getattr(t, column), now))
            chat = unit_chats.get(t.unit)
            if chat is not None:
                digests[chat].overdue.append(self._late_line("remind.overdue_line", t, column, late))
            result.overdue += 1
            if supervision is not None and self.d.config.reminders.escalate_overdue:
                digests[supervision].escalated.append(self._late_line("remind.escalation_line", t, column, late))
                result.escalated += 1
        result.auto_closed = self._auto_close(c, now)
        send_at = self._send_at(now)
        for chat_id, digest in digests.items():
            result.messages += self._queue_digest(c, chat_id, digest, now, send_at)
        result.chats = len(digests)
        return result

    @staticmethod
    def _due_within(c: sqlite3.Connection, now: datetime, horizon: datetime, kind: str
                    ) -> list[tuple[Ticket, str]]:
        """Open deadlines in (now, horizon] that have not had this reminder (for this very due time)."""
        return [(t, column) for column in DEADLINE_COLUMNS
                for t in deadlines.unreminded(c, column, now, horizon, kind, BATCH)]

    @staticmethod
    def _passed(c: sqlite3.Connection, now: datetime, kind: str) -> list[tuple[Ticket, str]]:
        """Open deadlines at or before now that have not had this notice."""
        return [(t, column) for column in DEADLINE_COLUMNS
                for t in deadlines.unreminded(c, column, None, now, kind, BATCH)]

    @staticmethod
    def _record(c: sqlite3.Connection, t: Ticket, column: str, kind: str, now: datetime) -> bool:
        return deadlines.record(c, t.id, column, kind, getattr(t, column), now)

    def _auto_close(self, c: sqlite3.Connection, now: datetime) -> int:
        cutoff = now - timedelta(days=self.d.config.handling.auto_close_days)
        found = deadlines.resolved_before(c, cutoff, BATCH)
        for t in found:
            self.rating.auto_close(c, t, now)
        return len(found)

    # -- rendering -------------------------------------------------------------------------------------------------

    def _hours(self, seconds: float) -> str:
        return digests.working_hours(self.d.texts, self.lang, seconds)

    def _working_seconds(self, a: datetime, b: datetime) -> float:
        try:
            return self.d.config.city.calendar().working_seconds_between(a, b)
        except UnknownYear:
            return (b - a).total_seconds()

    def _soon_line(self, t: Ticket, column: str, now: datetime) -> str:
        left = self._hours(self._working_seconds(now, getattr(t, column)))
        return digests.deadline_line(self.d.texts, self.lang, self.d.config.city, "remind.soon_line", t, column,
                                     left=left)

    def _late_line(self, key: str, t: Ticket, column: str, late: str) -> str:
        return digests.deadline_line(self.d.texts, self.lang, self.d.config.city, key, t, column, late=late)

    def _queue_digest(self, c: sqlite3.Connection, chat_id: int, digest: _Digest, now: datetime,
                      send_at: datetime) -> int:
        parts = digests.reminder_digest(self.d.texts, self.lang, digest.soon, digest.overdue, digest.escalated)
        for text in parts:
            outbox.add(c, chat_id, "message", {"text": text, "parse_mode": "HTML"}, now, not_before=send_at)
        return len(parts)

    # -- quiet hours -----------------------------------------------------------------------------------------------

    def _send_at(self, now: datetime) -> datetime:
        """Now, or the end of the quiet hours when now falls inside them."""
        cfg, tz = self.d.config.reminders, self.d.config.city.timezone
        start, end = time.fromisoformat(cfg.quiet_from), time.fromisoformat(cfg.quiet_until)
        local = now.astimezone(tz)
        t = local.timetz().replace(tzinfo=None)
        quiet = (start <= t or t < end) if start > end else (start <= t < end)
        if not quiet:
            return now
        morning = datetime.combine(local.date(), end, tzinfo=tz)
        if morning <= local:
            morning += timedelta(days=1)
        return morning

    # -- the morning digest ----------------------------------------------------------------------------------------

    async def morning_digest(self) -> int:
        """Each unit chat's open cases by due time, once a working day (a restart the same morning repeats
        nothing: the rows carry a per-day key)."""
        now = self.d.clock.now()
        local_day = now.astimezone(self.d.config.city.timezone).date()
        try:
            if not self.d.config.city.calendar().is_working_day(local_day):
                return 0
        except UnknownYear:
            pass
        sent = await self.d.db.write(lambda c: self._morning(c, now, local_day.isoformat()))
        if sent:
            self.d.outbox_kick()
        return sent

    def _morning(self, c: sqlite3.Connection, now: datetime, day: str) -> int:
        city = self.d.config.city
        queued = 0
        for binding in chats.all_bindings(c):
            if binding.role != "unit" or binding.unit is None:
                continue
            open_cases = tickets.open_for_unit(c, binding.unit, limit=500)
            if not open_cases:
                continue
            parts = digests.morning_digest(self.d.texts, self.lang, city, binding.unit, open_cases, now)
            for i, part in enumerate(parts, start=1):
                if outbox.add(c, binding.chat_id, "message", {"text": part, "parse_mode": "HTML"}, now,
                              dedupe_key=f"morning:{binding.unit}:{day}:{i}"):
                    queued += 1
        return queued

    # -- start-up --------------------------------------------------------------------------------------------------

    async def startup(self) -> dict[str, Any]:
        """After downtime: recompute provisional deadlines a newly declared year makes exact, and warn when the
        calendar's horizon is near. The catch-up of missed reminders is simply the first sweep."""
        from bot.domain.calendar import coverage

        now = self.d.clock.now()
        city, cfg = self.d.config.city, self.d.config.deadlines
        report = coverage(city.calendar(), now.astimezone(city.timezone).date(), cfg.warn_days_before_horizon)

        def tx(c: sqlite3.Connection) -> int:
            recomputed = self.transitions.recompute_provisional(c, now)
            supervision = chats.chat_for(c, "supervision")
            if supervision is None:
                return recomputed
            if recomputed:
                outbox.add(c, supervision, "message", {"text": self.d.texts.get(
                    self.lang, "calendar.recomputed", count=recomputed)}, now)
            if report.warn:
                text = self.d.texts.get(self.lang, "calendar.horizon_warning", horizon=report.horizon.isoformat(),
                                        days=report.days_left, year=report.next_year)
                outbox.add(c, supervision, "message", {"text": text}, now,
                           dedupe_key=f"calendar:horizon:{report.horizon.isoformat()}:{now.date().isoformat()}")
            return recomputed

        recomputed = await self.d.db.write(tx)
        self.d.outbox_kick()
        return {"recomputed": recomputed, "horizon": report.horizon, "warn": report.warn,
                "days_left": report.days_left}
