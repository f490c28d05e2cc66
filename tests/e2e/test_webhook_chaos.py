"""Crash-restart chaos in webhook mode: `complaint-bot run --webhook` as a separate process, SIGKILLed at three
seeded instants while the emulator delivers by webhook into its inbox; nothing a person saw is lost and no
update is acted on twice beyond the crash bound (`python -m bench.chaos_bench --webhook` for 20+ kills)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.chaos_invariants import Figures
from bench.chaos_run import ChaosPlan, run_chaos


async def test_kill_9_three_times_in_webhook_mode_loses_nothing_anyone_saw(tmp_path: Path) -> None:
    result = await run_chaos(ChaosPlan(residents=4, kills=3, seed=11, webhook=True), tmp_path)
    f: Figures = result.figures
    report = "\n".join(f.lines()) + f"\nbot log tail:\n{(tmp_path / 'bot.log').read_text()[-2000:]}"
    assert result.restarts >= 3, report
    assert f.confirmed == f.tickets == result.residents, report
    assert not f.confirmed_missing and not f.tickets_unconfirmed and not f.filed_twice, report
    assert f.owed_text_rows and not f.undelivered, report
    assert f.duplicates <= f.duplicate_bound, report
    assert not f.dropped_silently and not f.still_pending, report
    assert result.finished == result.residents, report
    assert f.ok, report
    with sqlite3.connect(tmp_path / "chaos.sqlite3") as conn:  # it really came by webhook, all of it processed
        states = dict(conn.execute("SELECT state, COUNT(*) FROM inbox GROUP BY state").fetchall())
    assert states.get("done", 0) > 0 and not states.get("pending") and not states.get("failed"), states
