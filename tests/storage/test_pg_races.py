"""PostgreSQL runs use-cases side by side (SQLite runs one writer at a time): two writers on one ticket at the
same version, really concurrent on two pooled connections, and concurrent filing drawing ticket numbers."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.lifecycle import TicketState
from bot.texts import Texts
from bot.workflow import WorkflowDeps
from bot.workflow.access import Access
from bot.workflow.common import Actor, Refused
from bot.workflow.intake import Filed, Intake
from bot.workflow.messages import Messages
from bot.workflow.transitions import Transitions
from bot.workflow.unit_actions import UnitActions
from storage import chats, tickets, users
from storage.db import Database
from tests.e2e.conftest import e2e_config

UNIT_CHAT = -4001
LIAISONS = (601, 602)


@pytest.fixture
async def deps(tmp_path: Path, pg_url: str):
    db = await Database.open(pg_url)
    clock = FakeClock()
    clock.set(clock.now().replace(year=2026, month=3, day=2, hour=2, minute=0))
    yield WorkflowDeps(db=db, config=e2e_config(tmp_path), clock=clock, texts=Texts())
    await db.close()


async def _dispatched_ticket(deps: WorkflowDeps) -> tickets.Ticket:
    now = deps.clock.now()

    def tx(c):
        users.upsert(c, 501, "zh", now)
        chats.bind(c, UNIT_CHAT, "unit", "yingzhou", "颍州区", 0, now)
        for liaison in LIAISONS:
            chats.add_liaison(c, liaison, "yingzhou", now)
        new = tickets.NewTicket("350823614", "registered", "housing", 501, "楼道灯坏了", None, None, "none", None,
                                None, "yingzhou", "general")
        t = tickets.insert(c, new, now)
        return tickets.update(c, t.id, t.version, now, state=TicketState.DISPATCHED, unit="yingzhou",
                              sign_due_at=now + timedelta(hours=3), dispatched_at=now)

    return await deps.db.write(tx)


async def test_two_liaisons_signing_at_once_one_wins_the_other_is_told_the_card_is_stale(
        deps: WorkflowDeps, monkeypatch: pytest.MonkeyPatch) -> None:
    t = await _dispatched_ticket(deps)
    messages = Messages(deps)
    actions = UnitActions(deps, Access(deps), Transitions(deps, messages), messages)
    # Both transactions have read the ticket at its version and passed every check before either writes it.
    both_read = threading.Barrier(2, timeout=10)
    real_update = tickets.update

    def update_after_both_read(c, ticket_id, expected_version, now, **fields):
        both_read.wait()
        return real_update(c, ticket_id, expected_version, now, **fields)

    monkeypatch.setattr(tickets, "update", update_after_both_read)
    results = await asyncio.gather(
        *(actions.accept(Actor(liaison, UNIT_CHAT), t.id, t.version) for liaison in LIAISONS),
        return_exceptions=True)
    monkeypatch.setattr(tickets, "update", real_update)

    won = [r for r in results if isinstance(r, tickets.Ticket)]
    lost = [r for r in results if isinstance(r, Refused)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].key == "deny.stale"
    after = await deps.db.read(lambda c: tickets.get(c, t.id))
    assert (after.state, after.version) == (TicketState.ACCEPTED, t.version + 1)
    events = await deps.db.read(lambda c: tickets.events(c, t.id))
    assert [e.action for e in events].count("accepted") == 1
    assert next(e.actor_id for e in events if e.action == "accepted") in LIAISONS


async def test_ticket_numbers_never_repeat_under_concurrent_filing(deps: WorkflowDeps) -> None:
    intake = Intake(deps)
    now = deps.clock.now()
    await deps.db.write(lambda c: users.upsert(c, 501, "zh", now))
    start = threading.Barrier(8, timeout=10)

    def file_one(c):
        start.wait()  # eight transactions open at once, each drawing a number before any commits
        return intake.register(c, Filed("housing", "楼道灯坏了，晚上很黑"), reporter_id=501, photos=[],
                               actor=("resident", 501), now=now)

    filed = []
    for _ in range(3):
        filed += await asyncio.gather(*(deps.db.write(file_one) for _ in range(8)))
    numbers = [t.number for t in filed]
    assert len(set(numbers)) == len(numbers) == 24
    stored = await deps.db.read(lambda c: [r[0] for r in c.execute("SELECT number FROM tickets")])
    assert sorted(stored) == sorted(numbers)
