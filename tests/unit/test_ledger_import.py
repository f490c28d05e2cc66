"""The ledger import's mapping and row parsing: times, encodings, value maps, and each reason a row is refused."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli_import import mapping_for, parser_for
from bot.config import load_config
from bot.domain.ledger_import import BadRow, MappingError
from bot.domain.rating import Satisfaction, Solved
from bot.ledger_files import LedgerFileError, detect_encoding, open_ledger

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples/import"
CONFIG = load_config(ROOT / "config.example.toml")
HEADER = ["工单编号", "来电时间", "诉求内容", "诉求地址", "诉求类别", "承办单位", "办理状态", "办结时间", "办理结果",
          "满意度"]
GOOD = {"id": "FY1", "received": "2026-03-02 09:12:33", "text": "小区电梯坏了一个星期，物业一直不修。",
        "address": "清河路88号", "category": "物业管理", "unit": "颍州区", "state": "已办结",
        "finished": "2026-03-04 16:20:00", "answer": "已修复", "rating": "满意"}


@pytest.fixture(scope="module")
def parser():
    return parser_for(CONFIG, mapping_for(CONFIG, EXAMPLES / "fy12345.mapping.toml"))


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def test_a_finished_row_in_our_terms(parser) -> None:
    r = parser.parse(7, row())
    assert (r.line, r.ref, r.category, r.unit, r.state) == (7, "FY1", "housing", "yingzhou", "closed")
    assert r.received == datetime(2026, 3, 2, 1, 12, 33, tzinfo=UTC)  # Shanghai time, stored as UTC
    assert r.finished == datetime(2026, 3, 4, 8, 20, tzinfo=UTC)
    assert r.rating is not None and (r.rating.satisfaction, r.rating.solved) == (Satisfaction.SATISFIED,
                                                                                 Solved.SOLVED)
    assert (r.address, r.answer) == ("清河路88号", "已修复")


def test_each_listed_time_format_and_iso(parser) -> None:
    assert parser.parse(2, row(received="2026/03/02 14:30")).received == datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
    assert parser.parse(2, row(received="2026-03-02T14:30:00+08:00")).received == datetime(2026, 3, 2, 6, 30,
                                                                                           tzinfo=UTC)


def test_value_maps(parser) -> None:
    # the mapping's own names, our zh names, our keys
    assert parser.parse(2, row(category="房产物业")).category == "housing"
    assert parser.parse(2, row(category="噪声扰民")).category == "noise"
    assert parser.parse(2, row(category="municipal")).category == "municipal"
    assert parser.parse(2, row(unit="颍东区政府")).unit == "yingdong"
    assert parser.parse(2, row(unit="市教育局")).unit == "education"  # our zh name, no line in the mapping
    assert parser.parse(2, row(state="办理中")).is_open
    assert parser.parse(2, row(state="不予受理", unit="")).state == "rejected"
    assert parser.parse(2, row(state="已撤件")).state == "withdrawn"
    assert parser.parse(2, row(rating="基本满意")).rating.satisfaction is Satisfaction.BASIC  # type: ignore[union-attr]
    assert parser.parse(2, row(rating="未评价")).rating is None
    open_row = parser.parse(2, row(state="办理中", finished="", rating="满意"))
    assert open_row.finished is None and open_row.rating is None  # an open case has neither yet


@pytest.mark.parametrize(("changes", "reason"), [
    ({"id": " "}, "missing case id"),
    ({"received": ""}, "missing received time"),
    ({"received": "2026年3月2日"}, "unparsable received time '2026年3月2日'"),
    ({"finished": "yesterday"}, "unparsable finished time 'yesterday'"),
    ({"text": ""}, "missing text"),
    ({"text": "长" * 1501}, "text of 1501 characters, over the intake's 1500"),
    ({"category": "外星人"}, "unknown category '外星人' (no mapping)"),
    ({"unit": "火星局"}, "unknown unit '火星局'"),
    ({"state": "神秘"}, "unknown state '神秘'"),
    ({"rating": "还行"}, "unknown rating '还行'"),
    ({"finished": ""}, "finished case without a finished time"),
    ({"finished": "2026-03-01 08:00:00"}, "finished before it was received"),
    ({"unit": ""}, "finished case without a unit"),
])
def test_each_bad_row_reason(parser, changes: dict[str, str], reason: str) -> None:
    with pytest.raises(BadRow) as refused:
        parser.parse(3, row(**changes))
    assert str(refused.value).startswith(reason)


def test_a_mapping_that_does_not_fit_the_city_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\nid = "a"\nreceived = "b"\n[categories]\n"x" = "aliens"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="'aliens' is no category"):
        mapping_for(CONFIG, bad)
    bad.write_text('[columns]\nid = "a"\n', encoding="utf-8")
    with pytest.raises(MappingError, match=r"\[columns\].received: required"):
        mapping_for(CONFIG, bad)
    bad.write_text('[columns]\nid = "a"\nreceived = "b"\n', encoding="utf-8")
    assert mapping_for(CONFIG, bad).source == "bad"  # the file's stem
    assert mapping_for(CONFIG, bad, "hotline-b").source == "hotline-b"


def _write_csv(path: Path, encoding: str, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.mark.parametrize(("encoding", "found"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                 ("gb18030", "gb18030"), ("gbk", "gb18030")])
def test_csv_encodings(tmp_path: Path, encoding: str, found: str) -> None:
    cells = ["FY1", "2026-03-02 09:12:33", "路灯不亮，晚上很黑", "", "市政设施", "颍州区", "办理中", "", "", ""]
    path = _write_csv(tmp_path / "l.csv", encoding, [HEADER, cells, ["", "", "", "", "", "", "", "", "", ""],
                                                     ["FY2", *cells[1:]]])
    assert detect_encoding(path) == found
    ledger = open_ledger(path)
    assert ledger.header == HEADER
    assert list(ledger.rows) == [(2, cells), (4, ["FY2", *cells[1:]])]  # blank line skipped, numbers kept


def test_a_cell_over_several_lines_keeps_the_line_numbers(tmp_path: Path) -> None:
    cells = ["FY1", "2026-03-02 09:12:33", "第一行\n第二行", "", "", "", "", "", "", ""]
    path = _write_csv(tmp_path / "l.csv", "utf-8", [HEADER, cells, ["FY2", *cells[1:2], "x", *cells[3:]]])
    assert [n for n, _ in open_ledger(path).rows] == [2, 4]


def test_xlsx_with_date_cells(tmp_path: Path, parser) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["FY9", datetime(2026, 3, 2, 9, 12, 33), "小区电梯坏了", "", "物业管理", "颍州区", "已办结",
                  datetime(2026, 3, 4, 16, 20), "已修复", "满意"])
    sheet.append([12345, "2026/03/02 14:30", "垃圾没人清运", "", "市容环卫", "颍州区", "办理中", None, None, None])
    book.save(tmp_path / "l.xlsx")
    ledger = open_ledger(tmp_path / "l.xlsx")
    assert ledger.header == HEADER and ledger.encoding == "xlsx"
    rows = list(ledger.rows)
    assert [n for n, _ in rows] == [2, 3]
    first = parser.parse(2, dict(zip(("id", "received", "text", "address", "category", "unit", "state",
                                      "finished", "answer", "rating"), rows[0][1], strict=True)))
    assert first.received == datetime(2026, 3, 2, 1, 12, 33, tzinfo=UTC)
    assert rows[1][1][0] == "12345"  # a number cell is its digits


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(LedgerFileError, match="no such file"):
        open_ledger(tmp_path / "missing.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(LedgerFileError, match=r"not a readable \.xlsx"):
        open_ledger(tmp_path / "broken.xlsx")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(LedgerFileError, match="empty"):
        open_ledger(tmp_path / "empty.csv")


def test_the_header_must_hold_the_mapped_columns(parser) -> None:
    assert parser.header_problem(HEADER) is None
    assert "received ('来电时间')" in (parser.header_problem([h for h in HEADER if h != "来电时间"]) or "")


@pytest.mark.parametrize("text", ["2026-03-02 09:12:33", "2026-3-2 9:05:07", "2026-02-30 10:00:00",
                                  "2026-03-02 24:00:00", "2026/03/02 09:12:33", "2026-03-02 09:12:33 ", "x"])
def test_the_fast_time_path_agrees_with_strptime(parser, text: str) -> None:
    try:
        expected = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        expected = None
    fast = parser_for(CONFIG, mapping_for(CONFIG, EXAMPLES / "fy12345.mapping.toml"))
    fast._formats = fast._formats[:1]  # only "%Y-%m-%d %H:%M:%S"
    if expected is None:
        with pytest.raises(BadRow):
            fast.time(text, "received")
    else:
        assert fast.time(text, "received") == expected.replace(tzinfo=CONFIG.city.timezone).astimezone(UTC)


@pytest.mark.parametrize("write_only", [False, True])  # shared strings / inline strings
def test_the_fast_xlsx_reader_reads_what_openpyxl_reads(tmp_path: Path, write_only: bool) -> None:
    import openpyxl

    from bot.ledger_files import _FastXlsx, _xlsx_openpyxl

    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet("台账") if write_only else book.active
    rows = [HEADER, ["FY1", datetime(2026, 3, 2, 9, 12, 33), "电梯\n坏了", None, "物业管理", "颍州区", "已办结",
                     datetime(2026, 3, 4, 16, 20), "已修复", "满意"],
            [12345, "2026/03/02 14:30", "垃圾", "", None, "颍州区", "办理中", None, 2.5, None], [], ["FY3"]]
    for r in rows:
        sheet.append(r)
    if not write_only:
        sheet["B5"] = datetime(2026, 1, 1, 0, 0, 1)
        sheet["B5"].number_format = "yyyy/m/d h:mm:ss"
        sheet["C5"] = 0.25
        sheet["C5"].number_format = "0.00%"
    book.save(tmp_path / "l.xlsx")
    fast = _FastXlsx(tmp_path / "l.xlsx", None)
    mine = [(n, [c for c in cells]) for n, cells in fast.rows()]
    ledger = _xlsx_openpyxl(tmp_path / "l.xlsx", None)
    theirs = [(1, ledger.header), *ledger.rows]

    def trimmed(rows_):  # type: ignore[no-untyped-def]
        out = []
        for n, cells in rows_:
            while cells and cells[-1] == "":
                cells = cells[:-1]
            if cells:
                out.append((n, cells))
        return out

    assert trimmed(mine) == trimmed(theirs)
    assert trimmed(mine)[1][1][1] == "2026-03-02 09:12:33"
