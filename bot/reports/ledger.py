"""The ledger (台账): an .xlsx workbook, one row per ticket of the period, plus sheets of unit figures.

For supervisors: it holds the description (what the case is about) but never the reporter's identity (no user
id, no name, no contact): a ledger gets forwarded, and residents are promised anonymity towards units.

Written in openpyxl's write-only (streaming) mode from rows fetched in batches, on a read-only snapshot
connection in a worker thread: memory stays bounded whatever the period, and the bot's own connection is not
held while a yearly ledger (minutes for 1.5M rows, see bench/README.md) is written. A sheet holds at most
1,048,576 rows, so a longer ledger continues on "台账 (2)", "台账 (3)"…; the figure sheets come from the same
snapshot, so they agree with the rows.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.config import City
from bot.reports import model
from bot.reports.model import Report, UnitFigures
from bot.reports.text import channel_names
from bot.texts import Texts
from storage import reports as sql
from storage.db import Database

SHEET_MAX_ROWS = 1_048_576  # Excel's limit, the header row included
LEDGER_HEADERS = (
    "col_number", "col_created", "col_category", "col_district", "col_unit", "col_state", "col_due",
    "col_signed_on_time", "col_resolved", "col_resolved_on_time", "col_rating", "col_reopen_count",
    "col_bounces", "col_description", "col_solved_answer", "col_satisfaction_answer", "col_channel",
    "col_channel_client",
)
FIGURE_HEADERS = (
    "col_rank", "col_name", "col_received", "col_signed", "col_signed_on_time_count", "col_signed_rate",
    "col_resolved_count", "col_resolved_on_time_count", "col_due_count", "col_on_time_rate", "col_open",
    "col_overdue_open", "col_median_hours", "col_rated", "col_satisfied", "col_satisfaction", "col_recomplained",
    "col_recomplaint_rate", "col_bounced", "col_bounce_rate", "col_sign_overdue", "col_response_rate",
    "col_solution_rated", "col_solved", "col_partly_solved", "col_resolution_rate", "col_withdrawn",
)


@dataclass(frozen=True)
class LedgerStats:
    rows: int  # tickets written
    ledger_sheets: int
    seconds: float
    report: Report  # the figures written to the unit and district sheets


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def figure_row(u: UnitFigures, lang: str) -> list[object]:
    """One row of the unit (or district) sheet, in FIGURE_HEADERS order."""
    return [
        u.rank, u.name(lang), u.received, u.signed, u.signed_on_time, _rate(u.signed_on_time_rate), u.resolved,
        u.resolved_on_time, u.due, _rate(u.on_time_rate), u.open, u.overdue_open, u.median_hours, u.rated,
        u.satisfied, _rate(u.satisfaction_rate), u.recomplained, _rate(u.recomplaint_rate), u.bounced,
        _rate(u.bounce_rate), u.sign_overdue, _rate(u.response_rate), u.solution_rated, u.solved, u.partly_solved,
        _rate(u.resolution_rate), u.withdrawn,
    ]


class _RowFormatter:
    """Turns a ledger query row into sheet values: local times, names instead of keys, yes/no."""

    def __init__(self, city: City, lang: str, texts: Texts) -> None:
        self.tz: ZoneInfo = city.timezone
        self.units = {u.key: u.name(lang) for u in city.units}
        self.categories = {c.key: c.name(lang) for c in city.categories}
        self.states: dict[str, str] = {}
        self.lang = lang
        self.texts = texts
        self.flag = {1: texts.get(lang, "report.yes"), 0: texts.get(lang, "report.no"), None: None}
        self.rating = {
            "satisfied": texts.get(lang, "report.rating_satisfied"),
            "dissatisfied": texts.get(lang, "report.rating_dissatisfied"),
            None: None,
        }
        self.solved = {"solved": texts.get(lang, "report.solved_solved"),
                       "partly": texts.get(lang, "report.solved_partly"),
                       "unsolved": texts.get(lang, "report.solved_unsolved"), None: None}
        self.satisfaction = {"satisfied": texts.get(lang, "report.satisfaction_satisfied"),
                             "basic": texts.get(lang, "report.satisfaction_basic"),
                             "dissatisfied": texts.get(lang, "report.satisfaction_dissatisfied"), None: None}
        self.channels = channel_names(texts, lang)

    def time(self, text: str | None) -> str | None:
        if not text:
            return None
        return datetime.fromisoformat(text).astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def state(self, state: str) -> str:
        if state not in self.states:
            try:
                self.states[state] = self.texts.get(self.lang, f"state.{state}")
            except KeyError:
                self.states[state] = state
        return self.states[state]

    def __call__(self, row: tuple) -> list[object]:
        (number, created, category, district, unit, state, due, signed_on_time, resolved, resolved_on_time,
         rating, reopen_count, bounces, description, solved, satisfaction, channel, client) = row
        return [
            number, self.time(created), self.categories.get(category, category),
            self.units.get(district, district), self.units.get(unit, unit), self.state(state), self.time(due),
            self.flag.get(signed_on_time), self.time(resolved), self.flag.get(resolved_on_time),
            self.rating.get(rating, rating), reopen_count, bounces, description,
            self.solved.get(solved, solved), self.satisfaction.get(satisfaction, satisfaction),
            self.channels.get(channel, channel), client,
        ]


def _header(sheet: WriteOnlyWorksheet, titles: list[str]) -> None:
    bold = Font(bold=True)
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)


def _write(conn: sqlite3.Connection, city: City, period: model.Period, as_of: datetime, out: Path | BinaryIO,
           lang: str, texts: Texts, batch: int, sheet_rows: int,
           progress: Callable[[int], None] | None, weights: model.Weights = ()) -> LedgerStats:
    started = time.perf_counter()
    start, end = period.utc_bounds(city.timezone)
    as_of_text = as_of.astimezone(UTC).isoformat(timespec="microseconds")
    report = model.assemble(city, period, as_of, model.query(conn, period, city.timezone, as_of_text), weights)
    wb = Workbook(write_only=True)
    headers = [texts.get(lang, f"report.{h}") for h in LEDGER_HEADERS]
    name = texts.get(lang, "report.sheet_ledger")
    fmt = _RowFormatter(city, lang, texts)
    sheets = 0
    sheet: WriteOnlyWorksheet | None = None
    in_sheet = rows = 0
    for chunk in sql.ledger_rows(conn, start, end, batch):
        for row in chunk:
            if sheet is None or in_sheet >= sheet_rows - 1:
                sheets += 1
                sheet = wb.create_sheet(name if sheets == 1 else f"{name} ({sheets})")
                _header(sheet, headers)
                in_sheet = 0
            sheet.append(fmt(row))
            in_sheet += 1
        rows += len(chunk)
        if progress is not None:
            progress(rows)
    if sheet is None:  # an empty period still gets its (empty) ledger sheet
        sheets = 1
        _header(wb.create_sheet(name), headers)
    figure_titles = [texts.get(lang, f"report.{h}") for h in FIGURE_HEADERS]
    for key, figures in (("report.sheet_units", report.units), ("report.sheet_districts", report.districts)):
        ws = wb.create_sheet(texts.get(lang, key))
        _header(ws, figure_titles)
        for u in figures:
            ws.append(figure_row(u, lang))
        total = figure_row(report.total, lang)
        ws.append(total)
    wb.save(out)
    return LedgerStats(rows=rows, ledger_sheets=sheets, seconds=round(time.perf_counter() - started, 2),
                       report=report)


async def write_ledger(db: Database, city: City, start: date, end: date, out: Path | BinaryIO, lang: str,
                       *, texts: Texts | None = None, as_of: datetime | None = None, batch: int = 5000,
                       sheet_rows: int = SHEET_MAX_ROWS,
                       progress: Callable[[int], None] | None = None, weights: model.Weights = ()) -> LedgerStats:
    """Write the ledger of tickets created from ``start`` to ``end`` (local dates, inclusive) to ``out``.

    ``progress(rows_so_far)`` is called from the worker thread after each batch (for a progress message).
    ``sheet_rows`` (rows per sheet, header included) exists so tests can check the split without a million rows.
    """
    if end < start:
        raise ValueError(f"period ends before it starts: {start} … {end}")
    texts = texts or Texts()
    period = model.Period(start, end)
    as_of = as_of or datetime.now(UTC)

    def run(conn: sqlite3.Connection) -> LedgerStats:
        return _write(conn, city, period, as_of, out, lang, texts, batch, sheet_rows, progress, weights)

    if db.path is None or str(db.path) == ":memory:":  # PostgreSQL: a read is one snapshot already
        return await db.read(run)
    return await asyncio.to_thread(sql.snapshot, db.path, run)
