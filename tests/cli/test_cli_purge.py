"""`complaint-bot purge-personal-data` on a seeded year: the report is the same before and after, the dry run
changes nothing, and only final tickets closed before the cut are purged."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.cli import main
from bot.config import load_config
from bot.reports.model import build_report
from bot.seed import seed_demo
from storage.db import Database
from storage.purge import PURGED_USER
from tests.cli.test_cli import config_text


def _report(path: Path, city, today: date):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        db = await Database.open(path)
        try:
            return await build_report(db, city, today - timedelta(days=366), today,
                                      as_of=datetime.combine(today, datetime.min.time(), UTC))
        finally:
            await db.close()
    return asyncio.run(run())


def _table(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM tickets ORDER BY id").fetchall()


def test_purge_keeps_the_figures_and_only_touches_old_closed_tickets(tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path), encoding="utf-8")
    city = load_config(config).city
    db = tmp_path / "bot.sqlite3"
    today = datetime.now(UTC).date()
    seed_demo(db, city, 3000, today, seed=7)
    figures, before = _report(db, city, today), _table(db)

    assert main(["purge-personal-data", "--config", str(config), "--older-than", "60", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert dry.startswith("would purge tickets closed more than 60 days ago:")
    assert _table(db) == before

    assert main(["purge-personal-data", "--config", str(config), "--older-than", "60"]) == 0
    out = capsys.readouterr().out
    assert out.replace("purged", "would purge", 1) == dry  # the dry run counted exactly what was done
    after = _table(db)
    assert _report(db, city, today) == figures
    cut = (datetime.now(UTC) - timedelta(days=60)).isoformat()
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM tickets ORDER BY id").fetchall()
    changed = [r for r, old in zip(rows, before, strict=True) if tuple(r) != old]
    assert changed, "a year's demo has tickets closed two months ago"
    final = {"closed", "rejected", "withdrawn", "merged"}
    for r in changed:
        assert r["state"] in final and (r["closed_at"] or r["updated_at"]) < cut
        assert r["reporter_id"] == PURGED_USER and r["description"] == ""
    untouched = [r for r, old in zip(rows, before, strict=True) if tuple(r) == old]
    assert all(r["state"] not in final or (r["closed_at"] or r["updated_at"]) >= cut for r in untouched
               if r["reporter_id"] != PURGED_USER)
    assert f"{len(changed)} tickets" in out and len(after) == len(before)
