"""Every benchmark in one run: each bench with its baseline, one table of figures against issue 9's targets,
one JSON file.

    python -m bench.suite --quick                 # smaller sizes, under 3 minutes on 2 cores
    python -m bench.suite                         # the full sizes (up to an hour: 1.5M tickets are seeded once)
    python -m bench.suite --only report,sweep     # some of them (NAME may repeat or be comma-separated)
    complaint-bot bench --quick                   # the same, from a checkout (bot/cli_bench.py)

Each bench runs as its own child process (``python -m bench.X ... --output FILE``), exactly as it runs standalone,
so one bench's memory, event loop and imports never colour another's figures. The suite only chooses the sizes,
shows a progress line while a bench runs, and reads the figures out of the bench's own JSON. A figure whose key a
bench does not write (yet) is shown as "—" and "not measured", never guessed.

Not a test: nothing here fails on a timing. Exit code 1 if a bench failed (its own checks, e.g. the ranking from
the summaries differing from the tickets table's, or a crash), 0 otherwise, whatever the targets say.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_OUTPUT = RESULTS / "suite.json"
PROGRESS_EVERY_S = 10  # a new progress line this often when the output is not a terminal


@dataclass(frozen=True)
class Bench:
    """One benchmark: its module and its arguments at the two sizes."""

    name: str
    module: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    about: str


BENCHES: tuple[Bench, ...] = (
    Bench("intake", "bench.intake_bench",
          ("--residents", "200", "--concurrency", "20", "--paced", "100", "--seed-tickets", "100000"),
          ("--residents", "50", "--concurrency", "10", "--paced", "30", "--seed-tickets", "20000"),
          "residents filing complaints vs a bare PTB echo bot (saturated, then at human pace)"),
    Bench("report", "bench.report_bench", ("--tickets", "1500000", "--db", str(RESULTS / "year.sqlite3")),
          ("--tickets", "50000", "--db", str(RESULTS / "year-50k.sqlite3")),
          "yearly ranking, report, chart and ledger over a seeded year"),
    Bench("status", "bench.status_bench", ("--db", str(RESULTS / "year.sqlite3"), "--tickets", "1500000"),
          ("--db", str(RESULTS / "year-50k.sqlite3"), "--tickets", "50000", "--lookups", "2000"),
          "/status through the bot's lookup path vs a bare sqlite3 lookup by the unique index"),
    Bench("sweep", "bench.sweep_bench", (), ("--open", "5000", "--closed", "20000", "--repeat", "1", "--steady", "2"),
          "deadline sweep vs a naive per-ticket loop"),
    Bench("reminders", "bench.reminders_bench", (), ("--tickets", "2000", "--groups", "60"),
          "digests to group chats under Telegram-like flood limits vs the limit-bound minimum"),
    Bench("routing", "bench.routing_bench", (), ("--points", "20000", "--naive-points", "2000"),
          "zone routing vs contains() on every polygon"),
    Bench("suggest", "bench.suggest_bench", (), (), "category suggestions vs the city file's frequency order"),
    Bench("import", "bench.import_bench", ("--rows", "100000", "--bad", "300"), ("--rows", "20000", "--bad", "60"),
          "a 12345 ledger (CSV, xlsx) imported vs a bare csv.reader pass and a bare executemany"),
    Bench("postgres", "bench.pg_bench",
          ("--tickets", "1500000", "--residents", "200", "--db", str(RESULTS / "year.sqlite3")),
          ("--quick", "--tickets", "50000", "--residents", "30", "--db", str(RESULTS / "year-50k.sqlite3")),
          "PostgreSQL vs SQLite: intake, the yearly report and /status at the seeded year, migrate-data of it"),
)
BY_NAME = {b.name: b for b in BENCHES}


# -- figures ----------------------------------------------------------------------------------------------------

def dig(data: Any, path: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; None if any step is missing."""
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


@dataclass(frozen=True)
class Figure:
    """One row of the table. ``met`` is None when it cannot be judged (not measured, or no target)."""

    bench: str
    figure: str
    ours: float | None
    baseline: float | None
    ratio: float | None
    target: str
    met: bool | None
    unit: str = ""
    note: str = ""


@dataclass(frozen=True)
class Spec:
    """How to read one figure from a bench's JSON: paths to ours and the baseline, the target, how to judge."""

    figure: str
    ours: str | None
    baseline: str | None
    target: str
    judge: Callable[[float | None, float | None, float | None], bool | None] | None = None
    unit: str = ""
    ratio: str = "ours/baseline"  # or "baseline/ours" (a time: how many times faster)
    note: str = ""
    unmeasured: str = ""  # the note when the bench writes no figure (why), instead of the generic one


