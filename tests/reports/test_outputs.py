"""Seeded data, the chart, the ledger read back with openpyxl, the text messages and the two commands."""

from __future__ import annotations

import argparse
import io
import sqlite3
import warnings
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import noto_cjk_sans_otc
import openpyxl
import pytest
from matplotlib import font_manager
from PIL import Image

from bot import cli_report, cli_seed
from bot.config import City
from bot.domain.lifecycle import SPEC, TRANSITIONS, TicketState
from bot.domain.numbers import is_damm_valid
from bot.reports.chart import cjk_font, render_png
from bot.reports.ledger import FIGURE_HEADERS, LEDGER_HEADERS, figure_row, write_ledger
from bot.reports.model import build_report
from bot.reports.text import render_text, split_messages
from bot.texts import Texts
from storage.db import Database
from tests.reports.conftest import AS_OF, PERIOD, ROOT

YEAR = (date(2026, 1, 1), date(2026, 12, 31))
END_OF_YEAR = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # midnight after the year, Shanghai time
# Event names the seed writes → the lifecycle action they perform (the specification's own names).
EVENT_ACTION = {spec.event: action for action, spec in SPEC.items()}


# --- seeding ---------------------------------------------------------------------------------------------------

def test_seeded_year_is_consistent(seeded_path: Path) -> None:
    conn = sqlite3.connect(seeded_path)
    tickets = {r[0]: r[1:] for r in conn.execute("SELECT id, state, number, version FROM tickets")}
    assert len(tickets) == 4000
    assert conn.execute("SELECT value FROM number_sequences WHERE name = 'tickets'").fetchone()[0] == 4000
    assert all(is_damm_valid(number) for _, number, _ in tickets.values())
    chains: dict[int, list[tuple]] = {}
    for row in conn.execute("SELECT ticket_id, action, from_state, to_state FROM events ORDER BY ticket_id, id"):
        chains.setdefault(row[0], []).append(row[1:])
    for tid, (state, _, version) in tickets.items():
        chain = chains[tid]
        assert chain[0] == ("registered", None, "registered")
        for (action, before, after), (_, _, prev_after) in zip(chain[1:], chain, strict=False):
            assert before == prev_after
            assert TRANSITIONS[(TicketState(before), EVENT_ACTION[action])] == TicketState(after)
        assert chain[-1][2] == state and version == len(chain)
    conn.close()


def test_seeded_proportions(seeded_path: Path) -> None:
    conn = sqlite3.connect(seeded_path)
    n = 4000
    by_cat = Counter(dict(conn.execute("SELECT category, count(*) FROM tickets GROUP BY 1").fetchall()))
    top_five = sum(by_cat[k] for k in ("housing", "transport", "city_management", "labour", "rural"))
    assert 0.38 < top_five / n < 0.46
    opened = conn.execute("SELECT count(*) FROM tickets WHERE state IN "
                          "('registered', 'dispatched', 'accepted', 'returned', 'reopened')").fetchone()[0]
    assert 0.01 < opened / n < 0.06
    reopened = conn.execute("SELECT count(*) FROM tickets WHERE reopen_count > 0").fetchone()[0]
    assert 0.004 < reopened / n < 0.02
    bounced = conn.execute("SELECT count(*) FROM tickets WHERE bounces > 0").fetchone()[0]
    assert 0.01 < bounced / n < 0.08
    days = conn.execute("SELECT min(created_at), max(created_at) FROM tickets").fetchone()
    assert days[0] >= "2025-12-31T16:00" and days[1] < "2026-12-31T16:00"
    conn.close()


