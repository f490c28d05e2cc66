"""A streaming .xlsx writer for the ledger: each row is one XML string, written to the zip as it comes.

Both library writers cost about 110 µs a ledger row (18 cells: a cell object or a dispatch per value, an XML
element per cell); this one formats a row with one join, so a yearly ledger takes seconds of writing rather than
minutes (bench/ledger_writers.py, bench/README.md). What it writes is the subset of SpreadsheetML the ledger uses:
text (shared strings for the columns whose values repeat, e.g. units, states and yes/no, so the file stays
small; other text inline), integers and floats, empty cells, a bold header row, several sheets.

Cells carry no reference (``r``): a row's cells are consecutive, an empty one is an empty ``<c/>``, which Excel,
LibreOffice and openpyxl all read by position. Characters XML 1.0 forbids (control characters a resident may have
pasted) are dropped, as Excel itself could not show them.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_CELL_TEXT = 32767  # Excel's limit on a cell's text
#: Text up to this length goes to the shared strings (looked up, written once); longer text is inline.
_SHARED_MAX_LEN = 24
_SHARED_MAX_COUNT = 100_000  # a bound on the table kept in memory: past it, new text is inline

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _text(value: str) -> str:
    value = value[:_MAX_CELL_TEXT]
    if _NEEDS_ESCAPE.search(value):
        value = escape(_ILLEGAL.sub("", value))
    return value


class StreamBook:
    """``add_sheet(name, header)`` then ``append(values)`` for its rows, sheet after sheet; ``close()`` writes
    the shared strings, styles and workbook parts. ``compresslevel`` trades file size for time (zlib's 1..9)."""

    def __init__(self, out: Path | BinaryIO, compresslevel: int = 1) -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self.sheets: list[str] = []
        self.stream: BinaryIO | None = None
        self.pending: list[str] = []
        self.shared: dict[str, str] = {}  # text -> its cell XML
        self.shared_order: list[str] = []
        self.cells: list | None = None

    # -- cells -----------------------------------------------------------------------------------------------

    def _cell(self, value: object) -> str:
        """Any value; text up to _SHARED_MAX_LEN characters shared."""
        if isinstance(value, str):
            hit = self.shared.get(value)
            if hit is not None:
                return hit
            if len(value) <= _SHARED_MAX_LEN and len(self.shared_order) < _SHARED_MAX_COUNT:
                return self._share(value)
            return self._inline(value)
        return self._plain(value)

    def _share(self, value: str) -> str:
        hit = self.shared.get(value)
        if hit is None:
            if len(self.shared_order) >= _SHARED_MAX_COUNT:
                return self._inline(value)
            hit = self.shared[value] = f'<c t="s"><v>{len(self.shared_order)}</v></c>'
            self.shared_order.append(value)
        return hit

    def _shared_cell(self, value: object) -> str:
        return self._share(value) if isinstance(value, str) else self._plain(value)

    def _inline(self, value: str) -> str:
        return f'<c t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'

    def _inline_cell(self, value: object) -> str:
        return self._inline(value) if isinstance(value, str) else self._plain(value)

    def _plain(self, value: object) -> str:
        if value is None:
            return "<c/>"
        if isinstance(value, str):
            return self._inline(value)
        if isinstance(value, bool):
            return f'<c t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int | float):
            return f"<c><v>{value!r}</v></c>"
        return self._inline(str(value))

    def append(self, values: list[object]) -> None:
        if self.cells is None:
            cell = self._cell
            row = "".join([cell(v) for v in values])
        else:
            row = "".join([f(v) for f, v in zip(self.cells, values, strict=False)])
        self.pending.append("<row>" + row + "</row>")
        if len(self.pending) >= 2000:
            self._flush()

    def _flush(self) -> None:
        if self.pending and self.stream is not None:
            self.stream.write("".join(self.pending).encode("utf-8"))
        self.pending.clear()

    # -- parts -----------------------------------------------------------------------------------------------

    def add_sheet(self, name: str, header: list[str], shared: frozenset[int] | None = None) -> None:
        """A new sheet and its bold header. ``shared``: the columns whose text repeats (shared strings); the
        others' text is inline. Without it, any short text is shared (fine for a small sheet)."""
        self._end_sheet()
        self.cells = None if shared is None else [
            self._shared_cell if i in shared else self._inline_cell for i in range(len(header))]
        self.sheets.append(name)
        self.stream = self.zip.open(f"xl/worksheets/sheet{len(self.sheets)}.xml", "w", force_zip64=True)
        self.stream.write(f"{_HEAD}<worksheet {_NS} {_R_NS}><sheetData>".encode())
        bold = "".join(f'<c t="inlineStr" s="1"><is><t xml:space="preserve">{_text(t)}</t></is></c>'
                       for t in header)
        self.pending.append(f"<row>{bold}</row>")

    def _end_sheet(self) -> None:
        if self.stream is not None:
            self._flush()
            self.stream.write(b"</sheetData></worksheet>")
            self.stream.close()
            self.stream = None

    def close(self) -> None:
        self._end_sheet()
        n = len(self.sheets)
        z = self.zip
        z.writestr("[Content_Types].xml", _HEAD + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                      f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
            + '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"))
        z.writestr("_rels/.rels", _HEAD + (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", _HEAD + (
            f"<workbook {_NS} {_R_NS}><sheets>"
            + "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
                      for i, name in enumerate(self.sheets, 1))
            + "</sheets></workbook>"))
        rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        z.writestr("xl/_rels/workbook.xml.rels", _HEAD + (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, n + 1))
            + f'<Relationship Id="rId{n + 1}" Type="{rel}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId{n + 2}" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"))
        z.writestr("xl/styles.xml", _HEAD + (
            f"<styleSheet {_NS}>"
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"))
        strings = self.shared_order
        z.writestr("xl/sharedStrings.xml", _HEAD + (
            f'<sst {_NS} count="{len(strings)}" uniqueCount="{len(strings)}">'
            + "".join(f'<si><t xml:space="preserve">{_text(s)}</t></si>' for s in strings)
            + "</sst>"))
        z.close()
