"""Demo data: a realistic year of the platform, for the demo, the reports and the benchmarks.

``seed_demo`` writes tickets, their events and fake reporters straight into a database with large
bulk transactions through storage.bulk (no use-cases: 1.5M tickets must take minutes, not hours). Every step of a
ticket's life goes through ``bot.domain.lifecycle.plan``, so its events carry the specification's event name,
actor, public flag and real from/to states; whatever would happen after the end of the seeded year ("now") is cut
off, so the newest tickets are still open, some waiting for a rating. The columns the reports read (``unit``,
``district``, ``signed_on_time``, ``resolved_on_time``, ``due_at``, ``rating``, ``reopen_count``, ``bounces``…)
are set as the workflow sets them. ``seed_tickets`` is the same walk for tickets the benchmarks and tests want in
a given state with given deadlines (the shortest route through the specification to that state).

Shape of the data (the platform's published figures for Fuyang: about 1.5 million cases a year):

- about 2,000 tickets a day, scaled to the requested total, fewer at weekends and at night;
- categories: the city file lists the five most frequent first; they get 11, 9, 8.5, 7.5 and 6 % (42 %
  together), the next ones a decreasing 5.5, 5, 4.5 … % (at least 0.5 %), and the last category (the
  catch-all "other") whatever is left;
- districts by rough population (known Fuyang keys, 1.0 for any other district; a zone gets a fifth of that);
- ~1 % re-complaints (rated dissatisfied, reopened, answered again), a few percent misrouted at first (returned
  by the unit, a bounce, then given a lead by a coordinator; or transferred by a coordinator, which is a decision
  and no bounce), ~1 % rejected, ~1.5 % stuck with their unit and overdue,
  each unit with its own punctuality so the rankings differ.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.config import LOCAL, Category, City
from bot.domain.deadlines import DEFAULT_CLASS_DAYS
from bot.domain.lifecycle import (
    FINAL_STATES,
    OPEN_STATES,
    SIGN_CLOCK_STATES,
    TRANSITIONS,
    Action,
    DeadlineEffect,
    Move,
    TicketState,
    plan,
)
from bot.domain.numbers import number_for_sequence
from bot.domain.rating import Satisfaction, Solved, summary
from storage import bulk
from storage.bulk import BulkLoader
from storage.db import Database

TICKETS_PER_DAY = 2000
FAKE_USER_BASE = 9_000_000_000_000  # far above real Telegram ids, so demo reporters never collide with people
BATCH = 20_000

# Rough populations (millions) of Fuyang's county-level areas; other cities' districts weigh 1.0 each.
_POPULATION = {
    "yingzhou": 0.9, "yingquan": 0.7, "yingdong": 0.8, "jieshou": 0.8,
    "linquan": 2.3, "taihe": 1.8, "funan": 1.7, "yingshang": 1.7,
}
_TOP_FIVE = (11.0, 9.0, 8.5, 7.5, 6.0)
_SIGN_HOURS = 24  # sign for within a day of dispatch
_RATING_DAYS = 7  # unrated tickets close on their own after a week
# Hours of the day, local time: people complain in the daytime and the evening.
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 10, 11, 12, 12, 11, 10, 9, 9, 8, 6, 4, 2)

_DESCRIPTIONS = (
    "{cat}问题，已持续一段时间，请尽快处理。（演示数据 {n}）",
    "反映{cat}方面的情况，希望相关部门核实解决。（演示数据 {n}）",
    "关于{cat}：多次反映未果，请给予答复。（演示数据 {n}）",
)



@dataclass(frozen=True)
class SeedStats:
    tickets: int
    events: int
    users: int
    open: int
    overdue: int
    reopened: int
    bounced: int
    first_day: date
    last_day: date
    seconds: float


def category_weights(categories: tuple[Category, ...]) -> list[float]:
    """Percent weights in the platform's proportions (see the module docstring); they sum to 100."""
    n = len(categories)
    if n <= len(_TOP_FIVE):
        head = list(_TOP_FIVE[:n])
        return [w * 100 / sum(head) for w in head]
    weights = list(_TOP_FIVE)
    for i in range(n - len(_TOP_FIVE) - 1):
        weights.append(max(0.5, 5.5 - 0.5 * i))
    rest = 100 - sum(weights)
    if rest < 0.5:  # many categories: scale the spread ones down to leave the catch-all its share
        scale = (100 - sum(_TOP_FIVE) - 0.5) / sum(weights[len(_TOP_FIVE):])
        weights[len(_TOP_FIVE):] = [w * scale for w in weights[len(_TOP_FIVE):]]
        rest = 100 - sum(weights)
    weights.append(rest)
    return weights