async def test_report_matches_brute_force_on_seeded_year(seeded_db: Database, seeded_path: Path,
                                                         city: City) -> None:
    report = await build_report(seeded_db, city, *YEAR, as_of=END_OF_YEAR)
    conn = sqlite3.connect(seeded_path)
    rows = conn.execute("SELECT unit, resolved_on_time, state, due_at, rating FROM tickets").fetchall()
    conn.close()
    as_of = END_OF_YEAR.isoformat(timespec="microseconds")
    open_states = {"registered", "dispatched", "accepted", "returned", "reopened"}
    for u in report.units:
        mine = [r for r in rows if r[0] == u.key]
        assert u.received == len(mine)
        assert u.resolved_on_time == sum(1 for r in mine if r[1] == 1)
        assert u.overdue_open == sum(1 for r in mine if r[2] in open_states and r[3] and r[3] < as_of)
        assert u.satisfied == sum(1 for r in mine if r[4] == "satisfied")
    assert report.total.received == 4000 == sum(n for _, n in report.daily)
    rates = [u.on_time_rate for u in report.units if u.rank is not None]
    assert rates == sorted(rates, reverse=True)


# --- chart -----------------------------------------------------------------------------------------------------

async def test_png_chart_uses_the_bundled_cjk_font(seeded_db: Database, city: City) -> None:
    report = await build_report(seeded_db, city, *YEAR, as_of=END_OF_YEAR)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_png(report, "zh", Texts())
    assert not [w for w in caught if "missing from font" in str(w.message) or "Glyph" in str(w.message)]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    assert image.size == (1400, 1000)
    assert 50_000 < len(png) < 2_000_000
    found = font_manager.findfont(font_manager.FontProperties(family=cjk_font()), fallback_to_default=False)
    assert Path(found) == Path(noto_cjk_sans_otc.FONT_PATH)


async def test_png_chart_of_an_empty_period(hand_db: Database, city: City) -> None:
    report = await build_report(hand_db, city, date(2025, 1, 1), date(2025, 1, 7), as_of=AS_OF)
    png = render_png(report, "en", Texts())
    assert Image.open(io.BytesIO(png)).size == (1400, 1000)


# --- ledger ----------------------------------------------------------------------------------------------------

