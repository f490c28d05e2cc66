"""The intake and handling flows under injected faults (bounded; the full run is bench/faults_bench.py): every
confirmed ticket exists once, every event chain walks the lifecycle, every owed notification was delivered or
given up for a reason that explains it, nothing is silently dropped."""

from __future__ import annotations

from pathlib import Path

from bench.fault_run import DEFAULT_RATES, FaultRunPlan, fault_config, run_faults
from bot.clock import FakeClock
from sandbox.local import LocalSandbox
from tests.e2e.conftest import e2e_config


async def test_the_flows_hold_their_invariants_under_injected_faults(tmp_path: Path, clock: FakeClock) -> None:
    config = fault_config(e2e_config(tmp_path))
    async with LocalSandbox(config, clock=clock) as local:
        # No drawn migration here: an edit re-addressed to the supergroup can meet another message there (a
        # known gap, see the README's "Faults and fuzzing"); bench/faults_bench.py draws them and reports it.
        rates = {**DEFAULT_RATES, "migrate": 0.0}
        result = await run_faults(local, clock, FaultRunPlan(residents=20, rates=rates, step_timeout_s=10.0))
    print("\nfault run (bounded):\n" + result.format())
    assert result.invariants.ok, result.format()
    assert sum(result.injected.values()) >= 10, result.injected  # the run really met faults
    assert result.stages["filed"] >= 18 and result.stages["rated and closed"] >= 10, result.stages
