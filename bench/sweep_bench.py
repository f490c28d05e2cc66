"""The deadline sweep on a large database, against the naive per-ticket calendar loop, measured in one run.

    python -m bench.sweep_bench                          # 50,000 open + 200,000 closed tickets
    python -m bench.sweep_bench --open 20000 --closed 50000 --repeat 5

A temporary SQLite file (WAL, the project's own `Database`) is seeded directly with executemany in one
transaction: open tickets (dispatched / accepted / reopened) over the example city's units with deadlines spread
uniformly over the working time of the next three weeks, a share of them already overdue (spread over the past
week's working time), closed tickets from the past year and a few recently resolved ones (not yet auto-closed).
The city's group chats are bound to made-up chat ids, so the sweep queues its digests in the outbox (nothing is
sent: there is no Bot API here).

With a FakeClock at Monday 2 March 2026 10:00 Shanghai it times:

- ours: `Sweeper.sweep()` — the first sweep (finds, records and queues many; repeated `--repeat` times, the
  reminders and outbox emptied in between, untimed) and steady-state sweeps each a minute after the previous one;
- naive: on the same `Database` (same thread hop), load every open ticket's state and due times and compute
  `calendar.working_seconds_between(now, due)` for each, skipping what the reminders table already holds. It only
  FINDS; the sweep also records, renders and queues, so the ratio is conservative.

It checks that both find the same (ticket, reminder kind) pairs at every instant (exit code 1 if not), shows the
query plans of the sweep's own SELECTs on `tickets` (captured with a trace callback) and writes
bench/results/sweep.json.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import Stopwatch, machine_info, write_json
from bot.clock import FakeClock
from bot.config import City, Config, load_config
from bot.domain.calendar import WorkingCalendar
from bot.domain.lifecycle import HANDLING_CLOCK_STATES, SIGN_CLOCK_STATES, TicketState
from bot.seed import TicketSeed, seed_tickets
from bot.services import Services
from bot.workflow.sweep import SweepResult
from storage import chats, users
from storage.db import Database
from storage.records import from_db, to_db
from storage.states import HANDLING_CLOCK, OPEN_IN, SIGN_CLOCK

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGET_S = 1.0
SHANGHAI = timedelta(hours=8)
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC) - SHANGHAI  # Monday 10:00 in Shanghai, a working day
OPEN_MIX = ((TicketState.DISPATCHED, 0.3), (TicketState.ACCEPTED, 0.6), (TicketState.REOPENED, 0.1))
REPORTER = 1

Pair = tuple[int, str]  # (ticket id, reminder kind as the sweep records it, e.g. "due_at:before:7h")


# ---- the data ----


def working_intervals(city: City, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """The city's working intervals from ``first`` to ``last`` (local days, inclusive), as UTC instants."""
    calendar, tz = city.calendar(), city.timezone
    out = []
    day = first
    while day <= last:
        if calendar.is_working_day(day):
            for begin, end in city.calendar_config.working_hours:
                out.append((datetime.combine(day, begin, tzinfo=tz).astimezone(UTC),
                            datetime.combine(day, end, tzinfo=tz).astimezone(UTC)))
        day += timedelta(days=1)
    return out


class DuePicker:
    """Instants uniform over the working time of some intervals, each strictly inside (begin, end] and on a whole
    second — where real deadlines lie (`add_working_hours` never returns an interval's start)."""

    def __init__(self, intervals: list[tuple[datetime, datetime]], rng: random.Random) -> None:
        self.intervals = intervals
        self.weights = [(e - b).total_seconds() for b, e in intervals]
        self.rng = rng

    def pick(self) -> datetime:
        begin, end = self.rng.choices(self.intervals, weights=self.weights)[0]
        return begin + timedelta(seconds=self.rng.randint(1, int((end - begin).total_seconds())))


