"""Only the process leading "outbox" sends (storage/leadership.py): a follower files the complaint but its
confirmation waits in the outbox until this process leads, then goes out within one poll of the sender."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bot.clock import FakeClock
from bot.config import Config
from sandbox.local import LocalSandbox
from storage import outbox
from storage.db import Database
from tests.e2e.talk import eventually
from tests.e2e.test_intake_happy import file_complaint


class Elsewhere:
    """Another process leads until `take()`: what a follower instance sees."""

    def __init__(self) -> None:
        self.mine = False
        self.asked: Counter[str] = Counter()

    async def try_acquire(self, name: str) -> bool:
        self.asked[name] += 1
        return self.mine

    def held(self, name: str) -> bool:
        return self.mine

    async def release_all(self) -> None:
        self.mine = False


@pytest.fixture
def leadership() -> Elsewhere:
    return Elsewhere()


@pytest.fixture
async def local(config: Config, clock: FakeClock, leadership: Elsewhere) -> AsyncIterator[LocalSandbox]:
    async with LocalSandbox(config, clock=clock, webhook=True, leadership=leadership) as sandbox:
        yield sandbox


async def test_a_follower_queues_and_the_leader_sends(local: LocalSandbox, sb, leadership: Elsewhere) -> None:
    li = await sb.person("李雷", language_code="zh")
    filing = asyncio.create_task(file_complaint(li))

    async def confirmation_queued():
        rows = await local.db.read(lambda c: outbox.rows_for_chat(c, li.id))
        return [r for r in rows if r["ticket_id"] is not None]

    queued = await eventually(confirmation_queued, what="the confirmation queued")
    asked = leadership.asked["outbox"]
    await eventually(lambda: _more(leadership, asked + 2), what="the follower asking again, tick after tick")
    assert [r["status"] for r in await confirmation_queued()] == ["pending"] * len(queued)
    assert not filing.done()
    assert not any("工单编号" in (m.get("text") or "") for m in await li.transcript())  # nothing sent

    leadership.mine = True  # the leader died; this process takes over at its next tick

    number = await asyncio.wait_for(filing, 10)
    assert [r["status"] for r in await confirmation_queued()] == ["sent"] * len(queued)
    assert number


async def _more(leadership: Elsewhere, n: int) -> bool:
    return leadership.asked["outbox"] >= n


async def test_a_stopping_follower_leaves_the_sending_to_the_leader(local: LocalSandbox, sb,
                                                                      leadership: Elsewhere) -> None:
    li = await sb.person("李雷", language_code="zh")
    filing = asyncio.create_task(file_complaint(li))
    def owed(c):
        return [r for r in outbox.rows_for_chat(c, li.id) if r["ticket_id"] is not None]

    queued = await eventually(lambda: local.db.read(owed), what="the confirmation queued")
    db_path = local.config.storage.database
    await local.stop_bot()  # a graceful stop: its last outbox pass is the leader's business, not this one's
    filing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await filing
    db = await Database.open(db_path)
    try:
        still = await db.read(owed)
    finally:
        await db.close()
    assert [r["status"] for r in still] == ["pending"] * len(queued)
