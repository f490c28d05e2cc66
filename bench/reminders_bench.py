"""10,000 reminders for 300 group chats through Telegram-like flood limits: digests, not one message per ticket.

    python -m bench.reminders_bench                      # 10,000 tickets, 300 groups
    python -m bench.reminders_bench --tickets 2000 --groups 50

One process: `LocalSandbox` runs the Bot API emulator with its flood limits on (30 messages/s per bot, 20 per
minute per group, sliding windows, a 429 beyond them) and our bot with `telegram.rate_limiter = true` and its real
outbox sender. The example city gets 300 extra units (`u001`..`u300`, kind "department") through
`dataclasses.replace`; a group chat is created in the emulator for each and bound to it with `storage.chats.bind`
(what /code and /bind do by hand). 10,000 open tickets spread evenly over those units, each due within the next
2 working hours, are inserted directly (executemany, one transaction); one `Sweeper.sweep()` records the
reminders and queues one digest per group (split where a message would pass 4,000 characters); then the bench
waits until the outbox holds nothing pending.

The clock is the city's Monday 2 March 2026 10:00 (Shanghai) and then runs at real speed (a FakeClock would never
reach the `not_before` of a row postponed by a 429). The scheduled sweep is moved out of the way (interval 1 h),
so the one measured sweep does all the work.

The baseline — one message per ticket — is COMPUTED, not sent: the least time the same limits allow for 10,000
messages. Figures are printed and written to bench/results/reminders.json.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import math
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import Stopwatch, machine_info, write_json
from bot.config import Config, Unit, load_config
from bot.domain.lifecycle import TicketState
from bot.seed import TicketSeed, seed_tickets
from sandbox.local import LocalSandbox
from storage import chats, users
from storage.db import Database
from storage.records import from_db, to_db

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SHANGHAI = timedelta(hours=8)
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC) - SHANGHAI  # Monday 10:00 in Shanghai, a working day
GLOBAL_PER_S = 30
GROUP_PER_MIN = 20
REPORTER = 1
DRAIN_TIMEOUT_S = 900.0

log = logging.getLogger("bench")


class RunningClock:
    """Starts at a chosen instant and then runs at the speed of the monotonic clock."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._t0)


# ---- the city, its groups and the tickets ----


def synthetic_units(count: int) -> tuple[Unit, ...]:
    return tuple(Unit(key=f"u{i:03d}", kind="department", name_zh=f"测试部门{i:03d}",
                      name_en=f"Test department {i:03d}") for i in range(1, count + 1))


def bench_config(workdir: Path, units: tuple[Unit, ...]) -> Config:
    """config.example.toml with a temporary database, PTB's rate limiter on, the extra units, and the scheduled
    sweep moved an hour away (the measured sweep is the one the bench calls)."""
    cfg = load_config(ROOT / "config.example.toml")
    return dataclasses.replace(
        cfg,
        storage=dataclasses.replace(cfg.storage, database=workdir / "bench.sqlite3"),
        telegram=dataclasses.replace(cfg.telegram, rate_limiter=True),
        reminders=dataclasses.replace(cfg.reminders, sweep_interval_s=3600),
        city=dataclasses.replace(cfg.city, units=cfg.city.units + units),
    )


def insert_tickets(c: Any, units: tuple[Unit, ...], count: int, now: datetime, horizon: datetime,
                   seed: int) -> None:
    """``count`` open tickets round-robin over ``units``, each due in (now + 1 min, horizon - 1 min]."""
    rng = random.Random(seed)
    users.upsert(c, REPORTER, "zh", now)
    span = int((horizon - now).total_seconds()) - 120
    seed_tickets(c, (
        TicketSeed(TicketState.DISPATCHED if i % 3 == 0 else TicketState.ACCEPTED, "housing", units[i % len(units)].key,
                   "general", now - timedelta(days=2), REPORTER, due=now + timedelta(seconds=60 + rng.randint(1, span)),
                   step=timedelta(minutes=1))
        for i in range(count)))


async def make_groups(local: LocalSandbox, units: tuple[Unit, ...]) -> dict[str, int]:
    """A group chat per unit with a liaison in it, bound to the unit (what /code and /bind do by hand)."""
    assert local.client is not None and local.db is not None
    bound: dict[str, int] = {}
    for unit in units:
        liaison = await local.client.create_user(f"联络员-{unit.key}", language_code="zh")
        group = await local.client.create_group(f"{unit.name_zh} 工作群", member_ids=[liaison["id"]],
                                                admin_ids=[liaison["id"]])
        bound[unit.key] = group["id"]
    now = local.clock.now()
    await local.db.write(lambda c: [chats.bind(c, chat_id, "unit", key, f"{key} 工作群", 0, now)
                                    for key, chat_id in bound.items()])
    return bound


# ---- the limits ----


