"""PostgreSQL against SQLite (issue 13): intake updates/s, the yearly report and /status p99 at a seeded year, and
`complaint-bot migrate-data` of that year with its verification.

    python -m bench.pg_bench --quick          # 50k tickets, 30 residents
    python -m bench.pg_bench                  # 1.5M tickets (bench/results/year.sqlite3, reused), 200 residents
    complaint-bot bench --only postgres       # the same through the suite

PostgreSQL is a throwaway local cluster started exactly as the tests start theirs (tests/pg_cluster.py: unix
socket, fsync off), or the server `COMPLAINT_BOT_TEST_PG` names. Where none can start, the bench says why and
writes no figures.

1. Intake: bench/intake_bench.py's residents (its scripts, meters, emulator and echo baseline) against one bot on
   a temporary SQLite file, then the same residents against one bot on a fresh PostgreSQL database. Per update:
   the process's CPU, the database hops' time inside `process_update` (bench/meters.py) and the PostgreSQL
   server's own CPU (its processes' /proc times), so the scaling to N instances on a 2-core machine can be
   projected: ceiling ≈ 2 cores ÷ (bot CPU + server CPU per update). Then 1, 2 and 3 `complaint-bot run
   --webhook` processes on one fresh PostgreSQL database behind nginx, fed by one emulator by webhook
   (bench/chaos_run.py's wiring), the same scripted residents: updates/s, wall time, the bot processes' CPU
   (/proc utime+stime) and the server's, per update. The 1-instance run is the like-for-like baseline.
2. The year: seeded (or reused) by bench/report_bench.py's `ensure_seeded`, copied into an empty PostgreSQL
   database by the real `complaint-bot migrate-data` (a child process; rows, seconds and rows/s per table from its
   progress lines, its verification table), then ANALYZE (the planner's statistics of a freshly loaded database).
3. On both backends through the bot's own paths: the yearly ranking (`storage.reports.counts` + `model.rank`),
   the whole report (`bot.reports.model.build_report`, what /report awaits) and /status (`Lookup.status` +
   `status_text`, bench/status_bench.py's `ours`), p50/p99 of single lookups of random numbers.

Writes bench/results/postgres.json. Not a test: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import intake_bench, status_bench  # noqa: E402
from bench.measure import machine_info, write_json  # noqa: E402
from bench.report_bench import CITY, RESULTS, YEAR_END, ensure_seeded  # noqa: E402
from tests.pg_cluster import Cluster, Unavailable  # noqa: E402

REPEAT = 3
CORES = 2  # the machine the projection is for
REPORT_CAP_S = 120.0  # the whole report is abandoned (its query cancelled) past this, and repeated only within it


# -- the PostgreSQL server's CPU ---------------------------------------------------------------------------------

def _ticks(pid: int) -> tuple[int, int, int]:
    """(ppid, own utime+stime, reaped children's cutime+cstime) of a process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def server_cpu_reader(cluster: Cluster) -> Any:
    """A function giving the CPU seconds the server has used so far (postmaster, its live children, and the
    children it has reaped), or None when the server is not ours to look at."""
    postmaster = cluster.server_pid()
    if postmaster is None:
        return None
    hz = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        _, own, reaped = _ticks(postmaster)
        total = own + reaped
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != postmaster:
                try:
                    ppid, used, _ = _ticks(int(entry))
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == postmaster:
                    total += used
        return total / hz

    return read


# -- 1. intake ----------------------------------------------------------------------------------------------------

def intake(cluster: Cluster, residents: int, concurrency: int, out_dir: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, database, probe in (("sqlite_1", None, None),
                                  ("postgresql_1", cluster.new_database(), server_cpu_reader(cluster))):
        print(f"intake: {residents} residents, one bot on {name.split('_')[0]}", flush=True)
        params = intake_bench.Params(residents, concurrency, 2, False, out_dir / f"intake-{name}.json",
                                     database=database, server_cpu=probe)
        report = asyncio.run(intake_bench.bench(params))
        ours, echo = report["ours"], report["echo"]
        up = ours["update_processing"]
        bot_cpu = (ours["cpu_ms_per_update"] or 0) - (echo["cpu_ms_per_update"] or 0)
        server_cpu = up.get("server_cpu_ms_per_update")
        figures[name] = {
            "updates": ours["updates"], "failures": ours["failures"], "first_failures": ours["first_failures"],
            "updates_per_s": ours["updates_per_s"], "echo_updates_per_s": echo["updates_per_s"],
            "latency_p50_ms": ours["latency"]["p50_ms"], "latency_p99_ms": ours["latency"]["p99_ms"],
            "process_cpu_ms_per_update": ours["cpu_ms_per_update"],
            "echo_process_cpu_ms_per_update": echo["cpu_ms_per_update"],
            "bot_cpu_ms_per_update": round(bot_cpu, 2),
            "process_update_ms": up["mean_ms_per_update"], "db_ms_per_update": up["db_ms_per_update"],
            "db_hops_per_update": up["db_hops_per_update"], "db_ms_per_hop": up["db_ms_per_hop"],
            "server_cpu_ms_per_update": server_cpu,
            "busy_fraction_of_wall": up["busy_fraction_of_wall"],
        }
        process_cpu = ours["cpu_ms_per_update"] or 0
        if server_cpu is not None and process_cpu + server_cpu > 0:
            figures[name]["projected_updates_per_s_per_core_pair"] = round(
                CORES * 1000 / (process_cpu + server_cpu), 1)
        elif name.startswith("sqlite") and process_cpu > 0:
            figures[name]["projected_updates_per_s_per_core_pair"] = round(1000 / process_cpu, 1)
    for n in INSTANCES:
        print(f"intake: {residents} residents, {n} `run --webhook` process(es) on PostgreSQL behind nginx "
              "(the machine is shared with other runs: these figures carry their load)", flush=True)
        key = "postgresql_1_processes" if n == 1 else f"postgresql_{n}"
        try:
            figures[key] = asyncio.run(multi_intake(cluster, n, residents, concurrency, out_dir / f"multi-{n}"))
        except Exception as error:  # nginx missing or unable to start, a bot that never listened: say why
            figures[key] = {"updates_per_s": None, "why": f"{type(error).__name__}: {str(error)[:300]}"}
        print(f"  {json.dumps({k: v for k, v in figures[key].items() if k != 'first_failures'})}", flush=True)
    figures["projection_note"] = (
        "conservative: the process's CPU per update counts the emulator's and the residents' share as the bot's "
        "(bot CPU = that minus the echo phase's, when the noise leaves it positive); PostgreSQL's ceiling on a "
        "2-core machine = 2 × 1000 ms ÷ (process CPU + server CPU) per update, however many instances; SQLite's = "
        "1000 ms ÷ process CPU (one process, one event loop, one writer)")
    return figures


INSTANCES = (1, 2, 3)  # 1 through the same path (separate processes, webhook, nginx): the like-for-like baseline


def _process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system, its reaped children's included) a live process has used."""
    _, own, reaped = _ticks(pid)
    return (own + reaped) / os.sysconf("SC_CLK_TCK")


async def multi_intake(cluster: Cluster, n: int, residents: int, concurrency: int, work: Path) -> dict[str, Any]:
    """N `complaint-bot run --webhook` processes on one fresh PostgreSQL database behind nginx, fed by one
    emulator delivering by webhook (bench/chaos_run.py's wiring), driven by intake_bench's scripted residents."""
    from bench import chaos_run
    from bench.measure import PhaseResult
    from bot.config import load_config
    from sandbox.client import SandboxClient
    from sandbox.server import Sandbox
    from tests.e2e.nginx import running_nginx

    work.mkdir(parents=True, exist_ok=True)
    database = cluster.new_database()
    ports: list[int | None] = [chaos_run._free_port() for _ in range(n)]
    server_cpu = server_cpu_reader(cluster)
    try:
        nginx_cm = running_nginx(work / "nginx", [p for p in ports if p])
        nginx = nginx_cm.__enter__()
    except BaseException as skipped:  # running_nginx skips (a pytest outcome) where nginx cannot start
        if isinstance(skipped, KeyboardInterrupt | SystemExit):
            raise
        raise RuntimeError(f"no nginx front: {skipped}") from None
    server = Sandbox()
    await server.start(port=0)
    client = SandboxClient(server.url, token=chaos_run.TOKEN)
    # rate limiter off, as intake_bench's bot: on, the shared limiter paces the bot as a whole to Telegram's 30/s
    bots = chaos_run.bot_processes(work, database, server.url, ports, nginx.url, webhook=True, rate_limiter=False)
    try:
        await client.create_bot(chaos_run.TOKEN, username="scale_bot")
        config = load_config(work / "chaos.toml")
        city = config.city
        category = next((c for c in city.categories if c.key == "housing"), city.categories[0]).name_zh
        pages = -(-len(city.categories) // config.intake.categories_per_page)
        photo = intake_bench.jpeg()
        for bot in bots:
            await bot.start()
        await asyncio.gather(*(bot.listening() for bot in bots))
        if not all(bot.running for bot in bots):
            raise RuntimeError(f"an instance exited at start; see {work}/bot*.log")

        async def talk(result: PhaseResult, i: int, person: Any) -> None:
            await intake_bench.file_complaint(person, result, category, intake_bench.point_for(i), pages, photo)

        async def phase(name: str, count: int, offset: int) -> PhaseResult:
            result = PhaseResult(name, count, concurrency)
            people = await intake_bench.make_people(client, count, f"{name}-{n}-", None)

            async def at(result: PhaseResult, i: int, person: Any) -> None:
                await talk(result, i + offset, person)  # a point of its own: never offered as a duplicate

            await intake_bench.run_phase(result, people, at)
            return result

        warm = await phase("warmup", 2, 0)  # first-call costs in every instance are behind us
        if warm.failures:
            raise RuntimeError(f"warm-up failed: {warm.failures[0]}")
        pids = [bot.proc.pid for bot in bots if bot.proc is not None]
        bots_before = sum(_process_cpu_s(pid) for pid in pids)
        server_before = server_cpu() if server_cpu else None
        calls_before = sum(server.stats.methods.values())
        ours = await phase("measure", residents, 2)
        api_calls = sum(server.stats.methods.values()) - calls_before
        bots_cpu = sum(_process_cpu_s(pid) for pid in pids) - bots_before
        server_used = server_cpu() - server_before if server_cpu and server_before is not None else None
        restarts = sum(bot.starts for bot in bots) - len(bots)
    finally:
        for bot in bots:
            if bot.running:
                await bot.stop()
        await client.close()
        await server.stop()
        nginx_cm.__exit__(None, None, None)
    r = ours.as_dict()
    updates = ours.updates or 1
    figures: dict[str, Any] = {
        "instances": n, "updates": ours.updates, "failures": r["failures"], "first_failures": r["first_failures"],
        "wall_s": r["wall_s"], "updates_per_s": r["updates_per_s"],
        "latency_p50_ms": r["latency"]["p50_ms"], "latency_p99_ms": r["latency"]["p99_ms"],
        "bot_processes_cpu_s": round(bots_cpu, 2),
        "bot_processes_cpu_ms_per_update": round(bots_cpu / updates * 1000, 2),
        "bench_process_cpu_ms_per_update": r["cpu_ms_per_update"],  # the emulator and the residents
        "server_cpu_s": None if server_used is None else round(server_used, 2),
        "server_cpu_ms_per_update": None if server_used is None else round(server_used / updates * 1000, 2),
        "restarts": restarts, "bot_api_calls_per_update": round(api_calls / updates, 2),
        "telegram.rate_limiter": False,
    }
    total = figures["bot_processes_cpu_ms_per_update"] + (figures["server_cpu_ms_per_update"] or 0)
    figures["bot_plus_server_cpu_ms_per_update"] = round(total, 2)
    return figures


# -- 2. migrate-data -----------------------------------------------------------------------------------------------

_COPIED = re.compile(r"copied (\w+): (\d+) rows")


def migrate_data(source: Path, target: str) -> dict[str, Any]:
    """`complaint-bot migrate-data` as a user runs it, its progress lines timed as they arrive."""
    print(f"migrate-data {source} -> PostgreSQL", flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "migrate-data", "--from", f"sqlite:///{source}",
                             "--to", target], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    stamped: list[tuple[float, str]] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            stamped.append((time.perf_counter(), line.rstrip()))
            print("  " + line.rstrip(), flush=True)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    assert proc.stdout is not None
    stdout = proc.stdout.read()  # the verification table (progress goes to stderr, read by the thread)
    proc.wait()
    reader.join(timeout=5)
    total = time.perf_counter() - started
    tables, last = [], started
    for at, line in stamped:
        if m := _COPIED.search(line):
            rows, seconds = int(m.group(2)), at - last
            tables.append({"table": m.group(1), "rows": rows, "seconds": round(seconds, 2),
                           "rows_per_s": round(rows / seconds) if seconds > 0 and rows else None})
            last = at
    copy_s = last - started
    rows = sum(t["rows"] for t in tables)
    verification = [line for line in stdout.splitlines() if line.strip()]
    checked = [line for line in verification[1:] if not line.startswith("all ")]  # a header, then a table a line
    verified = proc.returncode == 0 and bool(verification) and verification[-1].startswith("all ")
    return {"returncode": proc.returncode, "seconds": round(total, 1), "copy_seconds": round(copy_s, 1),
            "check_and_verify_seconds": round(total - copy_s, 1), "rows": rows,
            "rows_per_s": round(rows / total) if total else None, "copy_rows_per_s": round(rows / copy_s)
            if copy_s else None, "tables": len(checked),
            "tables_verified": sum("DIFFERS" not in line for line in checked),
            "verified": verified, "per_table": sorted(tables, key=lambda t: -t["rows"]),
            "verification": verification,
            "stderr_tail": [line for _, line in stamped if not _COPIED.search(line)][-10:]}


# -- 3. the year on both backends ------------------------------------------------------------------------------

def _median(times: list[float]) -> dict[str, Any]:
    return {"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
            "runs": [round(t, 4) for t in times]}


async def year_figures(database: str | Path, numbers: list[str]) -> dict[str, Any]:
    """The ranking, the whole report and /status through the bot's paths, on one open database."""
    from bot.config import load_city
    from bot.reports import model
    from storage import reports as sql
    from storage.db import Database

    city = load_city(CITY)
    start_day = YEAR_END - timedelta(days=364)
    period = model.Period(start_day, YEAR_END)
    start, end = period.utc_bounds(city.timezone)
    as_of = datetime.combine(YEAR_END + timedelta(days=1), datetime.min.time(), city.timezone)
    as_of_text = as_of.astimezone(UTC).isoformat(timespec="microseconds")

    def ranking(conn: Any) -> tuple[Any, ...]:
        figures: dict[str, Any] = {}
        for c in sql.counts(conn, start, end, as_of_text):
            if c.unit is not None:
                figures.setdefault(c.unit, model.UnitFigures(c.unit, c.unit, c.unit)).add(c)
        return tuple((u.key, u.resolved_on_time, u.due) for u in model.rank(figures.values()))

    db = await Database.open(database)
    try:
        rank_times, report_times, ranked, report = [], [], None, None
        await db.read(ranking)  # warm: first-call costs, pages into the cache
        for _ in range(REPEAT):
            t0 = time.perf_counter()
            ranked = await db.read(ranking)
            rank_times.append(time.perf_counter() - t0)
        report_started = time.perf_counter()
        for _ in range(REPEAT):
            t0 = time.perf_counter()
            report = await _capped(model.build_report(db, city, start_day, YEAR_END, as_of=as_of), database,
                                   REPORT_CAP_S - (t0 - report_started))
            if report is None:
                break
            report_times.append(time.perf_counter() - t0)
            if time.perf_counter() - report_started + report_times[-1] > REPORT_CAP_S:
                break  # another run would not fit in the cap
    finally:
        await db.close()
    assert ranked is not None
    await status_bench.ours(database, numbers[:200])  # type: ignore[arg-type]  # warm (a URL works as well)
    status = status_bench._figures(await status_bench.ours(database, numbers))  # type: ignore[arg-type]
    full_report = (_median(report_times) if report_times
                   else {"median_s": None, "abandoned_after_s": REPORT_CAP_S, "runs": []})
    return {"ranking": _median(rank_times), "full_report": full_report,
            "tickets_in_period": report.total.received if report else None,
            "top_unit": report.units[0].key if report and report.units else None,
            "ranking_rows": ranked, "status": status}


async def _capped(work: Any, database: str | Path, cap_s: float) -> Any:
    """`work`'s result, or None if it takes longer than cap_s (on PostgreSQL its queries are then cancelled
    until it gives up; on SQLite it is simply awaited)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=max(cap_s, 1.0))
    if done or not str(database).startswith("postgresql"):
        return await task
    import psycopg

    from storage.pg import APPLICATION_NAME

    while not task.done():
        with psycopg.connect(str(database), autocommit=True) as conn:
            conn.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = %s "
                         "AND pid <> pg_backend_pid()", (APPLICATION_NAME,))
        await asyncio.wait({task}, timeout=1.0)
    try:
        await task
    except Exception as error:  # the cancelled query's error
        print(f"  abandoned after {cap_s:.0f} s: {type(error).__name__}", flush=True)
    return None


def year(cluster: Cluster, source: Path, tickets: int, lookups: int) -> dict[str, Any]:
    print(f"the year: seeding (or reusing) {source}", flush=True)
    seeded = ensure_seeded(source, tickets)
    print(json.dumps(seeded), flush=True)
    numbers = status_bench._numbers(source, lookups, 7)
    target = cluster.empty_database()
    moved = migrate_data(source, target)
    result: dict[str, Any] = {"seed": seeded, "tickets": status_bench._count(source), "lookups": len(numbers),
                              "migrate": moved}
    if not moved["verified"]:
        print("migrate-data did not verify: no PostgreSQL year figures", flush=True)
        return result
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("ANALYZE")
    result["analyze_seconds"] = round(time.perf_counter() - t0, 1)
    print("the year on SQLite", flush=True)
    result["sqlite"] = asyncio.run(year_figures(source, numbers))
    status_bench.bare(source, numbers[:200])
    result["sqlite"]["bare_status"] = status_bench._figures(status_bench.bare(source, numbers))
    print("the year on PostgreSQL", flush=True)
    result["postgresql"] = asyncio.run(year_figures(target, numbers))
    same = result["sqlite"].pop("ranking_rows") == result["postgresql"].pop("ranking_rows")
    result["same_ranking_on_both"] = same
    result["same_totals_on_both"] = (None if result["postgresql"]["tickets_in_period"] is None else
                                     result["sqlite"]["tickets_in_period"]
                                     == result["postgresql"]["tickets_in_period"])
    return result


# -- output -----------------------------------------------------------------------------------------------------

def _f(value: Any, fmt: str = "{:,.2f}") -> str:
    return "—" if value is None else fmt.format(value)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1e3


def table(r: dict[str, Any]) -> str:
    lines = [f"PostgreSQL bench: {r['machine']['platform']}, {r['machine']['cpu_count']} CPUs"]
    if "intake" in r:
        i = r["intake"]
        lines += ["", f"{'intake, one bot':<40} {'SQLite':>10} {'PostgreSQL':>11}"]
        for label, key in (("updates/s", "updates_per_s"), ("reply p99 (ms)", "latency_p99_ms"),
                           ("process CPU ms/update", "process_cpu_ms_per_update"),
                           ("bot CPU ms/update (minus echo's)", "bot_cpu_ms_per_update"),
                           ("process_update ms/update", "process_update_ms"),
                           ("  database hops ms/update", "db_ms_per_update"),
                           ("  hops/update, ms/hop", None),
                           ("server CPU ms/update", "server_cpu_ms_per_update"),
                           ("projected ceiling, 2 cores (upd/s)", "projected_updates_per_s_per_core_pair")):
            if key is None:
                cells = [f"{_f(i[n]['db_hops_per_update'], '{:g}')}, {_f(i[n]['db_ms_per_hop'], '{:g}')}"
                         for n in ("sqlite_1", "postgresql_1")]
            else:
                cells = [_f(i[n].get(key)) for n in ("sqlite_1", "postgresql_1")]
            lines.append(f"{label:<40} {cells[0]:>10} {cells[1]:>11}")
        lines.append(f"echo bot on the same emulator: {i['sqlite_1']['echo_updates_per_s']} / "
                     f"{i['postgresql_1']['echo_updates_per_s']} upd/s")
        keys = [k for k in ("postgresql_1_processes", "postgresql_2", "postgresql_3") if k in i]
        lines += ["", "PostgreSQL, N `run --webhook` processes behind nginx, one emulator, rate limiter off (machine "
                  "shared with other runs: loaded)",
                  f"{'instances':<40} " + " ".join(f"{i[k].get('instances', '?'):>9}" for k in keys)]
        for label, key in (("updates/s", "updates_per_s"), ("wall time (s)", "wall_s"),
                           ("reply p99 (ms)", "latency_p99_ms"),
                           ("bot processes CPU ms/update", "bot_processes_cpu_ms_per_update"),
                           ("server CPU ms/update", "server_cpu_ms_per_update"),
                           ("bench process (emulator+residents) ms/upd", "bench_process_cpu_ms_per_update"),
                           ("Bot API calls/update", "bot_api_calls_per_update"),
                           ("failures", "failures")):
            lines.append(f"{label:<40} " + " ".join(f"{_f(i[k].get(key)):>9}" for k in keys))
        for k in keys:
            if i[k].get("why"):
                lines.append(f"{k}: not measured: {i[k]['why']}")
    if "year" in r:
        y = r["year"]
        m = y["migrate"]
        lines += ["", f"migrate-data of {y['tickets']:,} tickets: {m['rows']:,} rows in {m['seconds']} s "
                  f"({_f(m['rows_per_s'], '{:,}')} rows/s; copy {m['copy_seconds']} s, foreign-key check + "
                  f"verification {m['check_and_verify_seconds']} s); verified: {m['tables_verified']}/{m['tables']} "
                  f"tables{' OK' if m['verified'] else ' — FAILED'}"]
        for t in m["per_table"]:
            if t["rows"]:
                lines.append(f"  {t['table']:<28} {t['rows']:>10,} rows {t['seconds']:>8.2f} s "
                             f"{_f(t['rows_per_s'], '{:,}'):>10} rows/s")
        if "postgresql" in y:
            s, p = y["sqlite"], y["postgresql"]
            lines += ["", f"{'the year (' + format(y['tickets'], ',') + ' tickets)':<40} {'SQLite':>10} "
                      f"{'PostgreSQL':>11}"]
            for label, a, b in (("yearly ranking (ms, median)", s["ranking"]["median_s"] * 1e3,
                                 p["ranking"]["median_s"] * 1e3),
                                ("whole report (ms, median)", _ms(s["full_report"]["median_s"]),
                                 _ms(p["full_report"]["median_s"])),
                                ("/status p50 (ms)", s["status"]["p50_ms"], p["status"]["p50_ms"]),
                                ("/status p99 (ms)", s["status"]["p99_ms"], p["status"]["p99_ms"])):
                lines.append(f"{label:<40} {_f(a):>10} {_f(b):>11}")
            if p["full_report"]["median_s"] is None:
                lines.append(f"whole report on PostgreSQL abandoned after {REPORT_CAP_S:.0f} s")
            lines.append(f"same ranking on both: {y['same_ranking_on_both']}; same totals: "
                         f"{y['same_totals_on_both']}; bare SQLite lookup p99 {s['bare_status']['p99_ms']} ms; "
                         f"ANALYZE after the load {y['analyze_seconds']} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pg_bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="50k tickets, 30 residents (unless given)")
    p.add_argument("--tickets", type=int, default=None, help="tickets of the year (default 1.5M, quick 50k)")
    p.add_argument("--db", type=Path, default=None,
                   help="the SQLite year, seeded when it holds none (default bench/results/year.sqlite3)")
    p.add_argument("--residents", type=int, default=None, help="intake residents (default 200, quick 30)")
    p.add_argument("--concurrency", type=int, default=None, help="residents talking at once (20, quick 10)")
    p.add_argument("--lookups", type=int, default=None, help="/status lookups (default 5000, quick 2000)")
    p.add_argument("--skip", action="append", default=[], choices=("intake", "year"), help="leave a part out")
    p.add_argument("--output", type=Path, default=RESULTS / "postgres.json")
    args = p.parse_args(argv)
    q = args.quick
    tickets = args.tickets or (50_000 if q else 1_500_000)
    source = (args.db or RESULTS / ("year-50k.sqlite3" if q else "year.sqlite3")).resolve()
    residents = args.residents or (30 if q else 200)
    concurrency = args.concurrency or (10 if q else 20)
    lookups = args.lookups or (2000 if q else 5000)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"benchmark": "postgres", "when": datetime.now(UTC).isoformat(timespec="seconds"),
                              "machine": machine_info(), "parameters": {
                                  "quick": q, "tickets": tickets, "db": str(source), "residents": residents,
                                  "concurrency": concurrency, "lookups": lookups,
                                  "postgresql": "throwaway local cluster (tests/pg_cluster.py: unix socket, "
                                                "fsync off, synchronous_commit off)"}}
    try:
        cluster = Cluster().start()
    except Unavailable as why:
        print(f"PostgreSQL bench skipped: {why}", flush=True)
        result["skipped"] = str(why)
        write_json(args.output, result)
        return 0
    try:
        import psycopg

        with psycopg.connect(cluster.url("postgres")) as conn:
            result["machine"]["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        if "intake" not in args.skip:
            with tempfile.TemporaryDirectory(prefix="pg-bench-") as tmp:
                result["intake"] = intake(cluster, residents, concurrency, Path(tmp))
        if "year" not in args.skip:
            result["year"] = year(cluster, source, tickets, lookups)
    finally:
        cluster.stop()
    write_json(args.output, result)
    print()
    print(table(result))
    print(f"\nwritten: {args.output}")
    failed = (result.get("intake", {}).get("sqlite_1", {}).get("failures")
              or any(result.get("intake", {}).get(k, {}).get("failures")
                     for k in ("postgresql_1_processes", "postgresql_2", "postgresql_3"))
              or result.get("intake", {}).get("postgresql_1", {}).get("failures")
              or ("year" in result and not result["year"]["migrate"]["verified"])
              or ("year" in result and "postgresql" in result["year"]
                  and not result["year"]["same_ranking_on_both"]))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
