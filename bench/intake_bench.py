"""Resident intake throughput and reply latency against the built-in Bot API emulator, with a baseline.

    python -m bench.intake_bench --residents 50 --concurrency 10
    python bench/intake_bench.py

Two phases on ONE emulator instance, in one process and one event loop (emulator, bots, residents share it):

1. ours: N scripted residents, `concurrency` at a time, each files a whole complaint (/new, category,
   location, photo, done, description, confirm: 7 updates) against our bot (LocalSandbox, SystemClock,
   temporary database, rate limiter off, per-resident limits raised so they never trigger).
2. echo: the same number of residents send the same number of texts to a bare PTB echo bot, each waiting for
   its echo before sending the next.

A step's latency runs from just before the resident acts (say/tap/location/photo) until the last bot message
that step waits for has appeared in the emulator (a tap also waits for the callback answer). Figures are
printed as a table and written to bench/results/intake.json.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import html
import io
import logging
import math
import random
import re
import resource
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from bench.echo_bot import ECHO_TOKEN, EchoBot
from bench.measure import PhaseResult, Stopwatch, counter_delta, machine_info, write_json
from bench.meters import UpdateMeter
from bench.profiling import component_table, profiled, top_functions
from bot.clock import SystemClock
from bot.config import Config, load_config
from bot.texts import Texts
from sandbox.client import Person, SandboxClient
from sandbox.local import LocalSandbox

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGET_RATIO = 0.75
UPDATES_PER_INTAKE = 7
EXPECT_TIMEOUT_S = 30.0
NEVER = 1_000_000  # a limit that is never reached
DESCRIPTION = "小区门口的路灯坏了两个星期，晚上一片漆黑，老人出门很危险。"

log = logging.getLogger("bench")

# ---- what the resident reads ----

_TEXTS = Texts()
_TAG = re.compile(r"</?(?:b|i|code|u|s|a)(?:\s[^>]*)?>")


def shown(key: str, **params: object) -> str:
    """The Chinese catalogue text as the resident sees it (HTML tags removed)."""
    return html.unescape(_TAG.sub("", _TEXTS.get("zh", key, **params)))


def head(key: str) -> str:
    """The fixed start of a catalogue text: its first line up to the first placeholder, as shown."""
    template = _TEXTS.get("zh", key).splitlines()[0].split("{", 1)[0]
    return html.unescape(_TAG.sub("", template)).strip() or template


def jpeg(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def rss_mb() -> float:
    """This process's resident set now (Linux /proc), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return round(kb / 1024, 1)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ---- configuration ----


def bench_config(workdir: Path, database: str | None = None) -> Config:
    """config.example.toml with a temporary database (or `database`, e.g. a postgresql:// URL), no client-side
    rate limiter, limits that never bite."""
    cfg = load_config(ROOT / "config.example.toml")
    return dataclasses.replace(
        cfg,
        storage=dataclasses.replace(cfg.storage, database=database or workdir / "bench.sqlite3"),
        telegram=dataclasses.replace(cfg.telegram, rate_limiter=False),
        limits=dataclasses.replace(cfg.limits, messages_per_minute=NEVER, tickets_per_day=NEVER),
    )


