"""Reports over a seeded year: the ranking against the planner's naive GROUP BY, the full report, the chart,
and the .xlsx ledger streamed in bounded memory.

    python -m bench.report_bench                    # seeds bench/results/year.sqlite3 once (1.5M tickets)
    python -m bench.report_bench --tickets 200000 --db /tmp/small.sqlite3 --ledger-days 31

Writes bench/results/reports.json. The ledger (.xlsx: ``ledger``) and the same rows as CSV (``ledger_csv``) each
run in a child process of their own, so each peak RSS (VmHWM, bench/peak_rss.py) is that export's own, not the
seeding's. Not a test: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.config import load_city  # noqa: E402
from bot.reports import model  # noqa: E402
from storage import reports as sql  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CITY = ROOT / "examples" / "fuyang" / "city.toml"
YEAR_END = date(2026, 12, 31)
REPEAT = 3


def _timed(fn, repeat: int = REPEAT) -> tuple[list[float], object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def _summary(times: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "runs": [round(t, 3) for t in times]}


def ensure_seeded(db: Path, tickets: int) -> dict[str, object]:
    from bot.seed import seed_demo
    from storage.bulk import is_empty
    from storage.db import Database

    if not is_empty(db):
        asyncio.run(_open_close(Database, db))  # applies any new migration (e.g. the report indexes)
        n = sqlite3.connect(db).execute("SELECT count(*) FROM tickets").fetchone()[0]
        return {"reused": True, "tickets": n}
    stats = seed_demo(db, load_city(CITY), tickets, YEAR_END, seed=1)
    return {"reused": False, "tickets": stats.tickets, "events": stats.events, "seed_seconds": stats.seconds,
            "open": stats.open, "overdue": stats.overdue, "reopened": stats.reopened}


async def _open_close(database_cls, db: Path) -> None:  # type: ignore[no-untyped-def]
    d = await database_cls.open(db)
    await d.close()


def bench_queries(db: Path) -> dict[str, object]:
    city = load_city(CITY)
    period = model.Period(YEAR_END - timedelta(days=364), YEAR_END)
    start, end = period.utc_bounds(city.timezone)
    as_of = datetime.combine(YEAR_END + timedelta(days=1), datetime.min.time(), city.timezone)
    as_of_text = as_of.astimezone(UTC).isoformat(timespec="microseconds")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.execute("PRAGMA cache_size=-65536")
    params = {"start": start, "end": end, "as_of": as_of_text}
    plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql.NAIVE_RANKING_SQL, params)]
    naive_times, naive = _timed(lambda: conn.execute(sql.NAIVE_RANKING_SQL, params).fetchall())
    full_scan_sql = sql.NAIVE_RANKING_SQL.replace("FROM tickets", "FROM tickets NOT INDEXED")
    scan_times, _ = _timed(lambda: conn.execute(full_scan_sql, params).fetchall())

    def ranking(counts_fn=sql.counts) -> tuple:  # type: ignore[no-untyped-def]
        counts = counts_fn(conn, start, end, as_of_text)
        figures: dict[str, model.UnitFigures] = {}
        for c in counts:
            if c.unit is not None:
                figures.setdefault(c.unit, model.UnitFigures(c.unit, c.unit, c.unit)).add(c)
        return model.rank(figures.values())

    # Baseline: the covering-index plan the ranking used before the day/month summaries (migration 0009).
    index_times, ranked_by_index = _timed(lambda: ranking(sql.counts_from_index))
    rank_times, ranked = _timed(ranking)
    assert ranked == ranked_by_index, "the summaries' ranking differs from the tickets table's"
    # The two plans must agree (same figures, ours only faster).
    naive_rates = {r[0]: (r[2], r[3] + r[4]) for r in naive if r[0] is not None}
    ours_rates = {u.key: (u.resolved_on_time, u.due) for u in ranked}  # type: ignore[union-attr]
    assert naive_rates == ours_rates, "ranking differs from the naive query"
    report_times, raw = _timed(lambda: model.query(conn, period, city.timezone, as_of_text))
    report = model.assemble(city, period, as_of, raw)  # type: ignore[arg-type]

    from bot.reports.chart import render_png
    from bot.texts import Texts

    texts = Texts()
    render_png(report, "zh", texts)  # font registration and first-draw costs
    chart_times, png = _timed(lambda: render_png(report, "zh", texts))
    (RESULTS / "year_report.png").write_bytes(png)  # type: ignore[arg-type]
    summary_rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("ticket_day_summary", "ticket_month_summary")}
    conn.close()
    return {
        "period": [str(period.start), str(period.end)],
        "tickets_in_period": report.total.received,
        "naive_group_by": {**_summary(naive_times), "plan": plan},
        "naive_full_scan": _summary(scan_times),
        "ranking_covering_index": _summary(index_times),
        "ranking": {**_summary(rank_times), "source": "ticket_month_summary + ticket_day_summary (0009)"},
        "ranking_ratio": round(statistics.median(index_times) / statistics.median(rank_times), 1),
        "summary_rows": summary_rows,
        "full_report_queries": _summary(report_times),
        "chart_png": {**_summary(chart_times), "bytes": len(png)},  # type: ignore[arg-type]
        "top_unit": report.units[0].key,
    }


def ledger_child(db: Path, days: int, out: Path, kind: str = "xlsx") -> dict[str, object]:
    """Run in a child process: write the ledger (``kind`` xlsx or csv) and report rows/s and this process's peak
    RSS (``rss_before_mb``: after the imports and the city, before the export)."""
    from bot.reports.ledger import write_ledger
    from storage.db import Database

    city = load_city(CITY)
    start = YEAR_END - timedelta(days=days - 1)

    async def run() -> object:
        d = await Database.open(db)
        try:
            return await write_ledger(d, city, start, YEAR_END, out, "zh", kind=kind)
        finally:
            await d.close()

    from bench.peak_rss import maxrss_mb, peak_rss_mb

    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    stats = asyncio.run(run())
    seconds = time.perf_counter() - t0
    return {"kind": kind, "days": days, "rows": stats.rows, "sheets": stats.ledger_sheets, "seconds": round(seconds, 1),  # type: ignore[attr-defined]
            "rows_per_s": round(stats.rows / seconds),  # type: ignore[attr-defined]
            "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before, "ru_maxrss_mb": maxrss_mb(),
            "file_mb": round(out.stat().st_size / 2**20, 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=1_500_000)
    p.add_argument("--db", type=Path, default=RESULTS / "year.sqlite3")
    p.add_argument("--ledger-days", type=int, default=365, help="days of ledger to export (0: skip)")
    p.add_argument("--output", type=Path, default=RESULTS / "reports.json")
    p.add_argument("--ledger-child", choices=("xlsx", "csv"), help=argparse.SUPPRESS)
    args = p.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.ledger_child:
        kind = args.ledger_child
        print(json.dumps(ledger_child(args.db, args.ledger_days, RESULTS / f"ledger.{kind}", kind)))
        return 0
    result: dict[str, object] = {"machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                                             "cpus": __import__("os").cpu_count()}}
    print("seeding (or reusing)", args.db, flush=True)
    result["seed"] = ensure_seeded(args.db, args.tickets)
    print(json.dumps(result["seed"]), flush=True)
    result["queries"] = bench_queries(args.db)
    print(json.dumps(result["queries"], indent=1), flush=True)
    if args.ledger_days:
        for name, kind in (("ledger", "xlsx"), ("ledger_csv", "csv")):
            print(f"writing the {kind} ledger ({args.ledger_days} days) in a child process", flush=True)
            child = subprocess.run([sys.executable, "-m", "bench.report_bench", "--ledger-child", kind, "--db",
                                    str(args.db), "--ledger-days", str(args.ledger_days)], cwd=ROOT,
                                   capture_output=True, text=True, check=True)
            result[name] = json.loads(child.stdout.strip().splitlines()[-1])
            print(json.dumps(result[name]), flush=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("written", args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
