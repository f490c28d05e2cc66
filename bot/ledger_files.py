"""Reading a hotline ledger file: CSV (UTF-8 with or without BOM, or GB18030, the superset of GBK that Chinese
ledgers often come in) or .xlsx (openpyxl, read-only, first sheet unless the mapping names one).

:func:`open_ledger` gives the header and an iterator of (line number, cells as text); the header is line 1, so
the numbers are the ones a spreadsheet shows.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

_SNIFF_BYTES = 1 << 20


class LedgerFileError(ValueError):
    """The file cannot be read at all (not the rows: those are refused one by one)."""


@dataclass
class Ledger:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str  # the CSV encoding found, or "xlsx"


def detect_encoding(path: Path) -> str:
    """utf-8-sig when the file starts with a BOM, utf-8 when its first megabyte decodes as such, else gb18030."""
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _SNIFF_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _csv_rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    start = reader.line_num + 1
    for row in reader:
        if any(row):
            yield start, row
        start = reader.line_num + 1


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
#: Built-in number formats that show a date or time (ECMA-376 18.8.30, and the CJK ones Chinese Excel uses).
_DATE_FORMATS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)


def _is_date_format(code: str) -> bool:
    """Whether a custom number format shows a date (its tokens outside quotes and [..] sections)."""
    import re

    bare = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code).lower().replace("general", "")
    return any(token in bare for token in "ymdhs")


def _column(ref: str) -> int:
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        else:
            break
    return n - 1


class _FastXlsx:
    """The sheet's cells as text, streamed straight from the workbook's XML with lxml (openpyxl's read-only mode
    costs about ten times as much per cell); dates are the cells whose style shows a date."""

    def __init__(self, path: Path, sheet: str | None) -> None:
        import zipfile

        from lxml import etree

        self.etree = etree
        self.zip = zipfile.ZipFile(path)
        names = set(self.zip.namelist())
        book = etree.fromstring(self.zip.read("xl/workbook.xml"))
        pr = book.find(f"{_NS}workbookPr")
        self.epoch = _EPOCH_1904 if pr is not None and pr.get("date1904") in ("1", "true") else _EXCEL_EPOCH
        sheets = [(s.get("name"), s.get(_REL)) for s in book.iter(f"{_NS}sheet")]
        if not sheets:
            raise LedgerFileError(f"{path}: the workbook has no sheet")
        if sheet is not None and sheet not in [n for n, _ in sheets]:
            raise LedgerFileError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(n for n, _ in sheets)})")
        rid = next(r for n, r in sheets if sheet is None or n == sheet)
        rels = etree.fromstring(self.zip.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == rid)
        self.sheet = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        self.shared = self._shared() if "xl/sharedStrings.xml" in names else []
        self.dates = self._date_styles() if "xl/styles.xml" in names else frozenset()

    def _shared(self) -> list[str]:
        out = []
        for _, si in self.etree.iterparse(self.zip.open("xl/sharedStrings.xml"), tag=f"{_NS}si"):
            out.append("".join(t.text or "" for t in si.iter(f"{_NS}t")
                               if t.getparent() is not None and t.getparent().tag != f"{_NS}rPh"))
            si.clear()
        return out

    def _date_styles(self) -> frozenset[int]:
        styles = self.etree.fromstring(self.zip.read("xl/styles.xml"))
        custom = {int(f.get("numFmtId")): f.get("formatCode") or "" for f in styles.iter(f"{_NS}numFmt")}
        xfs = styles.find(f"{_NS}cellXfs")
        found = set()
        for i, xf in enumerate(xfs if xfs is not None else ()):
            fmt = int(xf.get("numFmtId") or 0)
            if fmt in _DATE_FORMATS or (fmt in custom and _is_date_format(custom[fmt])):
                found.add(i)
        return frozenset(found)

    def _value(self, c: Any) -> str:
        kind = c.get("t")
        if kind == "inlineStr":
            return "".join(t.text or "" for t in c.iter(f"{_NS}t"))
        v = c.find(f"{_NS}v")
        text = v.text if v is not None and v.text is not None else ""
        if kind == "s":
            return self.shared[int(text)] if text else ""
        if kind in ("str", "b", "e") or not text:
            return text
        number = float(text)
        style = c.get("s")
        if style is not None and int(style) in self.dates:
            return _cell(self.epoch + timedelta(seconds=round(number * 86400)))
        return _cell(number)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        try:
            n = 0
            for _, row in self.etree.iterparse(self.zip.open(self.sheet), tag=f"{_NS}row"):
                n = int(row.get("r") or n + 1)
                cells: list[str] = []
                for c in row.iter(f"{_NS}c"):
                    ref = c.get("r")
                    at = _column(ref) if ref else len(cells)
                    if at > len(cells):
                        cells.extend([""] * (at - len(cells)))
                    cells.append(self._value(c))
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]
                yield n, cells
        finally:
            self.zip.close()


def _xlsx(path: Path, sheet: str | None) -> Ledger:
    try:
        fast = _FastXlsx(path, sheet)
    except LedgerFileError:
        raise
    except Exception:  # not a zip, no workbook part …: openpyxl says what is wrong, or reads it anyway
        return _xlsx_openpyxl(path, sheet)
    rows = fast.rows()
    first = next(rows, None)
    if first is None:
        raise LedgerFileError(f"{path}: the sheet is empty")
    header = [h.strip() for h in first[1]]
    return Ledger(header, ((n, cells) for n, cells in rows if any(cells)), "xlsx")


def _xlsx_openpyxl(path: Path, sheet: str | None) -> Ledger:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile/openpyxl raise many kinds for a file that is no workbook
        raise LedgerFileError(f"{path}: not a readable .xlsx file ({error})") from None
    if sheet is not None and sheet not in book.sheetnames:
        raise LedgerFileError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
    ws = book[sheet] if sheet else book.worksheets[0]
    it = ws.iter_rows(values_only=True)
    first = next(it, None)
    if first is None:
        book.close()
        raise LedgerFileError(f"{path}: the sheet is empty")
    header = [_cell(v).strip() for v in first]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for n, values in enumerate(it, start=2):
                cells = [_cell(v) for v in values]
                if any(cells):
                    yield n, cells
        finally:
            book.close()

    return Ledger(header, rows(), "xlsx")


def open_ledger(path: Path, *, sheet: str | None = None) -> Ledger:
    path = Path(path)
    if not path.is_file():
        raise LedgerFileError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx(path, sheet)
    encoding = detect_encoding(path)
    f = open(path, encoding=encoding, newline="")  # noqa: SIM115 (closed when the rows are exhausted)
    reader = csv.reader(f)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        f.close()
        raise LedgerFileError(f"{path}: the file is empty") from None
    except UnicodeDecodeError as error:
        f.close()
        raise LedgerFileError(f"{path}: not {encoding} text ({error})") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            yield from _csv_rows(reader)
        finally:
            f.close()

    return Ledger(header, rows(), encoding)