def ticket_seeds(city: City, now: datetime, n_open: int, n_closed: int, n_resolved: int, overdue_share: float,
                 seed: int) -> Iterator[TicketSeed]:
    rng = random.Random(seed)
    local_today = now.astimezone(city.timezone).date()
    ahead = working_intervals(city, local_today, local_today + timedelta(days=21))
    future = DuePicker([(max(b, now), e) for b, e in ahead if e > now], rng)  # the current one from now on
    past = DuePicker([iv for iv in working_intervals(city, local_today - timedelta(days=7), local_today)
                      if iv[1] <= now], rng)
    units = [u.key for u in city.units]
    categories = [(c.key, c.deadline_class) for c in city.categories]
    states, weights = zip(*OPEN_MIX, strict=True)

    def ticket(state: TicketState, created: datetime, **more: Any) -> TicketSeed:
        category, klass = rng.choice(categories)
        return TicketSeed(state, category, rng.choice(units), klass, created, REPORTER, step=timedelta(minutes=1),
                          **more)

    for _ in range(n_open):
        due = past.pick() if rng.random() < overdue_share else future.pick()
        created = min(due, now) - timedelta(days=rng.uniform(0.1, 10))
        yield ticket(rng.choices(states, weights=weights)[0], created, due=due)
    for i in range(n_closed + n_resolved):
        resolved = i >= n_closed
        created = now - timedelta(days=rng.uniform(3, 365)) if not resolved else now - timedelta(days=5)
        done = created + timedelta(days=rng.uniform(0.5, 10)) if not resolved else now - timedelta(
            days=rng.uniform(0.1, 3))  # resolved within the auto-close window: not closed by the sweep
        yield ticket(TicketState.RESOLVED if resolved else TicketState.CLOSED, created,
                     due=created + timedelta(days=10), resolved_at=done, closed_at=None if resolved else done)


def seed(c: Any, city: City, now: datetime, p: Params) -> int:
    users.upsert(c, REPORTER, "zh", now)
    seed_tickets(c, ticket_seeds(city, now, p.open, p.closed, p.resolved, p.overdue_share, p.seed))
    for i, group in enumerate(city.groups):  # made-up chat ids: the digests are queued, never sent
        chats.bind(c, -100_000 - i, group.role, group.unit, group.title, 0, now)
    return c.execute("SELECT count(*) FROM tickets").fetchone()[0]


# ---- the naive baseline ----


def naive_find(c: Any, calendar: WorkingCalendar, now: datetime, hours: tuple[float, ...]) -> set[Pair]:
    """Every open ticket, its working seconds to the deadline computed in Python, minus what was recorded."""
    recorded = {(r[0], r[1], r[2]) for r in c.execute("SELECT ticket_id, kind, due_at FROM reminders")}
    found: set[Pair] = set()
    rows = c.execute(f"SELECT id, state, sign_due_at, due_at FROM tickets WHERE state IN {OPEN_IN}")
    for ticket_id, state, sign_due, due in rows:
        if state in SIGN_CLOCK_STATES:
            column, at = "sign_due_at", sign_due
        elif state in HANDLING_CLOCK_STATES:
            column, at = "due_at", due
        else:
            continue
        if at is None:
            continue
        left = calendar.working_seconds_between(now, from_db(at))  # type: ignore[arg-type]
        kinds = ["overdue"] if left <= 0 else [f"before:{h:g}h" for h in hours if left <= h * 3600]
        for kind in kinds:
            if (ticket_id, f"{column}:{kind}", at) not in recorded:
                found.add((ticket_id, f"{column}:{kind}"))
    return found


def calendar_calls(c: Any, calendar: WorkingCalendar, now: datetime, escalate: bool) -> dict[str, Any]:
    """Diagnostic: the `working_seconds_between` calls the first sweep's digest lines make ("n working hours
    left / late"), timed alone: one per listed reminder, one per overdue notice, one more per escalation."""
    soon: dict[tuple[int, str], str] = {}
    late: list[str] = []
    for ticket_id, kind, due in c.execute("SELECT ticket_id, kind, due_at FROM reminders WHERE queued_at = ?",
                                          (to_db(now),)):
        column, what = kind.split(":", 1)
        if what == "overdue":
            late += [due] * (2 if escalate else 1)
        else:
            soon[(ticket_id, column)] = due
    with Stopwatch() as sw:
        for due in soon.values():
            calendar.working_seconds_between(now, from_db(due))  # type: ignore[arg-type]
        for due in late:
            calendar.working_seconds_between(from_db(due), now)  # type: ignore[arg-type]
    return {"calls": len(soon) + len(late), "seconds": round(sw.seconds, 4)}


