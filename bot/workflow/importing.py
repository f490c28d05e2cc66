"""Importing a hotline ledger: open cases enter the workflow, finished ones go straight into the ledger.

- An OPEN case is one use-case of its own (one transaction): ``Intake.register`` with the case's received time as
  "now", so it is numbered, routed (to the unit the ledger names, else by the city's routing) and its deadlines
  run from when the hotline received it; its card goes to the unit's chat like any new ticket's. Its reporter is
  the import's stand-in (``channels.reporter_for("import")``), unreachable, so no resident message is queued.
- FINISHED cases (closed, rejected, withdrawn) are history: a batch of them is one transaction of executemany
  rows (storage.imports): the ticket in its final state with its times, unit, answer and rating, the on-time flag
  from the working calendar (finished by the handling deadline counted from the received time), its events walked
  through the lifecycle specification (registered → dispatched → accepted → resolved → closed, or → rejected /
  withdrawn) at the ledger's times, and its rating round. No card, no outbox row.
- Idempotent: every case records (source, case id) in ``ticket_sources``; a known case is skipped, inside the
  same transaction that would write it, so a re-run after a crash continues where the last whole batch ended.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time

from bot.domain import channels
from bot.domain.calendar import UnknownYear
from bot.domain.ledger_import import BadRow, ImportRow, RowParser
from bot.domain.lifecycle import Action, TicketState, plan
from bot.domain.numbers import number_for_sequence
from bot.domain.rating import summary
from bot.workflow.common import WorkflowDeps
from bot.workflow.dispatch import Dispatcher
from bot.workflow.intake import TICKET_SEQUENCE, Filed, Intake
from storage import imports, tickets
from storage.records import Ticket, to_db

BATCH = 5_000
#: A finished case ready to write: (source case id, ticket columns after id and number, events without the ticket
#: id, rating round without the ticket id or None).
Prepared = tuple[str, tuple[object, ...], list[tuple[object, ...]], tuple[object, ...] | None]
ACTOR = ("import", 0)
REPORTER = channels.reporter_for(channels.IMPORT)
_S = TicketState


def _walk(*actions: Action) -> tuple[tuple[str, str, str, str, int], ...]:
    """(actor, event, from, to, public) of each step from registered, as the specification has them."""
    out, state = [], _S.REGISTERED
    for action in actions:
        move = plan(state, action)
        out.append((move.transition.actor.value, move.transition.event, move.from_state.value,
                    move.to_state.value, int(move.transition.public)))
        state = move.to_state
    return tuple(out)


# The steps of a finished case after its registration; the first one or two happen at the received time
# (dispatched, accepted), the rest at the finished time.
_CLOSED_RATED = _walk(Action.DISPATCH, Action.ACCEPT, Action.RESOLVE, Action.RATE_SATISFIED)
_CLOSED_UNRATED = _walk(Action.DISPATCH, Action.ACCEPT, Action.RESOLVE, Action.AUTO_CLOSE)
_AT_RECEIVED = 2  # a closed case's dispatch and sign-for (a rejected or withdrawn one's dispatch, if any)
_FINAL = {
    ("rejected", True): _walk(Action.DISPATCH, Action.REJECT), ("rejected", False): _walk(Action.REJECT),
    ("withdrawn", True): _walk(Action.DISPATCH, Action.WITHDRAW), ("withdrawn", False): _walk(Action.WITHDRAW),
}


@dataclass(frozen=True)
class Refusal:
    line: int
    ref: str
    reason: str


@dataclass
class ImportSummary:
    rows: int = 0
    open: int = 0
    finished: int = 0
    known: int = 0
    refused: list[Refusal] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.open + self.finished


class _HandlingDue:
    """The handling deadline of a case received at a moment (signed for on receipt), cached per local day: the
    calendar's answer depends only on the day and on whether the moment is after that day's working hours."""

    def __init__(self, deps: WorkflowDeps) -> None:
        self.cal = deps.config.city.calendar()
        self.policy = deps.config.deadlines.policy()
        self.tz = deps.config.city.timezone
        self._days: dict[tuple[object, str], tuple[datetime | None, datetime | None, datetime | None]] = {}

    def __call__(self, received: datetime, deadline_class: str) -> datetime | None:
        day = received.astimezone(self.tz).date()
        key = (day, deadline_class)
        entry = self._days.get(key)
        if entry is None:
            entry = self._days[key] = self._compute(day, deadline_class)
        end_of_hours, before, after = entry
        return after if end_of_hours is None or received >= end_of_hours else before

    def _compute(self, day: object, deadline_class: str) -> tuple[datetime | None, datetime | None, datetime | None]:
        midnight = datetime.combine(day, time(0), self.tz)  # type: ignore[arg-type]
        late = datetime.combine(day, time(23, 59, 59, 999999), self.tz)  # type: ignore[arg-type]
        try:
            before = self.policy.handling_due(self.cal, midnight, deadline_class).at
            after = self.policy.handling_due(self.cal, late, deadline_class).at
            end = self.cal.add_working_days(midnight, 0).at if before != after else None
        except UnknownYear:
            return None, None, None
        return end, before, after


class LedgerImport:
    """The import's use-cases (see the module docstring)."""

    def __init__(self, deps: WorkflowDeps, dispatcher: Dispatcher) -> None:
        self.d = deps
        self.dispatcher = dispatcher
        self.intake = Intake(deps, self._route)
        self._named_unit: str | None = None  # the unit the row being registered names (read by _route)
        self._due = _HandlingDue(deps)

    def _route(self, c: sqlite3.Connection, ticket: Ticket, now: datetime) -> Ticket:
        """Called by ``Intake.register`` inside its transaction: the ledger's own unit, else the city's routing."""
        unit = self._named_unit
        if unit is None:
            return self.dispatcher.route_registered(c, ticket, now)
        rule = self.dispatcher.sensitive_rule(ticket)
        ticket = tickets.update(c, ticket.id, ticket.version, now, district=self._district(unit) or ticket.district,
                                sensitive=rule)
        ticket = self.dispatcher.dispatch(c, ticket, unit, now, Action.DISPATCH, tell=False)
        if rule:
            self.dispatcher.messages.sensitive_alerts(c, ticket, rule, now)
        return ticket

    def _district(self, unit: str | None) -> str | None:
        """The district (or zone) a case handled by ``unit`` lies in, when the unit is one."""
        if unit is None:
            return None
        return unit if self.d.config.city.unit(unit).kind in ("district", "zone") else None

    # -- open cases: one use-case each ----------------------------------------------------------------------------

    async def import_open(self, source: str, row: ImportRow) -> Ticket | None:
        """Register and route an open case at its received time; None (nothing written) if already imported."""

        def tx(c: sqlite3.Connection) -> Ticket | None:
            if imports.ticket_of(c, source, row.ref) is not None:
                return None
            self._named_unit = row.unit
            try:
                ticket = self.intake.register(
                    c, Filed(category=row.category, description=row.text,
                             location_source="text" if row.address else "none", place_text=row.address),
                    reporter_id=REPORTER, photos=(), actor=ACTOR, now=row.received, channel=channels.IMPORT,
                    channel_client=source)
            finally:
                self._named_unit = None
            imports.remember(c, source, row.ref, ticket.id)
            return ticket

        return await self.d.write(tx)

    # -- finished cases: a batch per transaction ------------------------------------------------------------------

    async def import_finished(self, source: str, rows: list[ImportRow]) -> int:
        """Write the batch's cases not yet imported; how many were written (the rest were known)."""
        if not rows:
            return 0
        prepared = [self.prepare(source, r) for r in rows]
        return await self.d.db.write(lambda c: self._finished_tx(c, source, prepared))

    def prepare(self, source: str, r: ImportRow) -> Prepared:
        """Everything of a finished case's rows but its id and number (known only inside the transaction): built
        outside it, so the next batch is built while the database writes this one."""
        category = self.d.config.city.category(r.category)
        received, finished = to_db(r.received), to_db(r.finished)  # type: ignore[arg-type]
        events = [(received, ACTOR[0], "registered", None, _S.REGISTERED.value, None, 1)]
        dispatched = received if r.unit else None
        due = resolved_on_time = accepted = resolved = None
        if r.state == "closed":
            steps = _CLOSED_RATED if r.rating and r.rating.satisfaction != "dissatisfied" else _CLOSED_UNRATED
            due_at = self._due(r.received, category.deadline_class)
            if due_at is not None:
                due, resolved_on_time = to_db(due_at), int(r.finished <= due_at)  # type: ignore[operator]
            accepted, resolved = received, finished
        else:
            steps = _FINAL[(r.state, r.unit is not None)]
        at_received = _AT_RECEIVED if r.state == "closed" else int(r.unit is not None)
        for n, (actor, event, frm, to, public) in enumerate(steps):
            events.append((received if n < at_received else finished, actor, event, frm, to, r.unit, public))
        rating = r.rating
        rating_row = None if rating is None else (
            1, 1, REPORTER, finished, rating.solved.value if rating.solved else None, rating.satisfaction.value)
        ticket = (
            r.state, category.key, REPORTER, r.text, "text" if r.address else "none", r.address, r.unit,
            self._district(r.unit), category.deadline_class, due, received, finished, finished, dispatched,
            dispatched, accepted, resolved, r.answer, summary(rating.satisfaction) if rating else None,
            resolved_on_time, rating.solved.value if rating and rating.solved else None,
            rating.satisfaction.value if rating else None, channels.IMPORT, source,
        )
        return r.ref, ticket, events, rating_row

    @staticmethod
    def _finished_tx(c: sqlite3.Connection, source: str, prepared: list[Prepared]) -> int:
        seen = imports.known(c, source, [p[0] for p in prepared])
        new = [p for p in prepared if p[0] not in seen] if seen else prepared
        if not new:
            return 0
        ids = imports.new_ticket_ids(c, len(new))
        first_seq = imports.reserve_sequence(c, TICKET_SEQUENCE, len(new))
        rows, events, ratings, refs = [], [], [], []
        for i, (tid, (ref, ticket, steps, rating)) in enumerate(zip(ids, new, strict=True)):
            rows.append((tid, number_for_sequence(first_seq + i), *ticket))
            events.extend((tid, *e) for e in steps)
            if rating is not None:
                ratings.append((tid, *rating))
            refs.append((ref, tid))
        imports.insert_finished(c, source, rows, events, ratings, refs)
        return len(new)

    async def known_refs(self, source: str, refs: list[str]) -> set[str]:
        return await self.d.db.read(lambda c: imports.known(c, source, refs))

    # -- a whole file ---------------------------------------------------------------------------------------------

    async def run(self, source: str, parser: RowParser, header: list[str], rows: Iterable[tuple[int, list[str]]],
                  *, dry_run: bool = False, progress: Callable[[int], None] | None = None,
                  batch: int | None = None) -> ImportSummary:
        """Parse and import every row; bad rows are refused with their line number and do not stop the import."""
        out = ImportSummary()
        batch = batch or BATCH
        self._due = _HandlingDue(self.d)  # the calendar and deadlines of the config as it is now
        index = {name: header.index(col) for name, col in parser.m.columns.items() if col in header}
        in_file: dict[str, int] = {}
        pending: list[ImportRow] = []
        writing: asyncio.Task[None] | None = None  # the batch the database is writing while the next is read

        async def write(batch_rows: list[ImportRow]) -> None:
            if dry_run:
                written = len(batch_rows) - len(await self.known_refs(source, [r.ref for r in batch_rows]))
            else:
                written = await self.import_finished(source, batch_rows)
            out.finished += written
            out.known += len(batch_rows) - written

        async def flush(wait: bool = False) -> None:
            nonlocal writing, pending
            if writing is not None:
                await writing
                writing = None
            if pending:
                writing = asyncio.create_task(write(pending))
                pending = []
                await asyncio.sleep(0)  # hand it to the database's thread, then read on
            if wait and writing is not None:
                await writing
                writing = None

        for line, cells in rows:
            out.rows += 1
            get = {name: cells[i] if i < len(cells) else "" for name, i in index.items()}
            try:
                row = parser.parse(line, get)
                first = in_file.setdefault(row.ref, line)
                if first != line:
                    raise BadRow(f"case id repeated (first on line {first})")
            except BadRow as bad:
                out.refused.append(Refusal(line, get.get("id", "").strip(), str(bad)))
                continue
            if row.is_open:
                await flush(wait=True)  # one writer at a time, and the file's order kept
                if dry_run:
                    known = await self.known_refs(source, [row.ref])
                    out.open += not known
                    out.known += bool(known)
                elif await self.import_open(source, row) is None:
                    out.known += 1
                else:
                    out.open += 1
            else:
                pending.append(row)
                if len(pending) >= batch:
                    await flush()
            if progress is not None and out.rows % 1000 == 0:
                progress(out.rows)
        try:
            await flush(wait=True)
        finally:
            if writing is not None:  # an error while reading: the batch being written is still whole or nothing
                await asyncio.gather(writing, return_exceptions=True)
        if progress is not None:
            progress(out.rows)
        return out

