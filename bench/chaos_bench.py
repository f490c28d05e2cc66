"""Crash-restart chaos, the full run: `complaint-bot run` as a separate process, SIGKILLed at seeded random
instants and restarted each time, under scripted residents (intake, rating) and liaisons (sign-for, resolve);
then the invariants of `bench/chaos_invariants.py`, printed as figures.

    python -m bench.chaos_bench                        # 30 residents, 24 kills
    python -m bench.chaos_bench --residents 10 --kills 5 --seed 3
    python -m bench.chaos_bench --instances 3 --webhook --postgres   # 3 instances behind nginx, one PostgreSQL

Exit code 1 when an invariant does not hold. Writes bench/results/chaos.json. The bounded version (a few kills)
is tests/e2e/test_chaos.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chaos_run import ChaosPlan, ChaosResult, run_chaos
from bench.measure import machine_info, write_json

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def report(result: ChaosResult) -> list[str]:
    """The figures of a run, the invariants first."""
    return [*result.figures.lines(),
            f"restarts                            {result.restarts}",
            f"residents who finished (filed, rated, closed)  {result.finished}/{result.residents}",
            f"repeats (no answer within patience) {result.repeats}",
            f"buttons left alone after no change  {result.untracked_taps}",
            f"wall time                           {result.wall_s:.0f} s"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--residents", type=int, default=30)
    p.add_argument("--kills", type=int, default=24)
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--patience", type=float, default=3.0, help="seconds a person waits before repeating")
    p.add_argument("--webhook", action="store_true", help="the bot runs with --webhook (updates via its inbox)")
    p.add_argument("--instances", type=int, default=1, help="bot processes behind nginx (needs --webhook --postgres)")
    p.add_argument("--postgres", action="store_true",
                   help="a throwaway PostgreSQL database (tests/pg_cluster.py; COMPLAINT_BOT_TEST_PG names a server)")
    p.add_argument("--flood-limits", action="store_true", help="the emulator answers 429 past Telegram's limits "
                   "(on by default with several instances)")
    p.add_argument("--sweep-interval", type=int, default=None, help="seconds between sweeps (default 5 with "
                   "several instances, counted from their logs)")
    args = p.parse_args(argv)
    if args.instances > 1 and not (args.webhook and args.postgres):
        p.error("several instances need --webhook and --postgres")
    # a killed bot drops its connections mid-request: the emulator's server would log each as an error
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    several = args.instances > 1
    plan = ChaosPlan(residents=args.residents, kills=args.kills, seed=args.seed, patience_s=args.patience,
                     kill_after_s=(1.0, 5.0) if not several else (2.0, 6.0), finish_within_s=300.0,
                     webhook=args.webhook, instances=args.instances, flood_limits=args.flood_limits or several,
                     sweep_interval_s=args.sweep_interval or (5 if several else None))
    with tempfile.TemporaryDirectory(prefix="chaos-") as work, contextlib.ExitStack() as stack:
        database, front = None, None
        if args.postgres:
            from tests.pg_cluster import Cluster

            cluster = Cluster()
            cluster.start()  # raises Unavailable, saying why, where no server can start
            stack.callback(cluster.stop)
            database = str(cluster.new_database())
        if args.webhook and several:
            front = _nginx(Path(work) / "nginx")
        result = asyncio.run(run_chaos(plan, Path(work), progress=lambda line: print(line, flush=True),
                                       database=database, front=front))
        lines = report(result)
        print("\n".join(lines))
        if not result.figures.ok:
            print(f"bot log: {(Path(work) / 'bot.log').read_text(encoding='utf-8')[-3000:]}")
    name = "chaos" + ("-webhook" if args.webhook else "") + ("-postgres" if args.postgres else "") + (
        f"-{args.instances}" if several else "")
    write_json(RESULTS / f"{name}.json", {
        "plan": vars(args), "machine": machine_info(), "figures": result.figures.as_dict(),
        "restarts": result.restarts, "finished": result.finished, "residents": result.residents,
        "repeats": result.repeats, "buttons_left_alone": result.untracked_taps, "wall_s": result.wall_s})
    return 0 if result.figures.ok else 1


def _nginx(folder: Path):
    """Debian's nginx with the example config's upstream in front of the instances (tests/e2e/nginx.py)."""
    from tests.e2e.nginx import running_nginx

    @contextlib.contextmanager
    def front(ports: list[int]):
        with running_nginx(folder, ports) as nginx:
            yield nginx.url

    return front


if __name__ == "__main__":
    sys.exit(main())