def point_for(index: int) -> tuple[float, float]:
    """Residents stand on a grid ~1.1 km apart inside Fuyang, so no complaint is offered as a duplicate."""
    return 32.50 + (index // 100) * 0.01, 114.90 + (index % 100) * 0.015


# ---- residents ----


class Script:
    """One resident's actions, each timed until the replies it waits for have appeared."""

    def __init__(self, person: Person, result: PhaseResult, pace_s: float = 0.0) -> None:
        self.person = person
        self.result = result
        self.pace_s = pace_s  # > 0: a person's pace, one step every ~pace_s (0.5–1.5×, at random)
        self._rng = random.Random(person.id)

    async def step(self, name: str, action: Callable[[], Awaitable[Any]], *replies: str) -> dict[str, Any]:
        if self.pace_s:
            await asyncio.sleep(self._rng.uniform(0.5, 1.5) * self.pace_s)  # reading and typing, not measured
        start = time.perf_counter()
        await action()
        self.result.updates += 1
        message: dict[str, Any] = {}
        for text in replies:
            message = await self.person.expect(text, timeout=EXPECT_TIMEOUT_S)
        self.result.latencies.add(name, time.perf_counter() - start)
        return message


async def file_complaint(person: Person, result: PhaseResult, category: str, point: tuple[float, float],
                         pages: int, photo: bytes, pace_s: float = 0.0) -> None:
    """The whole intake, as tests/e2e/test_intake_happy.py::file_complaint walks it."""
    s = Script(person, result, pace_s)
    await s.step("new", lambda: person.say("/new"), shown("intake.ask_category", page=1, pages=pages))
    await s.step("category", lambda: person.tap(category), head("intake.ask_location"))
    await s.step("location", lambda: person.share_location(*point), shown("intake.location_received"))
    await s.step("photo", lambda: person.send_photo(photo), shown("intake.photo_received", count=1, max=6))
    await s.step("done", lambda: person.say(shown("intake.btn_done")),
                 head("intake.ask_description"))
    await s.step("description", lambda: person.say(DESCRIPTION), head("intake.summary"))
    confirmation = await s.step("confirm", lambda: person.tap(shown("intake.btn_confirm")),
                                head("notice.registered"))
    if not re.search(r"\d{3} \d{3} \d{3}", str(confirmation.get("text", ""))):
        raise AssertionError(f"no ticket number in the confirmation: {confirmation.get('text')!r}")


async def echo_talk(result: PhaseResult, index: int, person: Person, photo: bytes,
                    point: tuple[float, float], pace_s: float = 0.0) -> None:
    """The baseline resident sends the same mix of updates as an intake (texts, two button taps, a location, a
    photo), each answered by the echo bot: the emulator's and the resident's share of the work is then the same
    in both phases, and the ratio speaks of the bots."""
    s = Script(person, result, pace_s)
    await s.step("echo", lambda: person.say(f"/new #{index}"), f"/new #{index}")
    await s.step("echo", lambda: person.tap("again"))
    await s.step("echo", lambda: person.share_location(*point), "location")
    await s.step("echo", lambda: person.send_photo(photo), "photo")
    await s.step("echo", lambda: person.say(f"done #{index}"), f"done #{index}")
    await s.step("echo", lambda: person.say(f"{DESCRIPTION} #{index}"), f"{DESCRIPTION} #{index}")
    await s.step("echo", lambda: person.tap("again"))


Talk = Callable[[PhaseResult, int, Person], Awaitable[None]]


async def run_phase(result: PhaseResult, people: list[Person], talk: Talk) -> None:
    """All residents, `concurrency` at a time; wall and CPU time of the whole phase."""
    limit = asyncio.Semaphore(result.concurrency)

    async def one(index: int, person: Person) -> None:
        async with limit:
            try:
                await talk(result, index, person)
                result.conversations += 1
            except Exception as error:
                result.failures.append(f"{person!r}: {type(error).__name__}: {str(error)[:500]}")

    cpu, loop_cpu = time.process_time(), time.thread_time()
    with Stopwatch() as sw:
        await asyncio.gather(*(one(i, p) for i, p in enumerate(people)))
    result.wall_s = sw.seconds
    result.cpu_s = time.process_time() - cpu
    result.loop_thread_cpu_s = time.thread_time() - loop_cpu


async def make_people(client: SandboxClient, count: int, prefix: str, token: str | None) -> list[Person]:
    return [await client.person(f"{prefix}{i}", language_code="zh", token=token) for i in range(count)]


# ---- the benchmark ----


@dataclasses.dataclass
class Params:
    residents: int
    concurrency: int
    warmup: int
    profile: bool
    output: Path
    webhook: bool = False  # our bot receives by webhook into its inbox (bot/webhook.py) instead of polling
    paced: int = 0  # residents of the paced phases (all at once, each one step every ~pace_s); 0: none
    pace_s: float = 2.0
    seed_tickets: int = 0  # tickets in the database before the bot starts (its RSS must not grow with them)
    database: str | None = None  # None: a temporary SQLite file; else what storage.url takes (bench/pg_bench.py)
    #: CPU seconds used so far outside this process (a PostgreSQL server): charged per update of each phase
    server_cpu: Callable[[], float] | None = None

    def profile_path(self, phase: str) -> Path | None:
        return self.output.parent / f"intake_{phase}.prof" if self.profile else None


@dataclasses.dataclass
class Bench:
    """One emulator, our bot (LocalSandbox) and the echo bot, with a meter on each bot."""

    local: LocalSandbox
    echo: EchoBot
    ours_meter: UpdateMeter
    echo_meter: UpdateMeter
    ours_talk: Talk
    echo_talk: Talk

    async def phase(self, name: str, p: Params, residents: int, bot: str) -> PhaseResult:
        assert self.local.client is not None
        result = PhaseResult(name, residents, p.concurrency)
        token, talk, meter = ((None, self.ours_talk, self.ours_meter) if bot == "ours"
                              else (ECHO_TOKEN, self.echo_talk, self.echo_meter))
        people = await make_people(self.local.client, residents, f"{name}-{bot}-", token)
        stats = self.local.sandbox.stats
        before = dict(stats.methods)
        meter.reset()
        server_before = p.server_cpu() if p.server_cpu else 0.0
        with profiled(p.profile_path(bot) if name == "measure" else None):
            await run_phase(result, people, talk)
        result.api_calls = counter_delta(stats.methods, before)
        result.update_processing = meter.as_dict(result.wall_s)
        if p.server_cpu and result.updates:
            result.update_processing["server_cpu_ms_per_update"] = round(
                (p.server_cpu() - server_before) / result.updates * 1000, 2)
        return result


async def bench(p: Params) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        config = bench_config(Path(tmp), p.database)
        # a year's worth of tickets already there (SQLite only): the bot must not hold them in memory
        if p.seed_tickets and p.database is None:
            from bot.seed import seed_demo

            await asyncio.to_thread(seed_demo, config.storage.database, config.city, p.seed_tickets,
                                    date(2026, 12, 31))  # it runs its own event loop
        async with LocalSandbox(config, clock=SystemClock(), webhook=p.webhook) as local:
            assert local.client is not None and local.runner is not None
            sandbox, city = local.sandbox, local.config.city
            category = next((c for c in city.categories if c.key == "housing"), city.categories[0]).name_zh
            pages = math.ceil(len(city.categories) / local.config.intake.categories_per_page)
            photo = jpeg()
            pace = {"s": 0.0}  # the paced phases set it

            async def ours_talk(result: PhaseResult, i: int, person: Person) -> None:
                await file_complaint(person, result, category, point_for(i), pages, photo, pace["s"])

            async def echo_mix(result: PhaseResult, i: int, person: Person) -> None:
                await echo_talk(result, i, person, photo, point_for(i), pace["s"])

            await local.client.create_bot(ECHO_TOKEN, username="bench_echo_bot", first_name="echo")
            b = Bench(local, EchoBot(ECHO_TOKEN, sandbox.bot_base_url, sandbox.file_base_url),
                      UpdateMeter(), UpdateMeter(), ours_talk, echo_mix)
            b.ours_meter.install(local.runner.app, local.db)
            b.echo_meter.install(b.echo.app)
            await b.echo.start()
            try:
                if p.warmup:  # a few uncounted conversations with each bot: first-call costs, caches
                    warm = [await b.phase("warmup", p, p.warmup, bot) for bot in ("ours", "echo")]
                    failed = [f for w in warm for f in w.failures]
                    if failed:
                        raise SystemExit(f"warm-up failed: {failed[0]}")
                rss_before = rss_mb()
                ours = await b.phase("measure", p, p.residents, "ours")
                rss = {"before_measure_mb": rss_before, "after_measure_mb": rss_mb(), "peak_mb": peak_rss_mb()}
                echo = await b.phase("measure", p, p.residents, "echo")
                paced: dict[str, Any] = {}
                if p.paced:  # human pace, not saturated: each resident one step every ~pace_s
                    pace["s"] = p.pace_s
                    paced_params = dataclasses.replace(p, concurrency=p.paced, profile=False)
                    for bot in ("ours", "echo"):
                        paced[bot] = (await b.phase("paced", paced_params, p.paced, bot)).as_dict()
                    rss["after_paced_mb"] = rss_mb()
                flood = dataclasses.asdict(sandbox.flood.config)
            finally:
                await b.echo.stop()

    ratio = ours.updates_per_s / echo.updates_per_s if echo.updates_per_s else 0.0
    report: dict[str, Any] = {
        "benchmark": "intake",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": {
            "residents": p.residents, "concurrency": p.concurrency, "warmup_residents_per_bot": p.warmup,
            "updates_per_resident": UPDATES_PER_INTAKE, "clock": "SystemClock",
            "database": "temporary file" if p.database is None else "postgresql",
            "telegram.rate_limiter": False, "emulator_flood_limits": flood,
            "limits.messages_per_minute": NEVER, "limits.tickets_per_day": NEVER,
            "poll": {"poll_interval": 0, "timeout_s": 1}, "expect_timeout_s": EXPECT_TIMEOUT_S,
            "profiled": p.profile,
        },
        "ours": {**ours.as_dict(), "peak_rss_mb": rss["peak_mb"]},
        "echo": echo.as_dict(),
        "rss": {**rss, "seeded_tickets": p.seed_tickets,
                "note": "one process: the bot, the emulator, the echo bot and the residents"},
        "paced": {**paced, "residents": p.paced, "pace_s": p.pace_s} if paced else {},
        "ratio_updates_per_s": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
    }
    if p.profile:
        profiles = {phase: (path, r.updates) for phase, r in (("ours", ours), ("echo", echo))
                    if (path := p.profile_path(phase)) is not None}
        text, figures = component_table(profiles)
        report["profile"] = {"cpu_ms_per_update_by_component": figures, "table": text.splitlines()}
    return report


