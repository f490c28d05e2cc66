"""The ledger's writers: the streamed .xlsx holds exactly what openpyxl's and XlsxWriter's hold (read back cell by
cell), odd text survives, the CSV has the same rows, local times match the slow path, and the CLI's CSV and
progress line."""

from __future__ import annotations

import argparse
import csv
import io
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot import cli_report
from bot.config import City
from bot.reports.ledger import LEDGER_HEADERS, WRITERS, _RowFormatter, write_ledger
from bot.texts import Texts
from storage.db import Database
from tests.reports.conftest import ROOT

YEAR = (date(2026, 1, 1), date(2026, 12, 31))
END_OF_YEAR = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def _read(data: bytes) -> dict[str, list[list[object]]]:
    """Every sheet's rows, trailing empty cells padded to the header's width."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    sheets = {}
    for name in wb.sheetnames:
        rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
        width = len(rows[0])
        sheets[name] = [[*r, *[None] * (width - len(r))] for r in rows]
    wb.close()
    return sheets


async def _ledger(db: Database, city: City, writer: str, **kw: object) -> bytes:
    out = io.BytesIO()
    await write_ledger(db, city, *YEAR, out, "zh", as_of=END_OF_YEAR, sheet_rows=1500, batch=700, writer=writer,
                       **kw)  # type: ignore[arg-type]
    return out.getvalue()


async def test_every_writer_writes_the_same_cells(seeded_db: Database, city: City) -> None:
    books = {w: _read(await _ledger(seeded_db, city, w)) for w in WRITERS}
    stream = books.pop("stream")
    assert list(stream) == ["台账", "台账 (2)", "台账 (3)", "单位统计", "区县统计"]
    assert sum(len(stream[n]) - 1 for n in ("台账", "台账 (2)", "台账 (3)")) == 4000
    assert any(isinstance(v, int) and not isinstance(v, bool) for v in stream["台账"][1])  # numbers stay numbers
    for writer, book in books.items():
        assert list(book) == list(stream), writer
        for name in stream:
            assert book[name] == stream[name], (writer, name)


async def test_the_streamed_header_is_bold(seeded_db: Database, city: City) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(await _ledger(seeded_db, city, "stream")))
    sheet = wb["台账"]
    assert sheet["A1"].value == Texts().get("zh", "report.col_number") and sheet["A1"].font.b
    assert not sheet["A2"].font.b


ODD = ["  前后有空格  ", "a & b < c > d \"quoted\" 'single'", "=1+1 不是公式", "见 https://example.org/x?a=1&b=2",
       "控制\x01字符\x1f", "换行\n第二行", "表情 😀 与 \u00a0 不换行空格"]


async def _with_odd_descriptions(path: Path) -> None:
    conn = sqlite3.connect(path)
    ids = [r[0] for r in conn.execute("SELECT id FROM tickets ORDER BY created_at LIMIT ?", (len(ODD),))]
    for ticket_id, text in zip(ids, ODD, strict=True):
        conn.execute("UPDATE tickets SET description = ?, channel_client = ? WHERE id = ?", (text, text, ticket_id))
    conn.commit()
    conn.close()


@pytest.fixture
async def odd_db(seeded_path: Path, tmp_path: Path) -> Database:
    copy = tmp_path / "odd.sqlite3"
    src = sqlite3.connect(seeded_path)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    await _with_odd_descriptions(copy)
    db = await Database.open(copy)
    yield db
    await db.close()


async def test_odd_text_survives_the_stream_and_the_csv_has_the_same_rows(odd_db: Database, city: City) -> None:
    sheets = _read(await _ledger(odd_db, city, "stream"))
    rows = [r for n in ("台账", "台账 (2)", "台账 (3)") for r in sheets[n][1:]]
    col = LEDGER_HEADERS.index("col_description")
    expected = [t.replace("\x01", "").replace("\x1f", "") for t in ODD]  # XML 1.0 cannot hold them
    assert [r[col] for r in rows[:len(ODD)]] == expected
    assert [r[LEDGER_HEADERS.index("col_channel_client")] for r in rows[:len(ODD)]] == expected

    out = io.BytesIO()
    stats = await write_ledger(odd_db, city, *YEAR, out, "zh", as_of=END_OF_YEAR, kind="csv", batch=700)
    assert stats.rows == 4000 and stats.ledger_sheets == 0
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0] == sheets["台账"][0]
    assert len(table) == 1 + 4000

    def text(v: object) -> str:
        return "" if v is None else str(v)

    for got, want in zip(table[1 + len(ODD):], rows[len(ODD):], strict=True):
        assert got == [text(v) for v in want]
    odd = [r[col] for r in table[1:1 + len(ODD)]]
    assert odd[2] == "'=1+1 不是公式"  # a formula's first character is made harmless in CSV
    assert odd[4] == "控制\x01字符\x1f" and odd[5] == "换行\n第二行"  # CSV keeps what XML cannot
    assert odd[0] == ODD[0] and odd[1] == ODD[1]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Asia/Kolkata"])
def test_the_hour_cache_gives_the_slow_path_local_time(city: City, zone: str) -> None:
    fmt = _RowFormatter(city, "zh", Texts())
    fmt.tz = ZoneInfo(zone)
    at = datetime(2026, 3, 7, 0, 7, 13, 123456, tzinfo=UTC)
    for _ in range(24 * 40):  # around the American (March 8) and European (March 29) changes to summer time
        at += timedelta(hours=1, minutes=13)
        text = at.isoformat(timespec="microseconds")
        assert fmt.time(text) == fmt.slow_time(text)
    assert fmt.time("2026-03-08T07:30:00+08:00") == fmt.slow_time("2026-03-08T07:30:00+08:00")  # not UTC
    assert fmt.time(None) is None and fmt.time("") is None


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_report.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_csv_ledger(seeded_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ledger.csv"
    argv = ["report", "--config", str(ROOT / "config.example.toml"), "--db", str(seeded_path),
            "--from", "2026-01-01", "--to", "2026-12-31", "--format", "csv", "--out", str(out)]
    assert cli_report.run(_parse(argv)) == 0
    err = capsys.readouterr().err
    assert f"{out}: 4000 tickets in " in err and "rows/s" in err
    assert "/ 4,000 rows" not in err  # stderr is no terminal here: no progress line
    table = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert table[0] == [Texts().get("zh", f"report.{h}") for h in LEDGER_HEADERS] and len(table) == 4001


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_terminal_only() -> None:
    now = [0.0]
    shown = _Terminal()
    progress = cli_report.Progress(shown, every_s=5, clock=lambda: now[0])
    for rows in range(5000, 100_001, 5000):
        now[0] += 1
        progress(rows, 100_000)
    progress.done()
    lines = shown.getvalue().split("\r")[1:]
    # the first batch, then at most one line every 5 s, and the last batch always
    assert lines[0] == "5,000 / 100,000 rows (5 %), 5,000 rows/s"
    assert len(lines) == 5 and lines[-1] == "100,000 / 100,000 rows (100 %), 5,000 rows/s\n"
    piped = io.StringIO()
    quiet = cli_report.Progress(piped, clock=lambda: now[0])
    quiet(10, 100)
    quiet.done()
    assert piped.getvalue() == ""


def test_sqlite_local_times_equal_the_formatters(seeded_path: Path, city: City) -> None:
    from storage import reports as sql

    fmt = _RowFormatter(city, "zh", Texts())
    assert fmt.fixed_offset(*YEAR) == 480  # Shanghai: no summer time since 1991
    berlin = _RowFormatter(city, "zh", Texts())
    berlin.tz = ZoneInfo("Europe/Berlin")
    assert berlin.fixed_offset(*YEAR) is None  # summer time: the formatter's per-hour path
    conn = sqlite3.connect(seeded_path)
    start, end = "2025-12-31T16:00:00", "2026-12-31T16:00:00"
    by_sqlite = [r for chunk in sql.ledger_rows(conn, start, end, 999, offset_minutes=480)
                 for r in fmt.local_rows(chunk)]
    by_python = [r for chunk in sql.ledger_rows(conn, start, end, 999) for r in fmt.rows(chunk)]
    conn.close()
    assert len(by_sqlite) == 4000 and by_sqlite == by_python
    assert sum(r[8] is not None for r in by_sqlite) > 1000  # resolved times compared too, not only None
