"""The ledger's writers compared on the same rows: each in a child process of its own (seconds, rows/s, peak
RSS by ru_maxrss), the same database, period and language.

    python -m bench.ledger_writers --db /tmp/ledger.sqlite3              # 200k tickets: a few minutes
    python -m bench.ledger_writers --db bench/results/year.sqlite3 --only xlsxwriter,csv

Writers: ``openpyxl`` (write-only, serialising through lxml: ``openpyxl.LXML`` True), ``openpyxl-stdlib`` (the
same with ``OPENPYXL_LXML=False``, the standard library's XML writer), ``xlsxwriter`` (``constant_memory``) and
``stream`` (bot/reports/xlsx.py: one XML string a row) and ``csv`` (the floor: the same rows, no spreadsheet).
Writes bench/results/ledger_writers.json. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CITY = ROOT / "examples" / "fuyang" / "city.toml"
YEAR_END = date(2026, 12, 31)
#: name: (kind, writer, extra environment)
WRITERS = {
    "openpyxl": ("xlsx", "openpyxl", {"OPENPYXL_LXML": "True"}),
    "openpyxl-stdlib": ("xlsx", "openpyxl", {"OPENPYXL_LXML": "False"}),
    "xlsxwriter": ("xlsx", "xlsxwriter", {}),
    "stream": ("xlsx", "stream", {}),
    "csv": ("csv", "", {}),
}


def child(db: Path, days: int, name: str, out: Path) -> dict[str, object]:
    """In the child: write the ledger with one writer; rows/s and this process's peak RSS."""
    import asyncio

    kind, writer, _ = WRITERS[name]
    from bench.peak_rss import maxrss_mb, peak_rss_mb

    rss_start = peak_rss_mb()
    from bot.config import load_city
    from bot.reports.ledger import DEFAULT_WRITER, write_ledger
    from storage.db import Database

    city = load_city(CITY)
    rss_before = peak_rss_mb()
    start = YEAR_END - timedelta(days=days - 1)

    async def run() -> object:
        d = await Database.open(db)
        try:
            return await write_ledger(d, city, start, YEAR_END, out, "zh", kind=kind, writer=writer or DEFAULT_WRITER)
        finally:
            await d.close()

    t0 = time.perf_counter()
    stats = asyncio.run(run())
    seconds = time.perf_counter() - t0
    extra: dict[str, object] = {}
    if name.startswith("openpyxl"):
        import openpyxl

        extra["lxml"] = openpyxl.LXML
    return {"writer": name, "rows": stats.rows, "seconds": round(seconds, 1),  # type: ignore[attr-defined]
            "rows_per_s": round(stats.rows / seconds),  # type: ignore[attr-defined]
            "peak_rss_mb": peak_rss_mb(), "ru_maxrss_mb": maxrss_mb(),
            "rss_after_imports_mb": rss_before, "rss_at_start_mb": rss_start,
            "file_mb": round(out.stat().st_size / 2**20, 1), **extra}


def run_child(db: Path, days: int, name: str) -> dict[str, object]:
    env = {**os.environ, **WRITERS[name][2], "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bench.ledger_writers", "--child", name, "--db", str(db),
                           "--days", str(days)], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--only", default=",".join(WRITERS), help="comma-separated writers")
    p.add_argument("--output", type=Path, default=RESULTS / "ledger_writers.json")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.child:
        suffix = "csv" if WRITERS[args.child][0] == "csv" else "xlsx"
        print(json.dumps(child(args.db, args.days, args.child, RESULTS / f"ledger-{args.child}.{suffix}")))
        return 0
    results = []
    for name in args.only.split(","):
        result = run_child(args.db, args.days, name)
        results.append(result)
        print(json.dumps(result), flush=True)
    args.output.write_text(json.dumps({"db": str(args.db), "days": args.days, "writers": results}, indent=2) + "\n",
                           encoding="utf-8")
    print("written", args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