def least_time(per_chat: list[int]) -> dict[str, Any]:
    """The least delivery time the limits allow for these messages (one count per group chat): at a steady rate
    (messages ÷ 30/s; each group's messages ÷ 20/min) and with the sliding windows' bursts (the first 30 in a
    second and the first 20 of a group in a minute go at once)."""
    total, worst = sum(per_chat), max(per_chat, default=0)
    rate_global, rate_group = total / GLOBAL_PER_S, worst / GROUP_PER_MIN * 60
    burst_global = max(0, math.ceil(total / GLOBAL_PER_S) - 1)
    burst_group = 60 * max(0, math.ceil(worst / GROUP_PER_MIN) - 1)
    return {"messages": total, "most_in_one_group": worst,
            "global_bound_s": round(rate_global, 1), "per_group_bound_s": round(rate_group, 1),
            "least_s": round(max(rate_global, rate_group), 1),
            "with_bursts": {"global_bound_s": burst_global, "per_group_bound_s": burst_group,
                            "least_s": max(burst_global, burst_group)}}


# ---- the benchmark ----


@dataclasses.dataclass
class Params:
    tickets: int
    groups: int
    seed: int
    output: Path


async def pending(db: Database) -> int:
    return await db.read(lambda c: c.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])


async def drain(db: Database, timeout: float) -> tuple[float, list[tuple[float, int]]]:
    """Seconds until nothing is pending (polled every 0.1 s), and (elapsed, pending) once a second."""
    samples: list[tuple[float, int]] = []
    start = time.perf_counter()
    while True:
        left = await pending(db)
        elapsed = time.perf_counter() - start
        if not samples or elapsed - samples[-1][0] >= 1 or not left:
            samples.append((round(elapsed, 2), left))
        if not left:
            return elapsed, samples
        if elapsed > timeout:
            raise SystemExit(f"the outbox still holds {left} pending rows after {timeout:.0f} s")
        await asyncio.sleep(0.1)


async def bench(p: Params) -> dict[str, Any]:
    units = synthetic_units(p.groups)
    with tempfile.TemporaryDirectory(prefix="reminders-bench-") as tmp:
        clock = RunningClock(START)
        async with LocalSandbox(bench_config(Path(tmp), units), clock=clock) as local:
            assert local.client is not None and local.runner is not None and local.db is not None
            db, client = local.db, local.client
            with Stopwatch() as setup:
                bound = await make_groups(local, units)
                calendar = local.config.city.calendar()
                horizon = calendar.add_working_hours(clock.now(), 2).at
                await db.write(lambda c: insert_tickets(c, units, p.tickets, clock.now(), horizon, p.seed))
            await drain(db, 60)  # anything the start-up queued (nothing, normally) is out of the way
            await client.flood(enabled=True, global_per_s=GLOBAL_PER_S, group_per_min=GROUP_PER_MIN)
            before = await client.stats()
            sweep_started = clock.now()
            with Stopwatch() as sweep_sw:
                result = await local.runner.services.sweeper.sweep()  # kicks the outbox sender
            delivery_s, progress = await drain(db, DRAIN_TIMEOUT_S)
            after = await client.stats()
            rows = await db.read(lambda c: c.execute(
                "SELECT chat_id, status, sent_at, attempts, last_error FROM outbox WHERE created_at >= ?",
                (to_db(sweep_started),)).fetchall())
            per_chat = Counter(r["chat_id"] for r in rows)
            sent_times = sorted(from_db(r["sent_at"]) for r in rows if r["status"] == "sent")
            delivered = {unit: await client.messages(chat_id) for unit, chat_id in bound.items()}
            flood = {"global_per_s": GLOBAL_PER_S, "group_per_min": GROUP_PER_MIN, "sliding_windows": True}

    listed = {unit: sum((m.get("text") or "").count("• ") for m in msgs if m.get("outgoing"))
              for unit, msgs in delivered.items()}
    longest = max((len(m.get("text") or "") for msgs in delivered.values() for m in msgs), default=0)
    sends = after["methods"].get("sendMessage", 0) - before["methods"].get("sendMessage", 0)
    flood_429 = after["flood_429"] - before["flood_429"]
    messages = len(rows)
    per_ticket = [p.tickets // p.groups + (1 if i < p.tickets % p.groups else 0) for i in range(p.groups)]
    ours_least, naive_least = least_time(list(per_chat.values())), least_time(per_ticket)
    sent_span = (sent_times[-1] - sent_times[0]).total_seconds() if len(sent_times) > 1 else 0.0
    return {
        "benchmark": "reminders",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": {
            "tickets": p.tickets, "groups": p.groups, "seed": p.seed, "emulator_flood_limits": flood,
            "telegram.rate_limiter": True, "clock": f"running, from {START.isoformat()} (Mon 10:00 Shanghai)",
            "tickets_due_within_working_hours": 2, "setup_s": round(setup.seconds, 1),
        },
        "sweep": {**dataclasses.asdict(result), "seconds": round(sweep_sw.seconds, 3)},
        "ours": {
            "digest_messages": messages, "sent": sum(1 for r in rows if r["status"] == "sent"),
            "dead": sum(1 for r in rows if r["status"] == "dead"),
            "retried_rows": sum(1 for r in rows if r["attempts"] > 1 or r["last_error"]),
            "messages_per_group": dict(sorted(Counter(per_chat.values()).items())),
            "delivery_s": round(delivery_s, 2), "first_to_last_sent_s": round(sent_span, 2),
            "messages_per_s": round(messages / delivery_s, 2) if delivery_s else None,
            "send_message_calls": sends, "flood_429": flood_429,
            "least_under_limits": ours_least,
            "tickets_listed_in_groups": sum(listed.values()),
            "groups_with_a_wrong_count": sum(1 for i, unit in enumerate(units) if listed[unit.key] != per_ticket[i]),
            "longest_message_chars": longest,
            "progress_pending": progress,
        },
        "baseline_one_message_per_ticket": {
            "computed_not_sent": True, **naive_least,
        },
        "messages_saved": p.tickets - messages,
        "least_time_ratio": round(naive_least["least_s"] / ours_least["least_s"], 1) if ours_least["least_s"] else None,
        "delivery_vs_baseline_least": round(naive_least["least_s"] / delivery_s, 1) if delivery_s else None,
    }