def _below(limit: float) -> Callable[[float | None, float | None, float | None], bool | None]:
    return lambda ours, base, ratio: None if ours is None else ours < limit


def _at_most(limit: float) -> Callable[[float | None, float | None, float | None], bool | None]:
    return lambda ours, base, ratio: None if ours is None else ours <= limit


def _at_least(limit: float) -> Callable[[float | None, float | None, float | None], bool | None]:
    return lambda ours, base, ratio: None if ours is None else ours >= limit


def _ratio_at_least(limit: float) -> Callable[[float | None, float | None, float | None], bool | None]:
    return lambda ours, base, ratio: None if ratio is None else ratio >= limit


def _ratio_at_most(limit: float) -> Callable[[float | None, float | None, float | None], bool | None]:
    return lambda ours, base, ratio: None if ratio is None else ratio <= limit


def _latency(ours: float | None, base: float | None, ratio: float | None) -> bool | None:
    if ours is None or ratio is None:
        return None
    return ours < 50 and ratio <= 2


#: Issue 9's targets (full run), and each bench's own figures where the issue names none. Paths are the
#: benches' JSON keys; a path a bench does not write yet shows "not measured".
FIGURES: dict[str, tuple[Spec, ...]] = {
    "intake": (
        Spec("intake updates/s", "ours.updates_per_s", "echo.updates_per_s", "≥ 0.75× echo", _ratio_at_least(0.75),
             "upd/s"),
        Spec("reply latency p99, human pace", "paced.ours.latency.p99_ms", "paced.echo.latency.p99_ms",
             "< 50 ms and ≤ 2× echo", _latency, "ms"),
        Spec("bot peak RSS under intake load", "ours.peak_rss_mb", None, "report it", None, "MB",
             note="one process: bot, emulator, echo bot and residents"),
        Spec("RSS after the load vs before it, tickets seeded first", "rss.after_paced_mb",
             "rss.before_measure_mb", "flat: ≤ 1.1×", _ratio_at_most(1.1), "MB", "ours/baseline"),
    ),
    "report": (
        Spec("yearly ranking", "queries.ranking.median_s", "queries.ranking_covering_index.median_s", "< 0.1 s",
             _below(0.1), "s", "baseline/ours"),
        Spec("whole report: figures + medians + daily", "queries.full_report_queries.median_s", None,
             "report it", None, "s", note="medians and daily volume still read the tickets table"),
        Spec("ledger .xlsx, whole year", "ledger.seconds", "ledger_csv.seconds", "≤ 60 s", _at_most(60), "s"),
        Spec("ledger CSV, whole year", "ledger_csv.seconds", None, "≤ 10 s", _at_most(10), "s"),
        Spec("ledger peak RSS", "ledger.peak_rss_mb", None, "< 150 MB", _below(150), "MB"),
    ),
    "status": (
        Spec("/status p99 at the seeded year", "ours.p99_ms", "bare.p99_ms", "< 1 ms", _below(1.0), "ms"),
    ),
    "sweep": (
        Spec("first deadline sweep", "first.ours.median_s", "first.naive.median_s", "< 0.2 s", _below(0.2), "s",
             "baseline/ours"),
        Spec("steady sweep", "steady.ours.median_s", "steady.naive.median_s", "< 20 ms", _below(0.02), "s",
             "baseline/ours"),
    ),
    "reminders": (
        Spec("reminders: delivery vs limit-bound minimum", "ours.delivery_s", "ours.least_under_limits.least_s",
             "≤ 1.2× the minimum", _ratio_at_most(1.2), "s"),
        Spec("reminders: 429 responses", "ours.flood_429", None, "0", _at_most(0), ""),
        Spec("reminders: messages vs one per ticket", "ours.digest_messages",
             "baseline_one_message_per_ticket.messages", "report it", None, "msgs"),
    ),
    "routing": (
        Spec("routing lookups/s", "lookups_per_s.router_route", "lookups_per_s.naive_loop", "report it", None,
             "/s"),
    ),
    "suggest": (
        Spec("suggestions top-3, all sets", "ours.overall.top3", "baselines.frequency order.overall.top3",
             "≥ 0.90", _at_least(0.90), ""),
    ),
    "import": (
        Spec("import: historical rows/s (CSV)", "historical_csv.rows_per_s", "baseline.executemany_rows_per_s",
             "≥ 20,000 rows/s", _at_least(20_000), "rows/s",
             note="baseline: a bare executemany of the same ticket rows (indexes and summary triggers included)"),
        Spec("import: rows/s, CSV with open cases", "csv.rows_per_s", "baseline.csv_reader_rows_per_s",
             "report it", None, "rows/s"),
        Spec("import: rows/s, xlsx with open cases", "xlsx.rows_per_s", None, "report it", None, "rows/s"),
        Spec("import: re-import (all known)", "reimport_csv.seconds", None, "report it", None, "s"),
    ),
    "postgres": (
        Spec("intake upd/s: PostgreSQL, 1 instance vs SQLite", "intake.postgresql_1.updates_per_s",
             "intake.sqlite_1.updates_per_s", "report it", None, "upd/s"),
        *(Spec(f"intake upd/s: PostgreSQL, {n} instances vs 1 (processes behind nginx)",
               f"intake.postgresql_{n}.updates_per_s", "intake.postgresql_1_processes.updates_per_s", "report it",
               None, "upd/s", note="separate `run --webhook` processes, one emulator; a loaded 2-core machine",
               unmeasured="not measured: nginx or an instance could not start (see the bench's output)")
          for n in (2, 3)),
        *(Spec(f"intake bot CPU ms/update: {n} instances vs 1",
               f"intake.postgresql_{n}.bot_processes_cpu_ms_per_update",
               "intake.postgresql_1_processes.bot_processes_cpu_ms_per_update", "report it", None, "ms",
               "ours/baseline", note="all the bot processes' utime+stime per update")
          for n in (2, 3)),
        Spec("intake process CPU ms/update: PostgreSQL vs SQLite", "intake.postgresql_1.process_cpu_ms_per_update",
             "intake.sqlite_1.process_cpu_ms_per_update", "report it", None, "ms",
             note="the bot, the emulator and the residents (one process)"),
        Spec("intake database ms/update: PostgreSQL vs SQLite", "intake.postgresql_1.db_ms_per_update",
             "intake.sqlite_1.db_ms_per_update", "report it", None, "ms", note="hops inside process_update"),
        Spec("intake PostgreSQL server CPU ms/update", "intake.postgresql_1.server_cpu_ms_per_update", None,
             "report it", None, "ms"),
        Spec("intake ceiling on 2 cores: PostgreSQL vs SQLite",
             "intake.postgresql_1.projected_updates_per_s_per_core_pair",
             "intake.sqlite_1.projected_updates_per_s_per_core_pair", "report it", None, "upd/s",
             note="2000 ms ÷ (process + server CPU) per update; SQLite 1000 ms ÷ process CPU"),
        Spec("yearly ranking: PostgreSQL vs SQLite", "year.postgresql.ranking.median_s",
             "year.sqlite.ranking.median_s", "< 0.1 s", _below(0.1), "s"),
        Spec("whole report: PostgreSQL vs SQLite", "year.postgresql.full_report.median_s",
             "year.sqlite.full_report.median_s", "report it", None, "s",
             unmeasured="abandoned past the bench's cap (see the bench's output)"),
        Spec("/status p99: PostgreSQL vs SQLite", "year.postgresql.status.p99_ms", "year.sqlite.status.p99_ms",
             "report it", None, "ms", note="the bot's lookup path on both"),
        Spec("migrate-data of the year: rows/s", "year.migrate.rows_per_s", None, "report it", None, "rows/s",
             note="copy, foreign-key check and verification, end to end"),
        Spec("migrate-data of the year: seconds", "year.migrate.seconds", None, "report it", None, "s"),
        Spec("migrate-data: tables verified of all", "year.migrate.tables_verified", "year.migrate.tables",
             "all", lambda ours, base, ratio: None if ours is None or base is None else ours == base, ""),
    ),
}
# Figures of issue 9 that no bench of this suite measures yet (they belong to other parts of the issue).
UNMEASURED: tuple[tuple[str, str, str], ...] = ()