# ---- output ----


def fig(figures: dict[str, Any], key: str) -> str:
    value = figures.get(key)
    return "-" if value is None else f"{value:g}"


def table(report: dict[str, Any]) -> str:
    ours, echo = report["ours"], report["echo"]
    ou, eu = ours["update_processing"], echo["update_processing"]
    prm = report["parameters"]
    rows = [
        ("", "ours (intake)", "echo (PTB)"),
        ("residents x updates", f"{ours['residents']} x {UPDATES_PER_INTAKE}", f"{echo['residents']} x "
                                                                           f"{UPDATES_PER_INTAKE}"),
        ("updates sent", str(ours["updates"]), str(echo["updates"])),
        ("conversations done", str(ours["conversations_completed"]), str(echo["conversations_completed"])),
        ("failures", str(ours["failures"]), str(echo["failures"])),
        ("wall time (s)", f"{ours['wall_s']:.2f}", f"{echo['wall_s']:.2f}"),
        ("updates/s", f"{ours['updates_per_s']:.1f}", f"{echo['updates_per_s']:.1f}"),
        ("conversations/s", f"{ours['conversations_per_s']:.2f}", f"{echo['conversations_per_s']:.2f}"),
        ("reply latency p50 (ms)", f"{ours['latency']['p50_ms']:.1f}", f"{echo['latency']['p50_ms']:.1f}"),
        ("reply latency p99 (ms)", f"{ours['latency']['p99_ms']:.1f}", f"{echo['latency']['p99_ms']:.1f}"),
        ("Bot API calls / update", str(ours["bot_api_calls_per_update"]),
         str(echo["bot_api_calls_per_update"])),
        ("CPU ms per update (whole process)", fig(ours, "cpu_ms_per_update"), fig(echo, "cpu_ms_per_update")),
        ("event-loop thread busy", f"{ours['loop_thread_busy_fraction']:.0%}",
         f"{echo['loop_thread_busy_fraction']:.0%}"),
        ("bot busy in process_update", f"{ou['busy_fraction_of_wall']:.0%}",
         f"{eu['busy_fraction_of_wall']:.0%}"),
        ("ms per update in process_update", fig(ou, "mean_ms_per_update"), fig(eu, "mean_ms_per_update")),
        ("  of which Bot API requests (ms)", fig(ou, "api_ms_per_update"), fig(eu, "api_ms_per_update")),
        ("    requests per update", fig(ou, "api_calls_per_update"), fig(eu, "api_calls_per_update")),
        ("  of which database hops (ms)", fig(ou, "db_ms_per_update"), "-"),
        ("    hops per update", fig(ou, "db_hops_per_update"), "-"),
        ("  the rest (ms)", fig(ou, "other_ms_per_update"), fig(eu, "other_ms_per_update")),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}" for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    ratio, target = report["ratio_updates_per_s"], report["target_ratio"]
    verdict = "meets" if report["meets_target"] else "BELOW"
    steps = "  ".join(f"{step} {f['p50_ms']:.0f}/{f['p99_ms']:.0f}"
                      for step, f in ours["latency_by_step"].items())
    m = report["machine"]
    flood = "on" if prm["emulator_flood_limits"]["enabled"] else "off"
    return "\n".join([
        f"intake benchmark: {m['platform']}, Python {m['python']}, {m['cpu_count']} CPUs, "
        f"PTB {m['python_telegram_bot']}",
        f"concurrency {prm['concurrency']}; emulator flood limits {flood}; telegram.rate_limiter off; "
        f"limits raised to {NEVER}",
        "",
        *lines,
        "",
        f"ratio ours/echo updates/s = {ratio:.2f}  (target >= {target}: {verdict})",
        f"ours p50/p99 ms by step: {steps}",
        *_paced_lines(report),
        "process RSS (bot + emulator + echo + residents) MB: " + ", ".join(
            f"{k.removesuffix('_mb').replace('_', ' ')} {v}" for k, v in report["rss"].items()
            if k.endswith("_mb")) + f"  ({report['rss']['seeded_tickets']} tickets seeded before the start)",
    ])


