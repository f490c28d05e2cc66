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
from datetime import date, datetime
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


def _xlsx(path: Path, sheet: str | None) -> Ledger:
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