def _value(data: Any, path: str | None) -> float | None:
    if path is None:
        return None
    value = dig(data, path)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def figures_of(name: str, data: dict[str, Any] | None) -> list[Figure]:
    out = []
    for spec in FIGURES.get(name, ()):
        ours = _value(data, spec.ours) if data else None
        base = _value(data, spec.baseline) if data else None
        ratio = None
        if ours is not None and base is not None:
            top, bottom = (ours, base) if spec.ratio == "ours/baseline" else (base, ours)
            ratio = top / bottom if bottom else None
        met = spec.judge(ours, base, ratio) if spec.judge else None
        note = spec.note if ours is not None else (spec.unmeasured or "not measured by this bench (yet)")
        out.append(Figure(name, spec.figure, ours, base, ratio, spec.target, met, spec.unit, note))
    return out


# -- running ----------------------------------------------------------------------------------------------------

@dataclass
class Run:
    name: str
    seconds: float
    returncode: int
    output_file: str
    result: dict[str, Any] | None
    tail: list[str]


def _progress(line: str, tty: bool) -> None:
    if tty:
        print("\r\033[K" + line[:150], end="", flush=True)
    else:
        print(line, flush=True)


def run_bench(bench: Bench, quick: bool, index: int, total: int, out_dir: Path,
              tty: bool | None = None) -> Run:
    """Run one bench as a child process, showing a progress line (elapsed time and its latest output line)."""
    tty = sys.stdout.isatty() if tty is None else tty
    output = out_dir / f"{bench.name}.json"
    args = [sys.executable, "-m", bench.module, *(bench.quick if quick else bench.full), "--output", str(output)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    started = time.perf_counter()
    tail: list[str] = []
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1)

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip():
                tail.append(line.rstrip())
                del tail[:-40]

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    last_shown = 0.0
    while proc.poll() is None:
        elapsed = time.perf_counter() - started
        if tty or elapsed - last_shown >= PROGRESS_EVERY_S:
            latest = tail[-1].strip() if tail else "starting"
            _progress(f"[{index}/{total}] {bench.name}: {elapsed:5.0f} s  {latest}", tty)
            last_shown = elapsed
        time.sleep(0.5)
    reader.join(timeout=5)
    seconds = time.perf_counter() - started
    result = None
    if proc.returncode == 0 and output.exists():
        try:
            result = json.loads(output.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            result = None
    status = "done" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
    _progress(f"[{index}/{total}] {bench.name}: {status} in {seconds:.0f} s", tty)
    if tty:
        print(flush=True)
    if proc.returncode != 0:
        print("\n".join("    " + line for line in tail[-15:]), flush=True)
    return Run(bench.name, round(seconds, 1), proc.returncode, str(output), result, tail[-15:])


# -- the table --------------------------------------------------------------------------------------------------

def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s" and value < 1:
        return f"{value * 1000:.1f} ms"
    if unit in ("s", "ms", "MB"):
        return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    if unit == "" and 0 < value < 1:
        return f"{value:.1%}"
    if float(value).is_integer():
        return f"{int(value):,} {unit}".strip()
    return f"{value:,.0f} {unit}".strip() if value >= 100 else f"{value:,.2f} {unit}".strip()


def table(figures: Sequence[Figure]) -> str:
    rows = [("figure", "ours", "baseline", "ratio", "target", "met?")]
    for f in figures:
        met = {True: "yes", False: "NO", None: "—"}[f.met]
        if f.ours is None:
            met = "not measured"
        rows.append((f.figure, _number(f.ours, f.unit), _number(f.baseline, f.unit),
                     "—" if f.ratio is None else f"{f.ratio:,.2f}×", f.target, met))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def selected(only: Sequence[str] | None) -> list[Bench]:
    if not only:
        return list(BENCHES)
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"bench: unknown benchmark {', '.join(unknown)} (known: {', '.join(BY_NAME)})")
    return [BY_NAME[n] for n in dict.fromkeys(names)]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="complaint-bot bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes: under 3 minutes on 2 cores")
    p.add_argument("--only", action="append", metavar="NAME",
                   help=f"run only these ({', '.join(BY_NAME)}); repeat or separate with commas")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"JSON file (default {DEFAULT_OUTPUT})")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    benches = selected(args.only)
    RESULTS.mkdir(parents=True, exist_ok=True)
    size = "quick sizes (targets are stated for the full run)" if args.quick else "full sizes"
    print(f"complaint-bot bench: {len(benches)} benchmarks, {size}", flush=True)
    started = time.perf_counter()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        for i, bench in enumerate(benches, 1):
            runs.append(run_bench(bench, args.quick, i, len(benches), Path(tmp)))
    figures = [f for run in runs for f in figures_of(run.name, run.result)]
    names = {b.name for b in benches}
    figures += [Figure(bench, figure, None, None, None, target, None, note="no bench in this suite measures it yet")
                for bench, figure, target in UNMEASURED if bench in names]
    total_s = time.perf_counter() - started
    print()
    print(table(figures))
    failed = [r.name for r in runs if r.returncode != 0]
    print(f"\n{len(runs)} benchmarks in {total_s:.0f} s"
          + (f"; FAILED: {', '.join(failed)}" if failed else "")
          + f"; written {args.output}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "suite",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "seconds": round(total_s, 1),
        "figures": [asdict(f) for f in figures],
        "benches": {r.name: {"seconds": r.seconds, "returncode": r.returncode,
                             "arguments": list(BY_NAME[r.name].quick if args.quick else BY_NAME[r.name].full),
                             "result": r.result, "last_lines": r.tail if r.returncode else []} for r in runs},
    }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
