"""The intake and handling flows re-run while the emulator injects faults at set rates; then the invariants.

Scripted residents file a complaint each (two routes: 颍州区 and 阜合园区), the unit's liaison signs for it and
resolves it with a typed answer, the resident rates it. Faults are drawn (seeded, per method: 429 with
retry_after, 500, 502, timeouts, connection resets, 403 blocked, chat migration) on every sending and editing
method in the group chats from the start, and in a resident's private chat from the moment they tap "confirm":
what follows (the confirmation, the notices, the rating) is the outbox's to deliver, which is what this run
proves. The resident's own intake steps before it are direct replies ("if they fail, the person repeats": that
is a person's retry, not the outbox's, and out of scope here). Polling, callback answers and getChatMember are
not faulted.

A flow that a fault stopped (a resident who "blocked" the bot, a card edit left behind in a migrated group) is
counted, not failed: what must hold are the invariants (bench/invariants.py), checked once the outbox has
settled. Time is a FakeClock advanced by a ticker (``fake_s_per_tick`` every ``tick_wall_s``), so retry_after
and back-off waits pass in milliseconds of real time; nothing sleeps to reach a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.invariants import InvariantReport, check_all, collect_delivered
from bot.clock import FakeClock
from bot.config import Config
from bot.domain.numbers import format_number
from sandbox.client import Person, SandboxError
from sandbox.local import LocalSandbox
from storage import tickets
from storage.records import from_db, to_db
from tests.e2e.talk import to_summary, zh

#: The methods the outbox (and the bot's direct replies) send or edit with.
SENDING_METHODS = ("sendmessage", "sendlocation", "sendvenue", "sendphoto", "sendmediagroup", "senddocument",
                   "editmessagetext", "editmessagereplymarkup", "editmessagecaption")
#: Per call of a sending method, in total ~15 % of calls fail.
DEFAULT_RATES: dict[str, float] = {"429": 0.04, "500": 0.03, "502": 0.02, "timeout": 0.01, "disconnect": 0.02,
                                   "403": 0.005, "migrate": 0.005}
HEFEI_AVENUE = (32.8220, 115.8620)
YINGZHOU = (32.8830, 115.8120)
#: (category button, point, on the second page of categories, the unit's group)
ROUTES = (("房产物业", YINGZHOU, False, "yingzhou_liaison"), ("市政设施", HEFEI_AVENUE, True, "fuhe_park_liaison"))
CONFIRMED = "工单编号"


@dataclass
class FaultRunPlan:
    residents: int = 24
    rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    seed: int = 20260302
    at_once: int = 8  # residents acting at the same time
    retry_after_s: int = 1
    timeout_delay_s: float = 1.2  # an injected timeout answers this late (the bot's read timeout is shorter)
    fake_s_per_tick: float = 1.0
    tick_wall_s: float = 0.02
    step_timeout_s: float = 20.0  # how long (real time) a person waits for the next thing before giving up


@dataclass
class FaultRunResult:
    invariants: InvariantReport
    stages: Counter[str]
    injected: dict[str, int]
    delays_s: list[float]  # fake seconds from queueing to delivery, rows that needed a retry
    wall_s: float
    fake_s: float

    def figures(self) -> dict[str, Any]:
        delays = sorted(self.delays_s)
        return {
            "flows": dict(self.stages),
            "faults injected": self.injected,
            "delay of retried rows (fake s) median/p95/max": (
                [round(statistics.median(delays), 1), round(delays[int(0.95 * (len(delays) - 1))], 1),
                 round(delays[-1], 1)] if delays else []),
            "wall s": round(self.wall_s, 1), "fake s": round(self.fake_s, 1),
            **self.invariants.figures,
        }

    def format(self) -> str:
        lines = [f"  {key}: {value}" for key, value in self.figures().items()]
        lines.append(f"  violations: {len(self.invariants.violations)}")
        lines += [f"    - {v}" for v in self.invariants.violations[:20]]
        return "\n".join(lines)


def fault_config(config: Config, read_timeout_s: float = 0.8, rate_limiter: bool = False) -> Config:
    """The run's bot config: a read timeout shorter than an injected timeout's delay, and by default without
    PTB's rate limiter (its 20 messages a minute per group, paced in real time, would make the run minutes
    long; the injected 429s stand for Telegram's flood control)."""
    return dataclasses.replace(config, telegram=dataclasses.replace(config.telegram, read_timeout_s=read_timeout_s,
                                                                    rate_limiter=rate_limiter))


