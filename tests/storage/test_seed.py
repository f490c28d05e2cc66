"""Seeded tickets walk the lifecycle specification: the demo year and the benchmarks' tickets in a given state."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.lifecycle import OPEN_STATES, SPEC, TicketState, plan
from bot.seed import TicketSeed, route_to, seed_demo, seed_tickets
from bot.texts import Texts
from storage import users
from storage.db import Database
from tests.e2e.conftest import e2e_config

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SYSTEM_EVENTS = {"registered"}


def _check_walks(conn: sqlite3.Connection) -> None:
    keys = Texts().keys("zh")
    chains: dict[int, list[tuple]] = {}
    for row in conn.execute("SELECT ticket_id, action, from_state, to_state, actor_kind, public FROM events "
                            "ORDER BY ticket_id, id"):
        chains.setdefault(row[0], []).append(row[1:])
    by_event = {spec.event: spec for spec in SPEC.values()}
    for tid, state, bounces in conn.execute("SELECT id, state, bounces FROM tickets"):
        chain = chains[tid]
        assert chain[0][:3] == ("registered", None, "registered")
        for action, before, after, actor, public in chain[1:]:
            assert f"event.{action}" in keys
            spec = by_event[action]
            assert plan(before, spec.action).to_state == after
            assert (actor, bool(public)) == (spec.actor, spec.public)
        assert chain[-1][2] == state
        assert bounces == sum(1 for e in chain if e[0] == "returned"), "only a unit's return is a bounce"


def test_a_seeded_year_walks_the_specification(tmp_path: Path) -> None:
    cfg = e2e_config(tmp_path)
    stats = seed_demo(tmp_path / "year.sqlite3", cfg.city, 2000, date(2026, 6, 30), seed=3)
    conn = sqlite3.connect(tmp_path / "year.sqlite3")
    try:
        _check_walks(conn)
        open_count = conn.execute("SELECT count(*) FROM tickets WHERE state IN "
                                  f"({', '.join(repr(s.value) for s in OPEN_STATES)})").fetchone()[0]
        assert open_count == stats.open
        assert conn.execute("SELECT count(*) FROM events WHERE action = 'redispatched'").fetchone()[0] > 0
    finally:
        conn.close()


@pytest.mark.parametrize("state", list(TicketState))
def test_every_state_has_a_route_from_registration(state: TicketState) -> None:
    path = route_to(state)
    current = TicketState.REGISTERED
    for action in path:
        current = plan(current, action).to_state
    assert current is state


async def test_tickets_seeded_in_a_state_carry_its_deadline(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "s.sqlite3")
    due = NOW + timedelta(hours=5)
    wanted = [TicketSeed(state, "housing", "yingzhou", "general", NOW - timedelta(days=1), 77, due=due)
              for state in TicketState]

    def tx(c: sqlite3.Connection) -> int:
        users.upsert(c, 77, "zh", NOW)
        return seed_tickets(c, wanted)

    assert await db.write(tx) == len(TicketState)
    rows = await db.read(lambda c: c.execute("SELECT state, sign_due_at, due_at FROM tickets ORDER BY id").fetchall())
    assert [r[0] for r in rows] == [s.value for s in TicketState]
    assert rows[1][1] is not None and rows[1][2] is None  # dispatched: the sign-for clock
    assert rows[2][1] is None and rows[2][2] is not None  # accepted: the handling clock
    await db.read(_check_walks)
    await db.close()