def _district_weights(city: City) -> tuple[list[str], list[float]]:
    keys, weights = [], []
    for unit in city.units:
        if unit.kind == "district":
            keys.append(unit.key)
            weights.append(_POPULATION.get(unit.key, 1.0))
    for unit in city.units:
        if unit.kind == "zone":
            keys.append(unit.key)
            weights.append(0.2 * (sum(weights) / max(1, len(weights))))
    return keys, weights


def _calendar_days(working_days: int) -> float:
    """Working days as calendar days, roughly (a weekend per five working days)."""
    return working_days + 2 * (working_days // 5) + (0.6 if working_days % 5 else 0)


def _iso(when: datetime) -> str:
    """As the storage layer writes times (UTC, microseconds)."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


class _Year:
    """Draws one ticket's life at a time; holds the city-derived tables and the random generator."""

    def __init__(self, city: City, tickets: int, year_end: date, rnd: random.Random) -> None:
        self.city = city
        self.rnd = rnd
        tz = city.timezone
        self.first_day = year_end - timedelta(days=364)
        self.now = datetime.combine(year_end + timedelta(days=1), time(0), tz).astimezone(UTC)
        self.days = [self.first_day + timedelta(days=i) for i in range(365)]
        day_weights = [0.75 if d.weekday() >= 5 else 1.0 for d in self.days]
        self.day_cum = _cumulative(day_weights)
        self.hour_cum = _cumulative(_HOUR_WEIGHTS)
        self.categories = city.categories
        self.cat_cum = _cumulative(category_weights(city.categories))
        self.district_keys, dw = _district_weights(city)
        self.district_cum = _cumulative(dw)
        self.units = [u.key for u in city.units]
        # Each unit's punctuality: its share of late answers and of slow sign-fors.
        self.late = {u: rnd.uniform(0.03, 0.2) for u in self.units}
        self.slow_sign = {u: rnd.uniform(0.01, 0.1) for u in self.units}
        self.tz = tz
        self.per_ticket_users = max(1, int(tickets * 0.6))

    def pick(self, cum: list[float]) -> int:
        return _bisect(cum, self.rnd.random() * cum[-1])

    def created_at(self) -> datetime:
        day = self.days[self.pick(self.day_cum)]
        hour = self.pick(self.hour_cum)
        local = datetime.combine(day, time(hour), self.tz) + timedelta(seconds=self.rnd.random() * 3600)
        return local.astimezone(UTC)

    def unit_for(self, category: Category, district: str | None) -> str | None:
        route = category.route_in(district)
        if route == LOCAL:
            return district
        return route


def _cumulative(weights: list[float] | tuple[float, ...]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _bisect(cum: list[float], x: float) -> int:
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


class _Life:
    """One ticket's history: each step is a move of the lifecycle specification, recorded until it would pass
    "now", then the ticket stops."""

    def __init__(self, tid: int, now: datetime, created: datetime) -> None:
        self.tid = tid
        self.now = now
        self.events: list[tuple[object, ...]] = [_registered_event(tid, created)]
        self.state = TicketState.REGISTERED
        self.stopped = False
        self.last: datetime | None = created
        self.bounces = 0

    def event(self, at: datetime, action: Action, unit: str | None, reason: str | None = None,
              is_lead: bool = False) -> Move | None:
        """Record ``action`` at ``at`` and return its move; None (and nothing recorded) once the year has ended."""
        if self.stopped or at >= self.now:
            self.stopped = True
            return None
        move = plan(self.state, action, is_lead=is_lead)
        spec = move.transition
        self.events.append((self.tid, _iso(at), spec.actor.value, spec.event, move.from_state.value,
                            move.to_state.value, unit, reason, int(spec.public)))
        self.state = move.to_state
        self.bounces += int(spec.bounce)
        self.last = at
        return move


def _registered_event(tid: int, at: datetime) -> tuple[object, ...]:
    """The intake's own first event (before the lifecycle's first move)."""
    return (tid, _iso(at), "resident", "registered", None, TicketState.REGISTERED.value, None, None, 1)


def _ticket(year: _Year, tid: int, seq: int) -> tuple[tuple[object, ...], list[tuple[object, ...]], dict[str, bool]]:
    """One ticket row, its events, and flags for the statistics."""
    rnd = year.rnd
    category = year.categories[year.pick(year.cat_cum)]
    district = year.district_keys[year.pick(year.district_cum)] if year.district_keys else None
    created = year.created_at()
    life = _Life(tid, year.now, created)
    row: dict[str, object] = {
        "unit": None, "sign_due_at": None, "due_at": None, "closed_at": None, "lead": 0, "bounces": 0,
        "reopen_count": 0, "dispatched_at": None, "first_dispatched_at": None, "accepted_at": None,
        "resolved_at": None, "answer": None, "rating": None, "signed_on_time": None, "resolved_on_time": None,
        "solved": None, "satisfaction": None,
    }
    right_unit = year.unit_for(category, district) or year.units[0]
    handling_days = _calendar_days(DEFAULT_CLASS_DAYS[category.deadline_class])

    def dispatch(at: datetime, unit: str, action: Action) -> bool:
        if not life.event(at, action, unit):
            return False
        row["unit"] = unit
        row["dispatched_at"] = _iso(at)
        row["first_dispatched_at"] = row["first_dispatched_at"] or _iso(at)
        row["sign_due_at"] = _iso(at + timedelta(hours=_SIGN_HOURS))
        row["due_at"] = row["due_at"] or _iso(at + timedelta(days=handling_days))
        return True

    t = created + timedelta(minutes=rnd.uniform(1, 90))
    roll = rnd.random()
    if roll < 0.01:  # declined by a coordinator before dispatch
        life.event(t, Action.REJECT, None, "demo: not a matter for the platform")
        if life.state is TicketState.REJECTED:
            row["closed_at"] = _iso(t)
    else:
        bounce = roll < 0.05
        first = rnd.choice([u for u in year.units if u != right_unit]) if bounce else right_unit
        ok = dispatch(t, first, Action.DISPATCH)
        if ok and bounce:
            t += timedelta(hours=rnd.uniform(0.3, 20))
            if rnd.random() < 0.6:  # the unit returns it (a bounce), a coordinator names the right one lead
                if life.event(t, Action.RETURN, first, "demo: not ours"):
                    t += timedelta(hours=rnd.uniform(0.2, 6))
                    if dispatch(t, right_unit, Action.ASSIGN_LEAD):
                        row["lead"] = 1
            else:  # a coordinator transfers it: a decision, not a bounce
                dispatch(t, right_unit, Action.REDISPATCH)
        if life.state is TicketState.DISPATCHED:
            _handle(year, life, row, t, handling_days)
    row["bounces"] = life.bounces
    state = life.state.value
    row["state"] = state
    events = life.events
    number = number_for_sequence(seq)
    reporter = FAKE_USER_BASE + rnd.randrange(year.per_ticket_users)
    description = _DESCRIPTIONS[tid % len(_DESCRIPTIONS)].format(cat=category.name_zh, n=number)
    updated = events[-1][1]
    ticket = (
        tid, number, state, len(events), category.key, reporter, description, "none", district, row["unit"],
        category.deadline_class, row["sign_due_at"], row["due_at"], _iso(created), updated, row["closed_at"],
        district if district and year.city.unit(district).kind == "zone" else None, row["lead"], row["bounces"],
        row["reopen_count"], row["dispatched_at"], row["first_dispatched_at"], row["accepted_at"],
        row["resolved_at"], row["answer"], row["rating"], row["signed_on_time"], row["resolved_on_time"],
        row["solved"], row["satisfaction"],
    )
    is_open = life.state in OPEN_STATES
    flags = {
        "open": is_open,
        "overdue": is_open and row["due_at"] is not None and str(row["due_at"]) < _iso(year.now),
        "reopened": bool(row["reopen_count"]),
        "bounced": bool(row["bounces"]),
    }
    return ticket, events, flags


def _handle(year: _Year, life: _Life, row: dict[str, object], t: datetime, handling_days: float) -> None:
    """From dispatched: sign for, perhaps ask for more time, answer, get rated (or auto-close), reopen."""
    rnd = year.rnd
    unit = str(row["unit"])
    slow = rnd.random() < year.slow_sign[unit]
    t += timedelta(hours=rnd.uniform(25, 60) if slow else rnd.uniform(0.1, 20))
    if not life.event(t, Action.ACCEPT, unit):
        return
    row["accepted_at"] = _iso(t)
    row["signed_on_time"] = 0 if _iso(t) > str(row["sign_due_at"]) else 1
    if rnd.random() < 0.015:  # stuck: the unit never answers (overdue once the deadline passes)
        return
    if rnd.random() < 0.02:  # more time, granted
        t2 = t + timedelta(days=rnd.uniform(0.5, handling_days * 0.6))
        if life.event(t2, Action.REQUEST_EXTENSION, unit, "demo: needs another department"):
            t2 += timedelta(hours=rnd.uniform(1, 8))
            if life.event(t2, Action.APPROVE_EXTENSION, unit):
                due = datetime.fromisoformat(str(row["due_at"])) + timedelta(days=5)
                row["due_at"] = _iso(due)
    due = datetime.fromisoformat(str(row["due_at"]))
    if rnd.random() < year.late[unit]:
        answer_at = due + timedelta(days=rnd.expovariate(1 / 3))
    else:
        answer_at = t + (due - t) * min(0.98, rnd.betavariate(1.6, 3.5))
    answer_at = max(answer_at, (life.last or t) + timedelta(minutes=5))
    if not life.event(answer_at, Action.RESOLVE, unit):
        return
    row["resolved_at"] = _iso(answer_at)
    row["resolved_on_time"] = 1 if answer_at <= due else 0
    row["answer"] = "已处理。（演示数据）"
    _rate(year, life, row, answer_at, unit, reopen_allowed=True)


def _rate(year: _Year, life: _Life, row: dict[str, object], t: datetime, unit: str, reopen_allowed: bool) -> None:
    rnd = year.rnd
    roll = rnd.random()
    if roll < 0.55:
        at = t + timedelta(hours=rnd.expovariate(1 / 20))
        at = min(at, t + timedelta(days=_RATING_DAYS) - timedelta(minutes=1))
        dissatisfied = reopen_allowed and rnd.random() < 0.02  # ~1 % of all tickets (55 % rate)
        if dissatisfied:
            if not life.event(at, Action.RATE_DISSATISFIED, unit, "demo: not fixed"):
                return
            row["rating"] = "dissatisfied"
            row["reopen_count"] = 1
            # the rating's two answers follow from the ticket's id, not the random stream (the year stays the year)
            row["solved"], row["satisfaction"] = ("unsolved" if life.tid % 2 else "partly"), "dissatisfied"
            at += timedelta(hours=rnd.uniform(1, 30))
            if not life.event(at, Action.ACCEPT, unit):
                return
            row["accepted_at"] = _iso(at)
            at += timedelta(days=rnd.uniform(0.5, 4))
            if not life.event(at, Action.RESOLVE, unit):
                return
            row["resolved_at"] = _iso(at)
            _rate(year, life, row, at, unit, reopen_allowed=False)
            return
        if life.event(at, Action.RATE_SATISFIED, unit):
            row["rating"] = "satisfied"
            row["closed_at"] = _iso(at)
            row["solved"] = "partly" if life.tid % 9 == 0 else "solved"
            row["satisfaction"] = "basic" if life.tid % 4 == 0 else "satisfied"
    else:
        at = t + timedelta(days=_RATING_DAYS)
        if life.event(at, Action.AUTO_CLOSE, unit):
            row["closed_at"] = _iso(at)


def _batches(year: _Year, count: int, first_id: int, first_seq: int) -> Iterator[
        tuple[list[tuple[object, ...]], list[tuple[object, ...]], dict[str, int]]]:
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        tickets, events, stats = [], [], {"open": 0, "overdue": 0, "reopened": 0, "bounced": 0}
        for i in range(done, done + n):
            ticket, evs, flags = _ticket(year, first_id + i, first_seq + i)
            tickets.append(ticket)
            events.extend(evs)
            for k, v in flags.items():
                stats[k] += int(v)
        done += n
        yield tickets, events, stats


async def _prepare(db_path: Path) -> None:
    db = await Database.open(db_path)  # creates and migrates
    await db.close()


def seed_demo(db_path: str | Path, city: City, tickets: int, year_end: date, seed: int = 1) -> SeedStats:
    """Add ``tickets`` demo tickets created over the 365 days ending with ``year_end`` (local dates).

    Synchronous (call it from a thread in async code). Appends to whatever is there: the ticket number
    sequence continues, so running it twice doubles the data rather than clashing.
    """
    import time as _time

    started = _time.perf_counter()
    db_path = Path(db_path)
    asyncio.run(_prepare(db_path))
    rnd = random.Random(seed)
    year = _Year(city, tickets, year_end, rnd)
    totals = {"open": 0, "overdue": 0, "reopened": 0, "bounced": 0}
    events_written = 0
    with BulkLoader(db_path) as load:
        first_id, first_seq = load.next_ticket_id(), load.next_sequence()
        users_before = load.count_users()
        load.begin()
        first_seen = _iso(datetime.combine(year.first_day, time(0), city.timezone).astimezone(UTC))
        load.add_users((FAKE_USER_BASE + i, "zh" if i % 20 else "en", first_seen, first_seen)
                       for i in range(year.per_ticket_users))
        for batch_tickets, batch_events, stats in _batches(year, tickets, first_id, first_seq):
            load.add(batch_tickets, batch_events)
            events_written += len(batch_events)
            for k, v in stats.items():
                totals[k] += v
        load.finish(first_seq + tickets - 1)
        users_after = load.count_users()
    return SeedStats(
        tickets=tickets, events=events_written, users=users_after - users_before, open=totals["open"],
        overdue=totals["overdue"], reopened=totals["reopened"], bounced=totals["bounced"],
        first_day=year.first_day, last_day=year_end, seconds=round(_time.perf_counter() - started, 2),
    )



# -- tickets in a given state (benchmarks, tests) -------------------------------------------------------------------

@dataclass(frozen=True)
class TicketSeed:
    """A ticket wanted in ``state``: it walks the shortest route through the lifecycle specification from
    registration to that state, one step every ``step`` after ``created_at``. ``due`` is the running deadline (the
    sign-for deadline while dispatched, the handling deadline after sign-for); ``resolved_at`` and ``closed_at``
    place the answer and the close where the caller needs them."""

    state: TicketState
    category: str
    unit: str
    deadline_class: str
    created_at: datetime
    reporter_id: int
    due: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    step: timedelta = timedelta(minutes=30)
    description: str = "测试工单"
    signed_on_time: bool | None = None  # recorded at sign-for (none: not recorded)
    solved: Solved | None = None  # the rating's answers, for a route through a rating (none: a one-tap rating)
    satisfaction: Satisfaction | None = None


def route_to(state: TicketState) -> tuple[Action, ...]:
    """The shortest sequence of actions that takes a registered ticket to ``state`` (routing first)."""
    frontier: list[tuple[TicketState, tuple[Action, ...]]] = [(TicketState.REGISTERED, ())]
    seen = {TicketState.REGISTERED}
    while frontier:
        current, path = frontier.pop(0)
        if current is state:
            return path
        for (source, action), target in TRANSITIONS.items():
            if source is current and target not in seen:
                seen.add(target)
                frontier.append((target, (*path, action)))
    raise ValueError(f"no route to {state}")


def seed_tickets(conn: Any, seeds: Iterable[TicketSeed]) -> int:
    """Insert the tickets with their events, each step a move of the specification (inside the caller's
    transaction, on the bot's own connection); returns how many. Ticket numbers continue the sequence."""
    first_id, first_seq = bulk.next_ticket_id(conn), bulk.next_sequence(conn)
    tickets, events = [], []
    for i, seed in enumerate(seeds):
        ticket, evs = _seeded(first_id + i, first_seq + i, seed)
        tickets.append(ticket)
        events.extend(evs)
    bulk.insert(conn, tickets, events)
    if tickets:
        bulk.set_sequence(conn, first_seq + len(tickets) - 1)
    return len(tickets)


def _answers(seed: TicketSeed) -> dict[str, object]:
    """The rating's columns a seed asks for (``rating`` is their summary, as the workflow writes it)."""
    if seed.satisfaction is None:
        return {}
    return {"solved": seed.solved, "satisfaction": seed.satisfaction, "rating": summary(seed.satisfaction)}


def _seeded(tid: int, seq: int, seed: TicketSeed) -> tuple[tuple[object, ...], list[tuple[object, ...]]]:
    life = _Life(tid, datetime.max.replace(tzinfo=UTC), seed.created_at)
    row: dict[str, object] = {}
    at = seed.created_at
    for action in route_to(seed.state):
        at += seed.step
        when = {Action.RESOLVE: seed.resolved_at, Action.RATE_SATISFIED: seed.closed_at,
                Action.AUTO_CLOSE: seed.closed_at}.get(action) or at
        move = life.event(when, action, seed.unit)
        assert move is not None  # a seed's life never reaches the end of time
        effect = move.transition.deadline
        if effect is DeadlineEffect.START_SIGN:
            row |= {"dispatched_at": _iso(when), "first_dispatched_at": row.get("first_dispatched_at", _iso(when))}
        elif effect is DeadlineEffect.START_HANDLING:
            row["accepted_at"] = _iso(when)
        elif effect is DeadlineEffect.STOP_HANDLING:
            row["resolved_at"] = _iso(when)
        elif action is Action.RATE_DISSATISFIED:
            row |= {"rating": "dissatisfied", "reopen_count": 1, **_answers(seed)}
        elif action is Action.RATE_SATISFIED:
            row |= {"rating": "satisfied", **_answers(seed)}
        if effect is DeadlineEffect.START_HANDLING and seed.signed_on_time is not None:
            row["signed_on_time"] = int(seed.signed_on_time)
        if life.state in FINAL_STATES:
            row["closed_at"] = _iso(when)
    due = _iso(seed.due) if seed.due else None
    sign_due, handling_due = (due, None) if seed.state in SIGN_CLOCK_STATES else (None, due)
    values = {
        "id": tid, "number": number_for_sequence(seq), "state": life.state.value, "version": len(life.events),
        "category": seed.category, "reporter_id": seed.reporter_id, "description": seed.description,
        "location_source": "none", "district": seed.unit, "unit": seed.unit, "deadline_class": seed.deadline_class,
        "sign_due_at": sign_due, "due_at": handling_due, "created_at": _iso(seed.created_at),
        "updated_at": life.events[-1][1], "lead": 0, "bounces": life.bounces, "reopen_count": 0, **row,
    }
    return tuple(values.get(c) for c in bulk.TICKET_COLUMNS), life.events