async def run_faults(local: LocalSandbox, clock: FakeClock, plan: FaultRunPlan) -> FaultRunResult:
    """Run the flows under ``plan``'s fault rates on a started ``LocalSandbox``, then check the invariants."""
    assert local.client is not None and local.db is not None
    client = local.client
    started, fake_start = time.monotonic(), clock.now()
    rates = {method: plan.rates for method in SENDING_METHODS}
    groups = [int(local.groups[key]["id"]) for _, _, _, key in ROUTES]
    await client.fault_rates(rates, seed=plan.seed, chat_ids=[int(g["id"]) for g in local.groups.values()],
                             retry_after=plan.retry_after_s, delay_s=plan.timeout_delay_s)
    stages: Counter[str] = Counter()
    ticker = asyncio.create_task(_tick(clock, plan))
    gate = asyncio.Semaphore(plan.at_once)
    locks = {key: asyncio.Lock() for _, _, _, key in ROUTES}
    people: list[Person] = []
    try:
        async def one(i: int) -> None:
            async with gate:
                person = await client.person(f"居民{i:03d}", language_code="zh")
                people.append(person)
                await _flow(local, person, i, plan, stages, locks)

        await asyncio.gather(*(one(i) for i in range(plan.residents)))
        await client.fault_rates({})
        await _settle(local, clock, plan.step_timeout_s * 2)
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    state = local.sandbox.state
    migrated = {cid: chat.migrated_to for cid, chat in state.chats.items() if chat.migrated_to is not None}
    chats_seen = {p.id for p in people} | set(groups) | set(migrated) | set(migrated.values()) | {
        int(g["id"]) for g in local.groups.values()}
    delivered = await collect_delivered(client, chats_seen)
    stats = await client.stats()
    now, max_attempts = clock.now(), local.config.outbox.max_attempts
    report = await local.db.read(lambda c: check_all(c, delivered, [p.id for p in people], now=now,
                                                     max_attempts=max_attempts, marker=CONFIRMED,
                                                     migrated=migrated))
    delays = await local.db.read(lambda c: [
        (from_db(sent) - from_db(created)).total_seconds() for created, sent in c.execute(
            "SELECT created_at, sent_at FROM outbox WHERE status = 'sent' AND attempts > 1").fetchall()])
    return FaultRunResult(report, stages, dict(stats["faults"]), delays, time.monotonic() - started,
                          (clock.now() - fake_start).total_seconds())


async def _tick(clock: FakeClock, plan: FaultRunPlan) -> None:
    while True:
        await asyncio.sleep(plan.tick_wall_s)
        clock.advance(plan.fake_s_per_tick)


async def _flow(local: LocalSandbox, person: Person, i: int, plan: FaultRunPlan, stages: Counter[str],
                locks: dict[str, asyncio.Lock]) -> None:
    """One resident's complaint from /new to the rating; each stage reached is counted."""
    assert local.client is not None
    category, point, page2, group = ROUTES[i % len(ROUTES)]
    description = f"第{i}号：小区门口的路灯坏了，晚上一片漆黑，老人出门很不方便。"
    await to_summary(person, category, point, description, page2)
    await local.client.fault_chats([person.id])  # from here on, what the resident reads is the outbox's
    with contextlib.suppress(AssertionError):
        await person.tap(zh("intake.btn_confirm"))
    ticket = await _wait(lambda: _ticket_of(local, person.id), plan.step_timeout_s)
    if ticket is None:
        stages["confirm tapped, no ticket"] += 1
        return
    stages["filed"] += 1
    shown = format_number(ticket.number)
    if await _wait(lambda: _saw(local, person.id, CONFIRMED), plan.step_timeout_s):
        stages["confirmation seen"] += 1
    liaison = local.liaisons[group]
    if not await _press_on_card(local, liaison["id"], group, shown, "签收", plan):
        stages["stopped: no 签收 button"] += 1
        return
    if not await _wait(lambda: _in_state(local, ticket.id, "accepted"), plan.step_timeout_s):
        stages["stopped: sign-for not recorded"] += 1
        return
    stages["signed for"] += 1
    answer = f"第{i}号已处理：路灯已更换。"
    async with locks[group]:  # one liaison answers one question at a time in a group
        if not await _press_on_card(local, liaison["id"], group, shown, "办结", plan):
            stages["stopped: no 办结 button"] += 1
            return
        chat_id = _current_chat(local, int(local.groups[group]["id"]))
        services = local.runner.app.bot_data["services"]  # type: ignore[union-attr]
        if not await _wait(lambda: services.unit.pending_question(chat_id, liaison["id"]), plan.step_timeout_s):
            stages["stopped: no question pending"] += 1
            return
        try:
            await local.client.send(liaison["id"], chat_id=chat_id, text=answer)
        except SandboxError:  # the group moved to a supergroup between the question and the answer
            stages["stopped: group migrated mid-answer"] += 1
            return
        if not await _wait(lambda: _in_state(local, ticket.id, "resolved"), plan.step_timeout_s):
            stages["stopped: answer not recorded"] += 1
            return
    stages["resolved"] += 1
    if not await _wait(lambda: _saw(local, person.id, answer), plan.step_timeout_s):
        stages["stopped: answer not seen by the resident"] += 1
        return
    if not await _rate(person, plan):
        stages["stopped: rating buttons missing"] += 1
        return
    if await _wait(lambda: _in_state(local, ticket.id, "closed"), plan.step_timeout_s):
        stages["rated and closed"] += 1
    else:
        stages["stopped: rating not recorded"] += 1


