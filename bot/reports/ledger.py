"""The ledger (台账): an .xlsx workbook, one row per ticket of the period, plus sheets of unit figures; or the
same rows as CSV.

For supervisors: it holds the description (what the case is about) but never the reporter's identity (no user
id, no name, no contact): a ledger gets forwarded, and residents are promised anonymity towards units.

Streamed from rows fetched in batches, on a read-only snapshot connection in a worker thread: memory stays
bounded whatever the period, and the bot's own connection is not held while a yearly ledger is written. The
.xlsx goes through XlsxWriter's ``constant_memory`` mode (openpyxl's write-only mode is kept as the other
writer: ``writer="openpyxl"``; bench/ledger_writers.py compares them, figures in bench/README.md). A sheet holds
at most 1,048,576 rows, so a longer ledger continues on "台账 (2)", "台账 (3)"…; the figure sheets come from the
same snapshot, so they agree with the rows. The CSV (UTF-8 with a BOM, so Excel opens the Chinese right) has the
header and the rows only, one table however long.

Only what the ledger needs is imported here, the writer's module when it writes: the export's process stays
small (no matplotlib, no chart).
"""

from __future__ import annotations

import asyncio
import csv
import io
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

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
    ledger_sheets: int  # 0 for a CSV
    seconds: float
    report: Report | None  # the figures written to the unit and district sheets (None for a CSV)


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
        self.hours: dict[str, str | None] = {}

    def time(self, text: str | None) -> str | None:
        """A stored UTC time as local "YYYY-MM-DD HH:MM". The local hour is looked up once per UTC hour (a
        year has 8,760) and the minutes copied: parsing each time costs more than the rest of the row."""
        if not text:
            return None
        if len(text) >= 16 and text.endswith("+00:00"):
            key = text[:13]
            local = self.hours.get(key, "")
            if local == "":
                local = self.hours[key] = self._local_hour(key)
            if local is not None:
                return local + text[13:16]
        return self.slow_time(text)

    def _local_hour(self, key: str) -> str | None:
        """The local "YYYY-MM-DD HH" of a UTC hour, None where the zone's offset is not whole hours."""
        try:
            at = datetime.fromisoformat(f"{key}:00:00+00:00").astimezone(self.tz)
        except ValueError:
            return None
        offset = at.utcoffset()
        if offset is None or offset.total_seconds() % 3600:
            return None
        return at.strftime("%Y-%m-%d %H")

    def slow_time(self, text: str) -> str:
        return datetime.fromisoformat(text).astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def state(self, state: str) -> str:
        hit = self.states.get(state)
        if hit is not None:
            return hit
        if state not in self.states:
            try:
                self.states[state] = self.texts.get(self.lang, f"state.{state}")
            except KeyError:
                self.states[state] = state
        return self.states[state]

    def fixed_offset(self, first: date, last: date) -> int | None:
        """The zone's UTC offset in minutes if it is the same from a day before ``first`` to two years after
        ``last`` (every six hours: a summer time lasts months), else None. Then SQLite can give local times."""
        at = datetime.combine(first - timedelta(days=1), datetime.min.time(), UTC)
        stop = datetime.combine(last + timedelta(days=731), datetime.min.time(), UTC)
        seen = None
        while at <= stop:
            offset = at.astimezone(self.tz).utcoffset()
            if offset is None or (seen is not None and offset != seen):
                return None
            seen = offset
            at += timedelta(hours=6)
        return None if seen is None else int(seen.total_seconds() // 60)

    def local_rows(self, rows: list[tuple]) -> list[list[object]]:
        """A batch of rows whose times SQLite already made local (``ledger_rows(offset_minutes=...)``)."""
        categories, units, state, flag = self.categories, self.units, self.state, self.flag
        rating, solved_names, satisfaction_names, channels = self.rating, self.solved, self.satisfaction, self.channels
        return [[
            number, created, categories.get(category, category), units.get(district, district),
            units.get(unit, unit), state(s), due, flag.get(signed_on_time), resolved, flag.get(resolved_on_time),
            rating.get(r, r), reopen_count, bounces, description, solved_names.get(solved, solved),
            satisfaction_names.get(satisfaction, satisfaction), channels.get(channel, channel), client,
        ] for (number, created, category, district, unit, s, due, signed_on_time, resolved, resolved_on_time,
               r, reopen_count, bounces, description, solved, satisfaction, channel, client) in rows]

    def rows(self, rows: list[tuple]) -> list[list[object]]:
        return [self(row) for row in rows]

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


def _prefetched(chunks: Iterator[list[tuple]], depth: int = 2) -> Iterator[list[tuple]]:
    """``chunks`` fetched by a thread of their own, ``depth`` batches ahead: SQLite's stepping (it lets go of the
    GIL) overlaps the formatting and writing of the previous batch. Ends the thread before returning."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def produce() -> None:
        last: object = end
        try:
            for chunk in chunks:
                put(chunk)
                if stop.is_set():
                    break
        except BaseException as error:  # handed to the consumer, raised there
            last = error
        finally:
            chunks.close()  # type: ignore[attr-defined]
        put(last)

    worker = threading.Thread(target=produce, name="ledger-fetch", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def _batches(conn: sqlite3.Connection, fmt: _RowFormatter, period: model.Period, as_of: date, batch: int,
             csv_safe: bool = False, prefetch: bool = False) -> Iterator[list[list[object]]]:
    """The period's ledger rows as sheet values, batch by batch. Local times come from SQLite where the zone's
    offset is fixed (Asia/Shanghai's since 1991), else from the formatter."""
    start, end = period.utc_bounds(fmt.tz)
    # SQLite's strftime makes them local; PostgreSQL's rows are converted by the formatter
    offset = fmt.fixed_offset(period.start, max(period.end, as_of)) if isinstance(conn, sqlite3.Connection) else None
    chunks = sql.ledger_rows(conn, start, end, batch, offset_minutes=offset, csv_safe=csv_safe)
    if prefetch:
        chunks = _prefetched(chunks)
    convert = fmt.rows if offset is None else fmt.local_rows
    for chunk in chunks:
        yield convert(chunk)


#: The ledger columns whose values repeat (names, states, yes/no): shared strings in the streamed .xlsx.
_REPEATING = frozenset(LEDGER_HEADERS.index(h) for h in (
    "col_category", "col_district", "col_unit", "col_state", "col_signed_on_time", "col_resolved_on_time",
    "col_rating", "col_solved_answer", "col_satisfaction_answer", "col_channel", "col_channel_client"))


class _OpenpyxlBook:
    """openpyxl's write-only (streaming) workbook; with lxml installed (``openpyxl.LXML``) it serialises through
    lxml.etree.xmlfile, else through the standard library's."""

    def __init__(self, out: Path | BinaryIO) -> None:
        from openpyxl import Workbook

        self.out = out
        self.wb = Workbook(write_only=True)
        self.sheet: Any = None

    def add_sheet(self, name: str, titles: list[str], shared: frozenset[int] | None = None) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self.sheet = self.wb.create_sheet(name)
        bold = Font(bold=True)
        cells = []
        for title in titles:
            cell = WriteOnlyCell(self.sheet, value=title)
            cell.font = bold
            cells.append(cell)
        self.sheet.append(cells)

    def append(self, values: list[object]) -> None:
        self.sheet.append(values)

    def close(self) -> None:
        self.wb.save(self.out)


class _XlsxWriterBook:
    """XlsxWriter with ``constant_memory``: each row goes to the sheet's temporary file as it is written, strings
    inline (no shared-string table to hold), so memory stays flat whatever the number of rows. Text is written
    as text: no formula for a description starting with "=", no hyperlink for one holding a URL."""

    def __init__(self, out: Path | BinaryIO) -> None:
        import xlsxwriter

        self.wb = xlsxwriter.Workbook(out if not isinstance(out, Path) else str(out), {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False})
        self.bold = self.wb.add_format({"bold": True})
        self.sheet: Any = None
        self.row = 0

    def add_sheet(self, name: str, titles: list[str], shared: frozenset[int] | None = None) -> None:
        self.sheet = self.wb.add_worksheet(name)
        self.sheet.write_row(0, 0, titles, self.bold)
        self.row = 1

    def append(self, values: list[object]) -> None:
        self.sheet.write_row(self.row, 0, values)
        self.row += 1

    def close(self) -> None:
        self.wb.close()


def _stream_book(out: Path | BinaryIO) -> Any:
    from bot.reports.xlsx import StreamBook

    return StreamBook(out)


WRITERS: dict[str, Callable[[Path | BinaryIO], Any]] = {
    "stream": _stream_book, "xlsxwriter": _XlsxWriterBook, "openpyxl": _OpenpyxlBook}
#: The fastest on the same rows (bench/ledger_writers.py; figures in bench/README.md).
DEFAULT_WRITER = "stream"


def _write(conn: sqlite3.Connection, city: City, period: model.Period, as_of: datetime, out: Path | BinaryIO,
           lang: str, texts: Texts, batch: int, sheet_rows: int,
           progress: Callable[[int, int], None] | None, weights: model.Weights = (),
           writer: str = DEFAULT_WRITER, prefetch: bool = False) -> LedgerStats:
    started = time.perf_counter()
    start, end = period.utc_bounds(city.timezone)
    as_of_text = as_of.astimezone(UTC).isoformat(timespec="microseconds")
    report = model.assemble(city, period, as_of, model.query(conn, period, city.timezone, as_of_text), weights)
    total = sql.ledger_count(conn, start, end) if progress is not None else 0
    book = WRITERS[writer](out)
    headers = [texts.get(lang, f"report.{h}") for h in LEDGER_HEADERS]
    name = texts.get(lang, "report.sheet_ledger")
    fmt = _RowFormatter(city, lang, texts)
    sheets = 0
    in_sheet = rows = 0
    for chunk in _batches(conn, fmt, period, as_of.astimezone(city.timezone).date(), batch, prefetch=prefetch):
        for values in chunk:
            if sheets == 0 or in_sheet >= sheet_rows - 1:
                sheets += 1
                book.add_sheet(name if sheets == 1 else f"{name} ({sheets})", headers, _REPEATING)
                in_sheet = 0
            book.append(values)
            in_sheet += 1
        rows += len(chunk)
        if progress is not None:
            progress(rows, total)
    if sheets == 0:  # an empty period still gets its (empty) ledger sheet
        sheets = 1
        book.add_sheet(name, headers)
    figure_titles = [texts.get(lang, f"report.{h}") for h in FIGURE_HEADERS]
    for key, figures in (("report.sheet_units", report.units), ("report.sheet_districts", report.districts)):
        book.add_sheet(texts.get(lang, key), figure_titles)
        for u in figures:
            book.append(figure_row(u, lang))
        book.append(figure_row(report.total, lang))
    book.close()
    return LedgerStats(rows=rows, ledger_sheets=sheets, seconds=round(time.perf_counter() - started, 2),
                       report=report)


def _write_csv(conn: sqlite3.Connection, city: City, period: model.Period, as_of: datetime, out: Path | BinaryIO,
               lang: str, texts: Texts, batch: int, progress: Callable[[int, int], None] | None,
               prefetch: bool = False) -> LedgerStats:
    """The rows as CSV: each batch formatted into one string and encoded once. Free text that starts like a
    formula ("=", "+", "-", "@") gets a leading apostrophe, so Excel shows it instead of running it."""
    started = time.perf_counter()
    start, end = period.utc_bounds(city.timezone)
    total = sql.ledger_count(conn, start, end) if progress is not None else 0
    fmt = _RowFormatter(city, lang, texts)
    binary = open(out, "wb") if isinstance(out, Path) else out  # noqa: SIM115 (closed below)
    rows = 0
    try:
        text = io.StringIO()
        w = csv.writer(text)
        w.writerow([texts.get(lang, f"report.{h}") for h in LEDGER_HEADERS])
        binary.write(b"\xef\xbb\xbf" + text.getvalue().encode("utf-8"))  # the BOM: Excel then reads UTF-8
        local_today = as_of.astimezone(city.timezone).date()
        for chunk in _batches(conn, fmt, period, local_today, batch, csv_safe=True, prefetch=prefetch):
            text.seek(0)
            text.truncate()
            w.writerows(chunk)
            binary.write(text.getvalue().encode("utf-8"))
            rows += len(chunk)
            if progress is not None:
                progress(rows, total)
    finally:
        if isinstance(out, Path):
            binary.close()
    return LedgerStats(rows=rows, ledger_sheets=0, seconds=round(time.perf_counter() - started, 2), report=None)


async def write_ledger(db: Database, city: City, start: date, end: date, out: Path | BinaryIO, lang: str,
                       *, texts: Texts | None = None, as_of: datetime | None = None, batch: int = 5000,
                       sheet_rows: int = SHEET_MAX_ROWS, progress: Callable[[int, int], None] | None = None,
                       weights: model.Weights = (), kind: str = "xlsx", writer: str = DEFAULT_WRITER,
                       ) -> LedgerStats:
    """Write the ledger of tickets created from ``start`` to ``end`` (local dates, inclusive) to ``out``:
    ``kind`` "xlsx" (with the figure sheets) or "csv" (the rows only).

    ``progress(rows_so_far, rows_in_all)`` is called from the worker thread after each batch.
    ``sheet_rows`` (rows per sheet, header included) exists so tests can check the split without a million rows.
    ``writer`` picks the .xlsx writer (``WRITERS``), for the benchmark that compares them.
    """
    if kind not in ("xlsx", "csv"):
        raise ValueError(f"no ledger format {kind!r}")
    if end < start:
        raise ValueError(f"period ends before it starts: {start} … {end}")
    texts = texts or Texts()
    period = model.Period(start, end)
    as_of = as_of or datetime.now(UTC)

    def run(conn: sqlite3.Connection) -> LedgerStats:
        prefetch = str(db.path) != ":memory:"  # on the snapshot's own connection only
        if kind == "csv":
            return _write_csv(conn, city, period, as_of, out, lang, texts, batch, progress, prefetch)
        return _write(conn, city, period, as_of, out, lang, texts, batch, sheet_rows, progress, weights, writer,
                      prefetch)

    if db.path is None or str(db.path) == ":memory:":  # PostgreSQL: a read is one snapshot already
        return await db.read(run)
    # A smaller page cache than the reports' snapshot: the rows are read once, and the export's memory stays low.
    return await asyncio.to_thread(sql.snapshot, db.path, run, cache_kib=16384)