def forget_first_sweep(c: Any) -> None:
    """Back to the state before the first sweep (it auto-closes nothing: the resolved ones are too recent)."""
    c.execute("DELETE FROM reminders")
    c.execute("DELETE FROM outbox")


def recorded_at(c: Any, when: datetime) -> set[Pair]:
    return {(r[0], r[1]) for r in c.execute("SELECT ticket_id, kind FROM reminders WHERE queued_at = ?",
                                             (to_db(when),))}


# ---- the benchmark ----


@dataclasses.dataclass
class Params:
    open: int
    closed: int
    resolved: int
    overdue_share: float
    repeat: int
    steady: int
    seed: int
    output: Path


async def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    with Stopwatch() as sw:
        value = await fn()
    return sw.seconds, value


def summary(samples: list[float]) -> dict[str, Any]:
    return {"median_s": round(statistics.median(samples), 4), "min_s": round(min(samples), 4),
            "max_s": round(max(samples), 4), "runs_s": [round(s, 4) for s in samples]}


def index_friendly(sql: str) -> str:
    """The same SELECT with its state condition spelled as the partial indexes' WHERE clauses (SQLite uses a
    partial index only when the query repeats the index's condition term): a diagnostic, not our query."""
    return (sql.replace("t.state IN ('dispatched')", SIGN_CLOCK)
            .replace("t.state IN ('accepted', 'reopened')", HANDLING_CLOCK))


async def query_plans(db: Database, statements: list[str]) -> list[dict[str, Any]]:
    """Each distinct SELECT on tickets the sweep ran: its plan and time when run again (the reminders it
    recorded are there by then, so it returns few rows), and the same for the index-friendly spelling."""

    async def measure(sql: str) -> dict[str, Any]:
        plan = await db.read(lambda c: [r[3] for r in c.execute("EXPLAIN QUERY PLAN " + sql)])
        runs = [await timed(lambda: db.read(lambda c: len(c.execute(sql).fetchall()))) for _ in range(3)]
        return {"plan": plan, "rerun_s": round(statistics.median(s for s, _ in runs), 4), "rows": runs[0][1],
                "full_scan": any(step.startswith("SCAN t") for step in plan)}

    out = []
    for sql in statements:
        variant = index_friendly(sql)
        out.append({"sql": sql, **await measure(sql),
                    "index_friendly": {"sql": variant, **await measure(variant)} if variant != sql else None})
    return out


async def bench(p: Params) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        cfg = load_config(ROOT / "config.example.toml")
        cfg = dataclasses.replace(cfg, storage=dataclasses.replace(cfg.storage, database=Path(tmp) / "sweep.sqlite3"))
        return await run(cfg, p)


