"""Crash-restart chaos, bounded: the bot as a separate process, SIGKILLed at three seeded instants under four
residents and the liaisons, restarted each time; nothing a person saw is lost (bench/chaos_bench.py: 20+ kills).

The people's patience is a real-time wait (the bot may be dead); nothing asserts on time."""

from __future__ import annotations

from pathlib import Path

from bench.chaos_invariants import Figures
from bench.chaos_run import ChaosPlan, run_chaos


async def test_kill_9_three_times_loses_nothing_anyone_saw(tmp_path: Path) -> None:
    result = await run_chaos(ChaosPlan(residents=4, kills=3, seed=9), tmp_path)
    f: Figures = result.figures
    report = "\n".join(f.lines()) + f"\nbot log tail:\n{(tmp_path / 'bot.log').read_text()[-2000:]}"
    assert result.restarts >= 3, report
    assert f.confirmed == f.tickets == result.residents, report  # each resident's one complaint, exactly once
    assert not f.confirmed_missing and not f.tickets_unconfirmed and not f.filed_twice, report
    assert f.events and not f.chains_bad, report
    assert f.owed_text_rows and not f.undelivered, report
    assert f.duplicates <= f.duplicate_bound, report
    assert not f.dropped_silently and not f.still_pending, report
    assert not f.drafts_lost, report
    assert result.finished == result.residents, report  # every complaint was signed for, resolved and rated
    assert f.ok, report
