"""The fuzzer with many more examples than the test suite's: generated updates through the real Application.

    python -m bench.fuzz_bench                  # 3,000 examples (each 1-6 updates), a fresh random seed
    python -m bench.fuzz_bench --examples 500 --seed 7

See bench/fuzz.py for the strategies and the properties. Prints the example and update counts, how many updates
were answered and why the others were deliberately ignored, and the first falsifying example if a property
fails (exit code 1); writes bench/results/fuzz.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, seed, settings

from bench.fuzz import FuzzHarness, update_lists
from bench.measure import machine_info, write_json
from tests.e2e.conftest import e2e_config

RESULTS = Path(__file__).resolve().parent / "results" / "fuzz.json"


def main(examples: int, chosen_seed: int | None) -> int:
    started, failure = time.monotonic(), None
    with tempfile.TemporaryDirectory() as tmp, FuzzHarness(e2e_config(Path(tmp))) as harness:
        assert harness.world is not None

        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(update_lists(harness.world))
        def prop(updates: list) -> None:
            problems = harness.feed(updates)
            assert not problems, problems
            if harness.stats.examples % 250 == 0:
                print(f"  … {harness.stats.examples} examples", flush=True)

        if chosen_seed is not None:
            prop = seed(chosen_seed)(prop)
        try:
            prop()
        except AssertionError as error:
            failure = "\n".join([str(error), *getattr(error, "__notes__", [])])[:6000]
        stats = harness.stats
    wall = time.monotonic() - started
    print(f"fuzz: {stats.examples} examples, {stats.updates} updates in {wall:.0f} s; {stats.answered} answered; "
          f"deliberately ignored {dict(stats.ignored)}")
    print(f"falsified: {failure}" if failure else "every property held")
    write_json(RESULTS, {"machine": machine_info(), "examples": stats.examples, "updates": stats.updates,
                         "answered": stats.answered, "ignored": dict(stats.ignored), "wall_s": round(wall, 1),
                         "seed": chosen_seed, "failure": failure})
    return 1 if failure else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    sys.exit(main(args.examples, args.seed))