async def _rate(person: Person, plan: FaultRunPlan, tries: int = 3) -> bool:
    """The rating's two taps. The second question is the bot's direct answer to the first tap: when a fault
    loses it, the first question is still there, and the resident taps it again (as a person would)."""
    for _ in range(tries):
        try:
            await person.tap(zh("rates.btn_solved"), timeout=plan.step_timeout_s)
        except AssertionError:
            return False
        try:
            await person.tap(zh("rates.btn_satisfied"), timeout=plan.step_timeout_s / 4)
            return True
        except AssertionError:
            continue
    return False


def _current_chat(local: LocalSandbox, chat_id: int) -> int:
    """Where a group is now (a drawn migration moved it to a supergroup)."""
    chat = local.sandbox.state.chats[chat_id]
    return chat.migrated_to if chat.migrated_to is not None else chat_id


async def _press_on_card(local: LocalSandbox, user_id: int, group: str, shown: str, button: str,
                         plan: FaultRunPlan) -> bool:
    """Press ``button`` on the ticket's latest card in the group (old or migrated); False if it never shows."""
    assert local.client is not None
    client, old = local.client, int(local.groups[group]["id"])

    async def card() -> tuple[int, int] | None:
        for chat_id in dict.fromkeys((_current_chat(local, old), old)):
            for m in reversed(await client.messages(chat_id)):
                rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
                if f"工单 {shown}" in (m.get("text") or "") and any(b.get("text") == button for r in rows for b in r):
                    return chat_id, int(m["message_id"])
        return None

    found = await _wait(card, plan.step_timeout_s)
    if found is None:
        return False
    query = await client.press(user_id, found[0], found[1], button_text=button)
    await client.callback_answer(query, plan.step_timeout_s)
    return True


async def _ticket_of(local: LocalSandbox, reporter: int) -> tickets.Ticket | None:
    assert local.db is not None
    found = await local.db.read(lambda c: tickets.by_reporter(c, reporter, 1))
    return found[0] if found else None


async def _in_state(local: LocalSandbox, ticket_id: int, state: str) -> bool:
    assert local.db is not None
    row = await local.db.read(lambda c: c.execute("SELECT state FROM tickets WHERE id = ?", (ticket_id,)).fetchone())
    return row is not None and row[0] == state


async def _saw(local: LocalSandbox, chat_id: int, needle: str) -> bool:
    assert local.client is not None
    return any(needle in (m.get("text") or "") for m in await local.client.messages(chat_id) if m.get("outgoing"))


async def _wait(probe: Callable[[], Awaitable[Any]], timeout: float) -> Any:
    """``await probe()`` until it is truthy (polled briefly, real time bounded by ``timeout``), else None."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.05)


async def _settle(local: LocalSandbox, clock: FakeClock, timeout: float) -> None:
    """Wait until no outbox row is due and unsent (the ticker keeps moving the clock past retries)."""
    assert local.db is not None
    db = local.db

    async def settled() -> bool:
        now = clock.now()
        due = await db.read(lambda c: c.execute(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND not_before <= ?", (to_db(now),)).fetchone()[0])
        return due == 0

    await _wait(settled, timeout)
