"""The fault run at full size: the intake and handling flows under injected faults, then the invariants.

    python -m bench.faults_bench                       # 200 residents, ~15 % of sends faulted
    python -m bench.faults_bench --residents 60 --scale 2 --seed 7

See bench/fault_run.py for what runs and bench/invariants.py for what must hold. Prints the flows' stages, the
faults the emulator injected by kind, the retries and the delays of the rows that needed one (fake-clock seconds
from queueing to delivery), and the invariants; writes bench/results/faults.json. Exit code 1 if an invariant
fails.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fault_run import DEFAULT_RATES, FaultRunPlan, fault_config, run_faults
from bench.measure import machine_info, write_json
from bot.clock import FakeClock
from sandbox.local import LocalSandbox
from tests.e2e.conftest import e2e_config

RESULTS = Path(__file__).resolve().parent / "results" / "faults.json"


async def main(residents: int, scale: float, seed: int, at_once: int, rate_limiter: bool) -> int:
    rates = {kind: min(1.0, rate * scale) for kind, rate in DEFAULT_RATES.items()}
    plan = FaultRunPlan(residents=residents, rates=rates, seed=seed, at_once=at_once)
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock()
        async with LocalSandbox(fault_config(e2e_config(Path(tmp)), rate_limiter=rate_limiter), clock=clock) as local:
            print(f"fault run: {residents} residents, rates per sending call {rates}, seed {seed}", flush=True)
            result = await run_faults(local, clock, plan)
    print(result.format())
    write_json(RESULTS, {"machine": machine_info(), "plan": {"residents": residents, "rates": rates,
                                                                "seed": seed, "at_once": at_once,
                                                                "rate_limiter": rate_limiter},
                         "figures": result.figures(), "violations": result.invariants.violations})
    print(f"wrote {RESULTS}")
    return 0 if result.invariants.ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every fault rate")
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--at-once", type=int, default=8)
    parser.add_argument("--rate-limiter", action="store_true",
                        help="keep PTB's rate limiter on (20/min per group in real time: a much longer run)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.residents, args.scale, args.seed, args.at_once, args.rate_limiter)))
