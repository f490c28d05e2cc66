"""The report's day and month summaries (migration 0009) can never drift from the tickets: after any random walk
of tickets filed and moved through the lifecycle by the workflow's one seam (``Transitions.apply``), with the
fields the use-cases add (units, ratings, re-complaints, merges) and a few deletions, both summary tables equal a
recount from the tickets table, and the report's counts read from them equal the covering-index recount for any
period, whole UTC days or not."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.domain.lifecycle import TRANSITIONS, Action
from bot.texts import Texts
from bot.workflow import WorkflowDeps
from bot.workflow.common import Refused
from bot.workflow.messages import Messages
from bot.workflow.transitions import Transitions
from storage import reports, tickets, users
from storage.records import to_db
from tests.e2e.conftest import e2e_config
from tests.storage.conftest import migrated, rolled_back

START = datetime(2026, 1, 27, 2, 0, tzinfo=UTC)  # a Tuesday; the walk crosses days and months
CATEGORIES = ("housing", "municipal", "traffic")
DISTRICTS = ("yingzhou", "yingquan", None)
UNITS = ("yingzhou", "yingquan", "transport")
_ENDINGS = {Action.MERGE, Action.APPROVE_MERGE, Action.REJECT, Action.WITHDRAW}
_CONFIG = e2e_config(Path(tempfile.mkdtemp(prefix="day-summary-")))

_SUMS = ", ".join(f"sum({f})" for f in reports._SUMMARY_FIELDS)
_RECOUNT = """
SELECT coalesce(unit, ''), coalesce(district, ''), category, substr(created_at, 1, :n),
       sum(state != 'withdrawn'), count(signed_on_time), coalesce(sum(signed_on_time), 0), count(resolved_on_time),
       coalesce(sum(resolved_on_time), 0),
       sum(state IN ('registered', 'dispatched', 'accepted', 'returned', 'reopened')), count(rating),
       coalesce(sum(rating = 'satisfied'), 0), sum(reopen_count > 0), sum(bounces > 0), count(solved),
       coalesce(sum(solved = 'solved'), 0), coalesce(sum(solved = 'partly'), 0), sum(state = 'withdrawn')