# ---- output ----


def table(r: dict[str, Any]) -> str:
    o, b, s, prm, m = r["ours"], r["baseline_one_message_per_ticket"], r["sweep"], r["parameters"], r["machine"]
    ol = o["least_under_limits"]
    rows = [
        ("", "ours: digests", "baseline: 1 per ticket"),
        ("messages", f"{o['digest_messages']:,}", f"{b['messages']:,} (computed)"),
        ("most messages in one group", str(ol["most_in_one_group"]), str(b["most_in_one_group"])),
        ("steady rate: messages / 30/s (s)", f"{ol['global_bound_s']:.1f}", f"{b['global_bound_s']:.1f}"),
        ("steady rate: one group's / 20/min (s)", f"{ol['per_group_bound_s']:.1f}", f"{b['per_group_bound_s']:.1f}"),
        ("least time at steady rates (s)", f"{ol['least_s']:.1f}", f"{b['least_s']:.1f}"),
        ("least time with window bursts (s)", str(ol["with_bursts"]["least_s"]), str(b["with_bursts"]["least_s"])),
        ("measured delivery time (s)", f"{o['delivery_s']:.1f}", "-"),
        ("  first to last sent (s)", f"{o['first_to_last_sent_s']:.1f}", "-"),
        ("sendMessage calls / 429s", f"{o['send_message_calls']} / {o['flood_429']}", "-"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}" for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join([
        f"reminders benchmark: {m['platform']}, Python {m['python']}, {m['cpu_count']} CPUs, "
        f"PTB {m['python_telegram_bot']}",
        f"{prm['tickets']:,} tickets due within 2 working hours over {prm['groups']} bound groups; emulator flood "
        f"limits {GLOBAL_PER_S}/s and {GROUP_PER_MIN}/min per group; telegram.rate_limiter on",
        f"sweep: {s['reminders']:,} reminders -> {s['messages']} digest messages to {s['chats']} chats in "
        f"{s['seconds']:.2f} s",
        "",
        *lines,
        "",
        f"tickets listed in the delivered digests: {o['tickets_listed_in_groups']:,}; sent {o['sent']}, dead "
        f"{o['dead']}, rows retried {o['retried_rows']}; longest message {o['longest_message_chars']} chars",
        f"{r['messages_saved']:,} messages saved; least time allowed: baseline / digests = {r['least_time_ratio']}x; "
        f"baseline's least time / our measured delivery = {r['delivery_vs_baseline_least']}x",
    ])


def parse_args(argv: list[str] | None) -> Params:
    parser = argparse.ArgumentParser(prog="python -m bench.reminders_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000, help="tickets due soon (default 10,000)")
    parser.add_argument("--groups", type=int, default=300, help="group chats, one per unit (default 300)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--output", type=Path, default=RESULTS / "reminders.json")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the bot's log")
    a = parser.parse_args(argv)
    if a.tickets < 1 or not 1 <= a.groups <= 999:
        parser.error("--tickets must be >= 1 and --groups in 1..999")
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not a.verbose:  # PTB logs every 429 with a traceback; they are counted in the table instead
        logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    return Params(a.tickets, a.groups, a.seed, a.output)


def main(argv: list[str] | None = None) -> int:
    p = parse_args(argv)
    report = asyncio.run(bench(p))
    write_json(p.output, report)
    print(table(report))
    print(f"\nwritten: {p.output}")
    o = report["ours"]
    return 0 if o["dead"] == 0 and o["tickets_listed_in_groups"] == p.tickets else 1


if __name__ == "__main__":
    raise SystemExit(main())
