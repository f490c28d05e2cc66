"""`/status` at a city's yearly volume: the bot's own lookup path against a bare sqlite3 lookup by the index.

    python -m bench.status_bench                                 # the 1.5M-ticket year of bench/report_bench.py
    python -m bench.status_bench --db /tmp/small.sqlite3 --tickets 50000 --lookups 2000

Ours: `Lookup.status` (bot/workflow/lookup.py) on an open `storage.db.Database`, exactly what the /status
handler awaits — parse and check the number, the ticket by its unique number, its public events and photo
count, in one hop to the connection's thread — and then the reply text (`status_text`). Baseline, in the same
run on the same file: a bare `sqlite3` connection's `SELECT * FROM tickets WHERE number = ?` (the unique index).
Numbers are drawn at random from the seeded year (seeded with `bench/report_bench.ensure_seeded` when the file
holds none). Each lookup is timed alone, one after the other (latency, not throughput). Writes
bench/results/status.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.measure import machine_info, percentile  # noqa: E402
from bench.report_bench import CITY, RESULTS, ensure_seeded  # noqa: E402


def _figures(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {"lookups": len(ms), "p50_ms": round(percentile(ms, 50), 4), "p99_ms": round(percentile(ms, 99), 4),
            "max_ms": round(max(ms), 4)}


def _numbers(db: Path, count: int, seed: int) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        top = conn.execute("SELECT max(id) FROM tickets").fetchone()[0] or 0
        rng = random.Random(seed)
        ids = [rng.randint(1, top) for _ in range(count)]
        found = dict(conn.execute(f"SELECT id, number FROM tickets WHERE id IN ({', '.join('?' * len(ids))})",
                                  ids).fetchall()) if ids else {}
    finally:
        conn.close()
    return [found[i] for i in ids if i in found]


def bare(db: Path, numbers: list[str]) -> list[float]:
    conn = sqlite3.connect(db)
    try:
        times = []
        for number in numbers:
            t0 = time.perf_counter()
            conn.execute("SELECT * FROM tickets WHERE number = ?", (number,)).fetchone()
            times.append(time.perf_counter() - t0)
        return times
    finally:
        conn.close()


async def ours(db: Path, numbers: list[str]) -> list[float]:
    from bot.config import load_city
    from bot.texts import Texts
    from bot.workflow.lookup import Lookup
    from handlers.status_views import status_text
    from storage.db import Database

    city, texts = load_city(CITY), Texts()
    database = await Database.open(db)
    try:
        lookup = Lookup(SimpleNamespace(db=database))  # type: ignore[arg-type]  # Lookup reads only deps.db
        times = []
        for number in numbers:
            t0 = time.perf_counter()
            view = await lookup.status(number)
            status_text(texts, "zh", city, view)
            times.append(time.perf_counter() - t0)
        return times
    finally:
        await database.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, default=RESULTS / "year.sqlite3")
    p.add_argument("--tickets", type=int, default=1_500_000, help="seed this many when the file holds none")
    p.add_argument("--lookups", type=int, default=5000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--output", type=Path, default=RESULTS / "status.json")
    args = p.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    print("seeding (or reusing)", args.db, flush=True)
    seeded = ensure_seeded(args.db, args.tickets)
    numbers = _numbers(args.db, args.lookups, args.seed)
    warm = numbers[: min(200, len(numbers))]
    bare(args.db, warm)  # the same pages cached for both
    asyncio.run(ours(args.db, warm))
    result = {"machine": machine_info(), "seed": seeded, "tickets": _count(args.db),
              "bare": _figures(bare(args.db, numbers)), "ours": _figures(asyncio.run(ours(args.db, numbers)))}
    args.output.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("tickets", "bare", "ours")}, indent=1), flush=True)
    return 0


def _count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    finally:
        conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