def _paced_lines(report: dict[str, Any]) -> list[str]:
    paced = report.get("paced") or {}
    if "ours" not in paced:
        return []
    o, e = paced["ours"]["latency"], paced["echo"]["latency"]
    return [f"paced ({paced['residents']} residents, a step every ~{paced['pace_s']:g} s): reply latency p50/p99 "
            f"ms ours {o['p50_ms']:.1f}/{o['p99_ms']:.1f}, echo {e['p50_ms']:.1f}/{e['p99_ms']:.1f}"]


def parse_args(argv: list[str] | None) -> Params:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=50, help="residents per phase (default 50)")
    parser.add_argument("--concurrency", type=int, default=10, help="residents talking at once (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted warm-up residents per bot")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile both measured phases, print where the CPU went")
    parser.add_argument("--webhook", action="store_true",
                        help="our bot receives by webhook into its inbox (default output intake-webhook.json)")
    parser.add_argument("--paced", type=int, default=0,
                        help="residents of a paced phase per bot (all at once, a step every ~--pace seconds)")
    parser.add_argument("--pace", type=float, default=2.0, help="seconds between a paced resident's steps")
    parser.add_argument("--seed-tickets", type=int, default=0,
                        help="tickets seeded into the database before the bot starts")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="show the bot's log")
    args = parser.parse_args(argv)
    if args.residents < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--residents and --concurrency must be >= 1, --warmup >= 0")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    output = args.output or RESULTS / ("intake-webhook.json" if args.webhook else "intake.json")
    return Params(args.residents, args.concurrency, args.warmup, args.profile, output, args.webhook,
                  args.paced, args.pace, args.seed_tickets)


def main(argv: list[str] | None = None) -> int:
    p = parse_args(argv)
    report = asyncio.run(bench(p))
    write_json(p.output, report)
    print(table(report))
    for phase in ("ours", "echo"):
        for failure in report[phase]["first_failures"]:
            print(f"{phase} failure: {failure}", file=sys.stderr)
    print(f"\nwritten: {p.output}")
    if p.profile:
        print("\n" + "\n".join(report["profile"]["table"]))
        ours_prof = p.profile_path("ours")
        if ours_prof is not None:
            print(f"\ntop functions of the 'ours' phase ({ours_prof}):\n{top_functions(ours_prof)}")
    return 1 if report["ours"]["failures"] or report["echo"]["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