async def test_ledger_read_back_matches_the_database(seeded_db: Database, seeded_path: Path, city: City,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "ledger.xlsx"
    stats = await write_ledger(seeded_db, city, *YEAR, out, "zh", as_of=END_OF_YEAR, sheet_rows=1500, batch=700)
    assert (stats.rows, stats.ledger_sheets) == (4000, 3)  # 1,499 rows per sheet + a header
    texts = Texts()
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["台账", "台账 (2)", "台账 (3)", "单位统计", "区县统计"]
    ledger = [row for name in wb.sheetnames[:3] for row in wb[name].iter_rows(min_row=2, values_only=True)]
    header = next(wb["台账"].iter_rows(max_row=1, values_only=True))
    assert list(header) == [texts.get("zh", f"report.{h}") for h in LEDGER_HEADERS]
    assert len(ledger) == 4000

    conn = sqlite3.connect(seeded_path)
    db_rows = {r[0]: r for r in conn.execute(
        "SELECT number, unit, resolved_on_time, bounces, description, reporter_id FROM tickets")}
    conn.close()
    assert {r[0] for r in ledger} == set(db_rows)
    names = {u.key: u.name_zh for u in city.units}
    for row in ledger[::397]:
        _, unit, on_time, bounces, description, reporter = db_rows[row[0]]
        assert row[4] == names.get(unit)
        assert row[9] == {1: "是", 0: "否", None: None}[on_time]
        assert row[12] == bounces and row[13] == description
        assert str(reporter) not in [str(v) for v in row]  # never the reporter's identity
    created = [r[1] for r in ledger]
    assert created == sorted(created)

    units_sheet = list(wb["单位统计"].iter_rows(values_only=True))
    assert list(units_sheet[0]) == [texts.get("zh", f"report.{h}") for h in FIGURE_HEADERS]
    report = await build_report(seeded_db, city, *YEAR, as_of=END_OF_YEAR)
    width = len(FIGURE_HEADERS)  # openpyxl drops trailing empty cells when reading
    assert [[*r, *[None] * (width - len(r))] for r in units_sheet[1:-1]] == [figure_row(u, "zh") for u in report.units]
    assert units_sheet[-1][2] == 4000  # the city's total
    by_unit = Counter(r[4] for r in ledger)
    for row in units_sheet[1:-1]:
        assert row[2] == by_unit.get(row[1], 0)  # received = ledger rows of that unit
    wb.close()


async def test_ledger_of_an_empty_period(hand_db: Database, city: City) -> None:
    out = io.BytesIO()
    stats = await write_ledger(hand_db, city, date(2025, 1, 1), date(2025, 1, 2), out, "en", as_of=AS_OF)
    assert stats.rows == 0
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    assert wb.sheetnames == ["Ledger", "Units", "Districts"]
    assert len(list(wb["Ledger"].iter_rows(values_only=True))) == 1


# --- text ------------------------------------------------------------------------------------------------------

async def test_text_report_fits_telegram(hand_db: Database, seeded_db: Database, city: City) -> None:
    texts = Texts()
    report = await build_report(hand_db, city, *PERIOD, as_of=AS_OF)
    for lang in ("zh", "en"):
        messages = render_text(report, lang, texts)
        assert all(0 < len(m) < 4096 for m in messages)
    joined = "\n".join(render_text(report, "zh", texts))
    assert "市交通运输局" in joined and "33.3%" in joined and "2026-03-02：3 件" in joined
    year = await build_report(seeded_db, city, *YEAR, as_of=END_OF_YEAR)
    assert all(len(m) < 4096 for m in render_text(year, "en", texts))
    empty = await build_report(hand_db, city, date(2025, 1, 1), date(2025, 1, 2), as_of=AS_OF)
    assert texts.get("en", "report.empty") in render_text(empty, "en", texts)[0]


def test_split_messages_breaks_between_lines() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(200)]
    messages = split_messages(lines, "(continued)", limit=1000)
    assert len(messages) > 10 and all(len(m) <= 1000 for m in messages)
    assert messages[1].startswith("(continued)\nline ")
    rebuilt = [ln for m in messages for ln in m.split("\n") if ln != "(continued)"]
    assert rebuilt == lines


# --- commands --------------------------------------------------------------------------------------------------

def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    cli_report.register(sub)
    cli_seed.register(sub)
    return parser.parse_args(argv)


def test_seed_and_report_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(ROOT / "config.example.toml")
    db = tmp_path / "demo.sqlite3"
    seed = ["seed-demo", "--config", config, "--db", str(db), "--tickets", "300", "--year-end", "2026-12-31"]
    assert cli_seed.run(_parse(seed)) == 0
    assert "300 tickets" in capsys.readouterr().out
    assert cli_seed.run(_parse(seed)) == 2  # not into a database that has tickets
    assert "--force" in capsys.readouterr().err
    assert cli_seed.run(_parse([*seed, "--force"])) == 0
    assert sqlite3.connect(db).execute("SELECT count(*) FROM tickets").fetchone()[0] == 600

    base = ["report", "--config", config, "--db", str(db), "--from", "2026-01-01", "--to", "2026-12-31"]
    assert cli_report.run(_parse([*base, "--format", "text", "--lang", "en"])) == 0
    out = capsys.readouterr().out
    assert "Received 600" in out and "<b>" not in out
    png = tmp_path / "r.png"
    assert cli_report.run(_parse([*base, "--format", "png", "--out", str(png)])) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    xlsx = tmp_path / "r.xlsx"
    assert cli_report.run(_parse([*base, "--format", "xlsx", "--out", str(xlsx)])) == 0
    assert openpyxl.load_workbook(xlsx, read_only=True).sheetnames[0] == "台账"
    assert cli_report.run(_parse([*base, "--format", "xlsx"])) == 2  # --out missing
    assert cli_report.run(_parse([*base[:-4], "--from", "2026-02-01", "--to", "2026-01-01"])) == 2
