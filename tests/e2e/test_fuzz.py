"""Generated Telegram updates through the real Application (bounded; more in bench/fuzz_bench.py): nothing
reaches the error handler, every ticket walks the lifecycle, every resident's message is answered unless it is
deliberately ignored (bench/fuzz.py says which)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings

from bench.fuzz import FuzzHarness, update_lists
from tests.e2e.conftest import e2e_config

EXAMPLES = 250


def test_generated_updates_break_nothing(tmp_path: Path) -> None:
    with FuzzHarness(e2e_config(tmp_path)) as harness:
        assert harness.world is not None

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(update_lists(harness.world))
        def prop(updates: list) -> None:
            problems = harness.feed(updates)
            assert not problems, problems

        prop()
        stats = harness.stats
    print(f"\nfuzz: {stats.examples} examples, {stats.updates} updates, {stats.answered} answered, "
          f"ignored {dict(stats.ignored)}")
    assert stats.examples >= EXAMPLES and stats.answered > 0