FROM tickets WHERE state != 'merged' GROUP BY 1, 2, 3, 4
"""


def _extra(action: Action, t, choice: int, others: list[int]) -> dict:  # type: ignore[no-untyped-def]
    """The fields the use-case that performs ``action`` passes along (see bot/workflow/*)."""
    unit = UNITS[choice % len(UNITS)]
    rating = {"rating": "satisfied" if choice % 2 else "dissatisfied",
              "solved": (None, "solved", "partly", "unsolved")[choice % 4], "satisfaction": "ok"}
    return {
        Action.DISPATCH: {"unit": unit}, Action.ASSIGN_LEAD: {"unit": unit, "lead": True},
        Action.REDISPATCH: {"unit": unit}, Action.RETURN: {"unit": None},
        Action.CHANGE_CLASS: {"deadline_class": ("general", "complex")[choice % 2]},
        Action.RESOLVE: {"answer": "已处理"},
        Action.RATE_SATISFIED: {**rating, "closed_at": None},
        Action.RATE_DISSATISFIED: {**rating, "reopen_count": t.reopen_count + 1},
        Action.MERGE: {"merged_into": others[0] if others else None},
        Action.APPROVE_MERGE: {"merged_into": others[0] if others else None},
    }.get(action, {})


step = st.one_of(
    st.tuples(st.just("file"), st.integers(0, 8), st.integers(0, 60 * 24 * 12)),
    st.tuples(st.just("act"), st.integers(0, 10_000), st.integers(0, 60 * 24 * 3)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.just(0)),
)


_DEPENDENTS = ("events", "followers", "outbox", "reminders", "ticket_ratings", "cards", "ticket_helpers",
               "pending_inputs", "extensions", "inquiries", "ticket_photos", "ticket_contacts")


def _delete_ticket(c: sqlite3.Connection, ticket_id: int) -> None:
    """Delete a ticket and what refers to it (PostgreSQL enforces the foreign keys the bare SQLite one does not)."""
    for table in _DEPENDENTS:
        c.execute(f"DELETE FROM {table} WHERE ticket_id = ?", (ticket_id,))
    c.execute("UPDATE followers SET merged_from = NULL WHERE merged_from = ?", (ticket_id,))
    c.execute("UPDATE tickets SET merged_into = NULL WHERE merged_into = ?", (ticket_id,))
    c.execute("DELETE FROM tickets WHERE id = ?", (ticket_id,))


def _walk(c: sqlite3.Connection, steps: list[tuple[str, int, int]]) -> None:
    clock = FakeClock()
    clock.set(START)
    deps = WorkflowDeps(db=None, config=_CONFIG, clock=clock, texts=Texts())  # type: ignore[arg-type]
    transitions = Transitions(deps, Messages(deps))
    users.upsert(c, 501, "zh", clock.now())
    filed: list[int] = []
    for n, (kind, choice, minutes) in enumerate(steps):
        clock.advance(timedelta(minutes=minutes))
        now = clock.now()
        if kind == "file" or not filed:
            new = tickets.NewTicket(f"N{n:06d}", "registered", CATEGORIES[choice % 3], 501, "路灯坏了", None, None,
                                    "none", None, None, DISTRICTS[choice % 3], "general")
            filed.append(tickets.insert(c, new, now).id)
            continue
        ticket_id = filed[choice % len(filed)]
        if kind == "delete":
            _delete_ticket(c, ticket_id)
            filed.remove(ticket_id)
            continue
        t = tickets.get(c, ticket_id)
        allowed = [a for (s, a) in sorted(TRANSITIONS, key=str) if s is t.state  # type: ignore[union-attr]
                   for _ in range(1 if a in _ENDINGS else 5)]  # most walks should get as far as a rating
        if not allowed:
            continue
        action = allowed[choice % len(allowed)]
        others = [i for i in filed if i != ticket_id]
        with contextlib.suppress(Refused):  # a rule beyond the state refuses it (a lead unit returning, say)
            transitions.apply(c, t, action, now, by=7, extend_days=2, **_extra(action, t, choice, others))


def _table(c: sqlite3.Connection, table: str, column: str) -> dict[tuple, tuple]:
    rows = c.execute(f"SELECT unit, district, category, {column}, {_SUMS} FROM {table} "
                     f"GROUP BY unit, district, category, {column}").fetchall()
    return {tuple(r[:4]): tuple(r[4:]) for r in rows if any(r[4:])}


def _key(counts: reports.Counts) -> tuple:
    return (counts.unit or "", counts.district or "", counts.category)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=60),
       periods=st.lists(st.tuples(st.integers(-48, 24 * 120), st.integers(1, 24 * 150)), min_size=1, max_size=4))
def test_the_summaries_equal_a_recount_after_any_walk(steps: list[tuple[str, int, int]],
                                                     periods: list[tuple[int, int]]) -> None:
    _check_walk(migrated(), steps, periods)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=60),
       periods=st.lists(st.tuples(st.integers(-48, 24 * 120), st.integers(1, 24 * 150)), min_size=1, max_size=4))
def test_the_postgresql_triggers_keep_the_summaries_equal_to_a_recount(
        pg_url: str, steps: list[tuple[str, int, int]], periods: list[tuple[int, int]]) -> None:
    """The same walk on PostgreSQL (its plpgsql triggers), each example in a transaction rolled back after."""
    with rolled_back(pg_url) as c:
        _check_walk(c, steps, periods)


def _check_walk(c: sqlite3.Connection, steps: list[tuple[str, int, int]], periods: list[tuple[int, int]]) -> None:
    _walk(c, steps)
    recount = c.execute(_RECOUNT, {"n": 10}).fetchall()
    assert _table(c, "ticket_day_summary", "day") == {tuple(r[:4]): tuple(r[4:]) for r in recount}
    recount = c.execute(_RECOUNT, {"n": 7}).fetchall()
    assert _table(c, "ticket_month_summary", "month") == {tuple(r[:4]): tuple(r[4:]) for r in recount}
    as_of = to_db(START + timedelta(days=30))
    for offset_h, length_h in periods:
        start = START + timedelta(hours=offset_h)
        bounds = (to_db(start), to_db(start + timedelta(hours=length_h)))
        ours = sorted(reports.counts(c, *bounds, as_of), key=_key)
        assert ours == sorted(reports.counts_from_index(c, *bounds, as_of), key=_key)


def test_a_period_is_whole_months_give_or_take_hours_of_tickets() -> None:
    year = reports._pieces("2025-12-31T16:00:00.000000+00:00", "2026-12-31T16:00:00.000000+00:00")  # Fuyang's 2026
    assert sorted(year) == [
        (-1, "tickets", "2026-12-31T16:00:00.000000+00:00", "2027-01-01T00:00:00.000000+00:00"),
        (1, "month", "2026-01", "2027-01"),
        (1, "tickets", "2025-12-31T16:00:00.000000+00:00", "2026-01-01T00:00:00.000000+00:00"),
    ]
    # 5-28 March (local): the month, less 1-4 and 29-31 March, plus and less 8 hours of tickets
    assert sorted(reports._pieces("2026-03-04T16:00:00.000000+00:00", "2026-03-28T16:00:00.000000+00:00")) == [
        (-1, "day", "2026-03-01", "2026-03-05"),
        (-1, "day", "2026-03-29", "2026-04-01"),
        (-1, "tickets", "2026-03-28T16:00:00.000000+00:00", "2026-03-29T00:00:00.000000+00:00"),
        (1, "month", "2026-03", "2026-04"),
        (1, "tickets", "2026-03-04T16:00:00.000000+00:00", "2026-03-05T00:00:00.000000+00:00"),
    ]
    assert reports._pieces("2026-03-01T00:00:00.000000+00:00", "2026-04-01T00:00:00.000000+00:00") == [
        (1, "month", "2026-03", "2026-04")]
    short = ("2026-03-05T16:00:00.000000+00:00", "2026-03-06T16:00:00.000000+00:00")
    assert reports._pieces(*short) == [(1, "tickets", *short)]


def test_the_migration_backfills_existing_tickets() -> None:
    """A database with tickets from before 0009 gets summaries equal to a recount (the backfill)."""
    from storage.db import migration_scripts

    c = sqlite3.connect(":memory:")
    c.row_factory = sqlite3.Row
    scripts = migration_scripts()
    later = [sql for name, sql in scripts if name.startswith("0009") or name.endswith("_bulk_summaries")]
    for _, sql in scripts:  # every migration but 0009 and the one recreating its insert trigger (the others
        if sql not in later:  # touch none of its tables)
            c.executescript(sql)
    users.upsert(c, 501, "zh", START)
    _walk(c, [("file", i, 600 * i) for i in range(9)] + [("act", i, 30) for i in range(40)])
    for sql in later:
        c.executescript(sql)
    recount = c.execute(_RECOUNT, {"n": 10}).fetchall()
    assert _table(c, "ticket_day_summary", "day") == {tuple(r[:4]): tuple(r[4:]) for r in recount}
    assert recount, "the walk filed tickets"
    assert c.execute("SELECT sum(received) FROM ticket_month_summary").fetchone()[0] == c.execute(
        "SELECT count(*) FROM tickets WHERE state NOT IN ('merged', 'withdrawn')").fetchone()[0]


def test_the_bulk_seed_keeps_the_summaries_equal_to_a_recount(tmp_path: Path) -> None:
    """The seed's executemany goes through the same triggers; a second seed into the same file adds to it."""
    from datetime import date

    from bot.seed import seed_demo

    path = tmp_path / "year.sqlite3"
    seed_demo(path, _CONFIG.city, 1500, date(2026, 6, 30), seed=3)
    seed_demo(path, _CONFIG.city, 700, date(2026, 6, 30), seed=4)
    c = sqlite3.connect(path)
    try:
        for table, column, width in (("ticket_day_summary", "day", 10), ("ticket_month_summary", "month", 7)):
            recount = c.execute(_RECOUNT, {"n": width}).fetchall()
            assert _table(c, table, column) == {tuple(r[:4]): tuple(r[4:]) for r in recount}
        assert c.execute("SELECT sum(received) FROM ticket_month_summary").fetchone()[0] > 2000
    finally:
        c.close()
