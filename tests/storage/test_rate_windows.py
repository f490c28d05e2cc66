"""Limits counted in the database for several instances (storage/rate_windows.py, bot/workflow/limits.py,
bot/send_limits.py): on both backends a window admits its limit and no more until its oldest hit leaves; on
PostgreSQL two "instances" racing for the last slot of a group get one slot between them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.send_limits import SharedRateLimiter
from bot.services import Services
from bot.workflow.limits import GROUP_SENDS_PER_MIN, forget_old_hits, reserve_send
from storage import rate_windows
from storage.db import Database
from storage.rate_windows import Window
from tests.e2e.conftest import e2e_config


async def test_a_window_admits_its_limit_then_says_how_long_to_wait(db) -> None:
    w = Window("user", 7, 60.0, 3)
    taken = [await db.write(lambda c, t=t: rate_windows.take(c, [w], 1000.0 + t)) for t in range(4)]
    assert taken[:3] == [0.0, 0.0, 0.0] and taken[3] == 57.0  # the hit at 1000 leaves at 1060
    assert await db.write(lambda c: rate_windows.take(c, [w], 1059.9)) > 0  # a refused hit is not counted
    assert await db.write(lambda c: rate_windows.take(c, [w], 1060.0)) == 0.0
    other = Window("user", 8, 60.0, 3)
    assert await db.write(lambda c: rate_windows.take(c, [other], 1060.0)) == 0.0  # per key
    assert await forget_old_hits(db, 1060.0 + 60) == 0  # hits within twice the longest window are kept
    assert await forget_old_hits(db, 5000.0) == 4  # a user never heard of again leaves nothing behind


async def test_a_send_to_a_group_needs_room_in_both_windows(db) -> None:
    for i in range(GROUP_SENDS_PER_MIN):
        assert await reserve_send(db, -100, True, 2000.0 + i * 0.1) == 0.0
    assert await reserve_send(db, -100, True, 2003.0) > 50  # the group's minute is full ...
    assert await reserve_send(db, 55, False, 2003.0) == 0.0  # ... a private chat is not held up


async def test_two_instances_racing_for_a_groups_last_slots_get_them_once(pg_url: str) -> None:
    first, second = await Database.open(pg_url), await Database.open(pg_url)
    try:
        outcomes = await asyncio.gather(*(reserve_send(db, -200, True, 3000.0 + i * 0.05)
                                          for i in range(GROUP_SENDS_PER_MIN + 10)
                                          for db in (first, second)))
        assert sum(1 for wait in outcomes if wait == 0.0) == GROUP_SENDS_PER_MIN
    finally:
        await first.close()
        await second.close()


async def test_the_shared_limiter_waits_instead_of_sending_over_the_limit(pg_url: str) -> None:
    db = await Database.open(pg_url)
    now = [5000.0]
    limiter = SharedRateLimiter(db, clock=lambda: now[0])
    sent: list[float] = []

    async def send() -> bool:
        sent.append(now[0])
        return True

    try:
        for _ in range(GROUP_SENDS_PER_MIN):
            await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": -300}, None)
        assert await limiter.process_request(send, (), {}, "answerCallbackQuery", {}, None)  # no chat: not counted
        late = asyncio.create_task(limiter.process_request(send, (), {}, "sendMessage", {"chat_id": -300}, None))
        await asyncio.sleep(0.3)
        assert not late.done() and len(sent) == GROUP_SENDS_PER_MIN + 1  # held back, not sent
        now[0] += 64  # the group's minute (and a margin) passed
        assert await asyncio.wait_for(late, 5)
        assert len(sent) == GROUP_SENDS_PER_MIN + 2 and limiter.waited == 1
    finally:
        await db.close()


async def test_the_per_user_limit_holds_across_instances_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    config = e2e_config(tmp_path, messages_per_minute=5)
    per_minute = config.limits.messages_per_minute
    first, second = await Database.open(pg_url), await Database.open(pg_url)
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    try:
        here, there = Services.build(config, first, clock), Services.build(config, second, clock)
        verdicts = [await (here if i % 2 else there).count_message(42, clock.now()) for i in range(per_minute + 1)]
        assert verdicts[:per_minute] == [None] * per_minute  # split over two instances, counted once
        assert verdicts[-1] is not None and timedelta(0) < verdicts[-1] <= timedelta(minutes=1)
        clock.advance(timedelta(minutes=1, seconds=1))
        assert await here.count_message(42, clock.now()) is None
    finally:
        await first.close()
        await second.close()
