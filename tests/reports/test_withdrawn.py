"""Withdrawn tickets (撤回) are counted apart: in no unit's received or rates, on a line and a column of their own."""

from __future__ import annotations

import sqlite3

import pytest

from bot.config import City
from bot.domain.numbers import number_for_sequence
from bot.reports.ledger import FIGURE_HEADERS, figure_row
from bot.reports.model import build_report
from bot.reports.text import render_lines
from bot.texts import Texts
from storage.db import Database
from tests.reports.conftest import AS_OF, PERIOD, iso, local


def _withdrawn(conn: sqlite3.Connection) -> None:
    """Two more tickets in the period: one withdrawn while dispatched to 颍州区, one while still registered."""
    for seq, unit in ((101, "yingzhou"), (102, None)):
        created = local(2026, 3, 3, 10)
        conn.execute(
            "INSERT INTO tickets(number, state, category, reporter_id, description, location_source, district, "
            "unit, deadline_class, created_at, updated_at) "
            "VALUES (?, 'withdrawn', 'housing', 1, '撤回的', 'none', 'yingzhou', ?, 'general', ?, ?)",
            (number_for_sequence(seq), unit, iso(created), iso(created)))


async def test_withdrawn_tickets_count_apart_from_the_units_figures(hand_db: Database, city: City) -> None:
    before = await build_report(hand_db, city, *PERIOD, as_of=AS_OF)
    await hand_db.write(_withdrawn)
    report = await build_report(hand_db, city, *PERIOD, as_of=AS_OF)

    yz_before = next(u for u in before.units if u.key == "yingzhou")
    yz = next(u for u in report.units if u.key == "yingzhou")
    assert yz.withdrawn == 1 and yz_before.withdrawn == 0
    # everything the unit is measured by is as it was (worked out by hand in test_figures)
    assert (yz.received, yz.signed_on_time_rate, yz.on_time_rate) == (3, pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert (yz.recomplaint_rate, yz.bounce_rate, yz.rank) == (pytest.approx(1 / 3), pytest.approx(1 / 3),
                                                              yz_before.rank)
    assert (report.total.received, report.total.withdrawn) == (before.total.received, 2)
    district = next(d for d in report.districts if d.key == "yingzhou")
    assert district.withdrawn == 2
    assert [c.tickets for c in report.categories] == [c.tickets for c in before.categories]

    texts = Texts()
    lines = render_lines(report, "zh", texts)
    assert texts.get("zh", "report.withdrawn", withdrawn=2) in lines
    assert any(line.endswith(texts.get("zh", "report.unit_withdrawn", withdrawn=1)) and "颍州区" in line
               for line in lines)
    assert figure_row(yz, "zh")[FIGURE_HEADERS.index("col_withdrawn")] == 1


async def test_a_period_with_only_withdrawn_tickets_is_not_empty(tmp_path, city: City) -> None:
    db = await Database.open(tmp_path / "only.sqlite3")
    try:
        await db.write(lambda c: c.execute(
            "INSERT INTO users(id, language, reachable, first_seen, last_seen) VALUES (1, 'zh', 1, 'x', 'x')"))
        await db.write(_withdrawn)
        report = await build_report(db, city, *PERIOD, as_of=AS_OF)
    finally:
        await db.close()
    assert (report.total.received, report.total.withdrawn) == (0, 2)
    lines = render_lines(report, "zh", Texts())
    assert Texts().get("zh", "report.empty") not in lines
    assert Texts().get("zh", "report.withdrawn", withdrawn=2) in lines