async def run(cfg: Config, p: Params) -> dict[str, Any]:
    city, hours = cfg.city, tuple(sorted(cfg.reminders.before_working_hours))
    calendar = city.calendar()
    clock = FakeClock(START)
    db = await Database.open(cfg.storage.database)
    try:
        seed_s, total = await timed(lambda: db.write(lambda c: seed(c, city, START, p)))
        await db.read(lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
        journal = await db.read(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
        sweeper = Services.build(cfg, db, clock).sweeper
        mismatches: list[str] = []

        def check(label: str, naive: set[Pair], ours: set[Pair]) -> None:
            if naive != ours:
                mismatches.append(f"{label}: naive-only {sorted(naive - ours)[:5]}, sweep-only "
                                  f"{sorted(ours - naive)[:5]} ({len(naive)} vs {len(ours)})")

        # First sweep: naive and ours on the same state, `repeat` times each (ours reset in between, untimed).
        naive_first, ours_first, results = [], [], []
        statements: list[str] = []
        for i in range(p.repeat):
            seconds, naive = await timed(lambda: db.read(lambda c: naive_find(c, calendar, START, hours)))
            naive_first.append(seconds)
            if i == 0:
                await db.read(lambda c: c.set_trace_callback(statements.append))
            seconds, result = await timed(sweeper.sweep)
            if i == 0:
                await db.read(lambda c: c.set_trace_callback(None))
            ours_first.append(seconds)
            results.append(result)
            check(f"first sweep #{i + 1}", naive, await db.read(lambda c: recorded_at(c, START)))
            if i < p.repeat - 1:
                await db.write(forget_first_sweep)
        first: SweepResult = results[-1]
        escalate = cfg.reminders.escalate_overdue and first.escalated > 0
        rendering = await db.read(lambda c: calendar_calls(c, calendar, START, escalate))
        selects = list(dict.fromkeys(s for s in statements if s.lstrip().upper().startswith("SELECT T.*")))

        # Steady state: a sweep a minute after the previous one finds what crossed a horizon in that minute.
        naive_steady, ours_steady, steady_results = [], [], []
        for _ in range(p.steady):
            now = clock.advance(60)
            seconds, naive = await timed(lambda now=now: db.read(lambda c: naive_find(c, calendar, now, hours)))
            naive_steady.append(seconds)
            seconds, result = await timed(sweeper.sweep)
            ours_steady.append(seconds)
            steady_results.append(dataclasses.asdict(result))
            check(f"steady sweep at +{(now - START).total_seconds():.0f}s", naive,
                  await db.read(lambda c, now=now: recorded_at(c, now)))
        plans = await query_plans(db, selects)
        counts = await db.read(lambda c: {
            "tickets": total,
            "open": c.execute(f"SELECT count(*) FROM tickets WHERE state IN {OPEN_IN}").fetchone()[0],
            "reminders_rows": c.execute("SELECT count(*) FROM reminders").fetchone()[0],
            "outbox_rows": c.execute("SELECT count(*) FROM outbox").fetchone()[0]})
        db_bytes = Path(cfg.storage.database).stat().st_size
    finally:
        await db.close()

    first_ratio = statistics.median(naive_first) / statistics.median(ours_first)
    steady_ratio = statistics.median(naive_steady) / statistics.median(ours_steady)
    return {
        "benchmark": "sweep",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": {
            "open_tickets": p.open, "closed_tickets": p.closed, "resolved_recently": p.resolved,
            "overdue_share": p.overdue_share, "open_state_mix": dict(OPEN_MIX), "seed": p.seed,
            "clock": f"FakeClock at {START.isoformat()} (Mon 2 Mar 2026 10:00 Shanghai)",
            "before_working_hours": list(hours), "units": len(city.units), "bound_chats": len(city.groups),
            "database": "temporary file", "journal_mode": journal, "database_mb": round(db_bytes / 1e6, 1),
            "repeat_first": p.repeat, "steady_sweeps": p.steady,
        },
        "seed_s": round(seed_s, 2),
        "counts": counts,
        "first": {"ours": summary(ours_first), "naive": summary(naive_first), "ratio": round(first_ratio, 2),
                  "result": dataclasses.asdict(first), "calendar_calls_for_the_lines": rendering},
        "steady": {"ours": summary(ours_steady), "naive": summary(naive_steady), "ratio": round(steady_ratio, 2),
                   "results": steady_results},
        "target_s": TARGET_S,
        "meets_target": max(ours_first + ours_steady) < TARGET_S,
        "same_findings": not mismatches,
        "mismatches": mismatches,
        "sweep_selects_on_tickets": plans,
    }


# ---- output ----


def table(r: dict[str, Any]) -> str:
    f, s, prm, m = r["first"], r["steady"], r["parameters"], r["machine"]
    res = f["result"]
    steady_found = [x["reminders"] + x["overdue"] for x in s["results"]]
    rows = [
        ("", "first sweep", "steady (+1 min)"),
        ("found: reminders / overdue", f"{res['reminders']} / {res['overdue']}",
         f"{statistics.median(steady_found):g} (median, both)"),
        ("digest messages queued / chats", f"{res['messages']} / {res['chats']}",
         f"{statistics.median([x['messages'] for x in s['results']]):g} (median)"),
        ("ours: Sweeper.sweep() median (s)", f"{f['ours']['median_s']:.3f}", f"{s['ours']['median_s']:.3f}"),
        ("ours: min .. max (s)", f"{f['ours']['min_s']:.3f} .. {f['ours']['max_s']:.3f}",
         f"{s['ours']['min_s']:.3f} .. {s['ours']['max_s']:.3f}"),
        ("naive: find only, median (s)", f"{f['naive']['median_s']:.3f}", f"{s['naive']['median_s']:.3f}"),
        ("ratio naive / ours", f"{f['ratio']:.1f}x", f"{s['ratio']:.1f}x"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}" for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    verdict = "meets" if r["meets_target"] else "MISSES"
    plans = []
    for q in r["sweep_selects_on_tickets"]:
        plans.append(f"  {q['sql'][:140]}...")
        plans.append(f"    as written      {q['rerun_s'] * 1000:7.1f} ms  {' / '.join(q['plan'][:1])}")
        if q["index_friendly"]:
            v = q["index_friendly"]
            plans.append(f"    index-friendly  {v['rerun_s'] * 1000:7.1f} ms  {' / '.join(v['plan'][:1])}")
    return "\n".join([
        f"sweep benchmark: {m['platform']}, Python {m['python']}, {m['cpu_count']} CPUs",
        f"{r['counts']['tickets']:,} tickets ({r['counts']['open']:,} open), {prm['units']} units, "
        f"reminders {prm['before_working_hours']} working hours before; {prm['journal_mode']} file "
        f"{prm['database_mb']} MB; seeded in {r['seed_s']:.1f} s",
        f"first sweep x{prm['repeat_first']} (reset between), {prm['steady_sweeps']} steady sweeps a minute apart",
        "",
        *lines,
        "",
        f"slowest sweep {max(f['ours']['max_s'], s['ours']['max_s']):.3f} s (target < {r['target_s']:g} s: "
        f"{verdict}); naive and sweep found the same pairs: {r['same_findings']}",
        f"of the first sweep: {f['calendar_calls_for_the_lines']['calls']:,} working_seconds_between calls for its "
        f"lines (time left / late) take {f['calendar_calls_for_the_lines']['seconds']:.3f} s when timed alone",
        "the sweep's SELECTs on tickets (first sweep), re-run after it (median of 3), as written and with the state",
        "condition spelled as the partial index's WHERE (diagnostic only):",
        *plans,
    ])


def parse_args(argv: list[str] | None) -> Params:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=50_000, help="open tickets (default 50,000)")
    parser.add_argument("--closed", type=int, default=200_000, help="closed tickets (default 200,000)")
    parser.add_argument("--resolved", type=int, default=2_000, help="recently resolved, not yet auto-closed")
    parser.add_argument("--overdue-share", type=float, default=0.05, help="share of open tickets overdue")
    parser.add_argument("--repeat", type=int, default=3, help="first sweeps (reset between), default 3")
    parser.add_argument("--steady", type=int, default=3, help="steady-state sweeps a minute apart, default 3")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--output", type=Path, default=RESULTS / "sweep.json")
    a = parser.parse_args(argv)
    if a.open < 1 or a.closed < 0 or a.resolved < 0 or a.repeat < 1 or a.steady < 1 or not 0 <= a.overdue_share < 1:
        parser.error("counts must be positive and --overdue-share in [0, 1)")
    return Params(a.open, a.closed, a.resolved, a.overdue_share, a.repeat, a.steady, a.seed, a.output)


def main(argv: list[str] | None = None) -> int:
    p = parse_args(argv)
    report = asyncio.run(bench(p))
    write_json(p.output, report)
    print(table(report))
    for line in report["mismatches"]:
        print(f"MISMATCH {line}", file=sys.stderr)
    print(f"\nwritten: {p.output}")
    return 0 if report["same_findings"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
