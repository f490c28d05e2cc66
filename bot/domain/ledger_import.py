"""Importing a hotline's own ledger (issue 12, part 3): the mapping file and what one row of the ledger means.

A mapping (TOML) names the ledger's columns and translates its values into ours::

    source = "fy12345"                       # the ticket's channel_client (default: the mapping file's stem)
    time_formats = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]   # tried in order; times are the city's local time
    [columns]                                # our field = the ledger's column header (id and received required)
    id = "工单编号"
    received = "来电时间"
    text = "诉求内容"
    ...                                      # address, category, unit, state, finished, answer, rating
    [categories]                             # the ledger's category name = our category key
    [units]                                  # the ledger's unit name = our unit key (default: our zh/en names, keys)
    [states]                                 # lists of the ledger's state values
    open = ["办理中"]; finished = ["已办结"]; rejected = ["不予受理"]; withdrawn = ["已撤销"]
    [ratings]                                # the ledger's rating value = satisfied | basic | dissatisfied | none,
                                             # or "satisfaction/solved", e.g. "satisfied/solved"

Everything here is pure: :func:`parse_row` turns one row (a dict header → cell) into an :class:`ImportRow` or
raises :class:`BadRow` with the reason. Reading files lives in :mod:`bot.ledger_files`, writing in
:mod:`bot.workflow.importing`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.domain.rating import Satisfaction, Solved

FIELDS = ("id", "received", "text", "address", "category", "unit", "state", "finished", "answer", "rating")
REQUIRED = ("id", "received")
#: Our final states a ledger's finished case may end in.
FINISHED_STATES = ("closed", "rejected", "withdrawn")
MAX_REF = 100  # characters of a source case id
MAX_ANSWER = 4000
MAX_ADDRESS = 200  # as a resident's typed place (bot.workflow.intake.MAX_PLACE_TEXT)


class MappingError(ValueError):
    """The mapping file itself is wrong (one line naming the key and the problem)."""


class BadRow(ValueError):
    """A row that cannot be imported; the message is the reason written next to its line number."""


@dataclass(frozen=True)
class Rating:
    satisfaction: Satisfaction
    solved: Solved | None = None


@dataclass(frozen=True)
class LedgerMapping:
    source: str
    columns: Mapping[str, str]
    time_formats: tuple[str, ...]
    categories: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    open_states: frozenset[str] = frozenset()
    finished_states: Mapping[str, str] = field(default_factory=dict)  # ledger value → closed/rejected/withdrawn
    ratings: Mapping[str, Rating | None] = field(default_factory=dict)
    default_category: str | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class ImportRow:
    """One ledger case as we store it. ``state`` is ``open`` or one of FINISHED_STATES."""

    line: int
    ref: str
    received: datetime  # aware, UTC
    text: str
    address: str | None
    category: str
    unit: str | None
    state: str
    finished: datetime | None
    answer: str | None
    rating: Rating | None

    @property
    def is_open(self) -> bool:
        return self.state == "open"


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise MappingError(f"{where}: a string or a list of strings expected, got {value!r}")


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise MappingError(f"[{name}]: a table expected")
    return value


def parse_rating(text: str, where: str) -> Rating | None:
    if text == "none":
        return None
    satisfaction, _, solved = text.partition("/")
    try:
        return Rating(Satisfaction(satisfaction), Solved(solved) if solved else None)
    except ValueError:
        raise MappingError(f"{where}: {text!r} is not satisfied|basic|dissatisfied[/solved|partly|unsolved] "
                           "or none") from None


def load_mapping(path: Path, *, category_keys: set[str], unit_keys: set[str]) -> LedgerMapping:
    """Read and check a mapping file against the city (MappingError naming the key and the problem)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise MappingError(str(error)) from None
    known = {"source", "time_formats", "columns", "categories", "units", "states", "ratings", "default_category",
             "sheet"}
    unknown = set(data) - known
    if unknown:
        raise MappingError(f"unknown keys: {', '.join(sorted(unknown))}")
    columns = _table(data, "columns")
    bad = set(columns) - set(FIELDS)
    if bad:
        raise MappingError(f"[columns]: unknown fields {', '.join(sorted(bad))} (known: {', '.join(FIELDS)})")
    for name in REQUIRED:
        if not isinstance(columns.get(name), str) or not columns[name]:
            raise MappingError(f"[columns].{name}: required (the ledger's column header)")
    for name, header in columns.items():
        if not isinstance(header, str):
            raise MappingError(f"[columns].{name}: a column header (string) expected")
    formats = tuple(_strings(data.get("time_formats", ["%Y-%m-%d %H:%M:%S"]), "time_formats"))
    categories = {str(k): v for k, v in _table(data, "categories").items()}
    for name, key in categories.items():
        if key not in category_keys:
            raise MappingError(f"[categories].{name}: {key!r} is no category of the city")
    units = {str(k): v for k, v in _table(data, "units").items()}
    for name, key in units.items():
        if key not in unit_keys:
            raise MappingError(f"[units].{name}: {key!r} is no unit of the city")
    states = _table(data, "states")
    bad = set(states) - {"open", *FINISHED_STATES, "finished"}
    if bad:
        raise MappingError(f"[states]: unknown keys {', '.join(sorted(bad))} (open, finished, rejected, withdrawn)")
    finished: dict[str, str] = {}
    for ours, final in (("finished", "closed"), ("closed", "closed"), ("rejected", "rejected"),
                        ("withdrawn", "withdrawn")):
        for value in _strings(states.get(ours, []), f"[states].{ours}"):
            finished[value] = final
    ratings = {str(k): parse_rating(v if isinstance(v, str) else "", f"[ratings].{k}")
               for k, v in _table(data, "ratings").items()}
    default_category = data.get("default_category")
    if default_category is not None and default_category not in category_keys:
        raise MappingError(f"default_category: {default_category!r} is no category of the city")
    source = data.get("source", Path(path).stem)
    if not isinstance(source, str) or not source.strip():
        raise MappingError("source: a non-empty string expected")
    return LedgerMapping(
        source=source.strip(), columns=dict(columns), time_formats=formats, categories=categories, units=units,
        open_states=frozenset(_strings(states.get("open", []), "[states].open")), finished_states=finished,
        ratings=ratings, default_category=default_category, sheet=data.get("sheet"),
    )


_FIELDS = {"%Y": r"(\d{4})", "%m": r"(\d{1,2})", "%d": r"(\d{1,2})", "%H": r"(\d{1,2})", "%M": r"(\d{1,2})",
           "%S": r"(\d{1,2})"}
_ORDER = ("%Y", "%m", "%d", "%H", "%M", "%S")


def _fast_format(fmt: str) -> re.Pattern[str] | None:
    """A regular expression doing what strptime does for a format of %Y %m %d [%H %M [%S]] in that order and
    literal characters (a tenth of strptime's cost); None for any other format (strptime it is)."""
    parts = re.split(r"(%.)", fmt)
    directives = [p for p in parts if p.startswith("%") and len(p) == 2]
    if tuple(directives) != _ORDER[:len(directives)] or len(directives) < 3:
        return None
    return re.compile("".join(_FIELDS[p] if p in _FIELDS else re.escape(p) for p in parts if p))


class RowParser:
    """Turns ledger rows into :class:`ImportRow` for one mapping and one city (built once per import)."""

    def __init__(self, mapping: LedgerMapping, *, timezone: Any, categories: Mapping[str, tuple[str, ...]],
                 units: Mapping[str, tuple[str, ...]], max_text: int) -> None:
        """``categories`` / ``units``: our key → the names it is also known by (zh, en), matched when the mapping
        does not name the value."""
        self.m = mapping
        self.tz = timezone
        self.max_text = max_text
        self.categories = {**{n: k for k, names in categories.items() for n in (k, *names)}, **mapping.categories}
        self.units = {**{n: k for k, names in units.items() for n in (k, *names)}, **mapping.units}
        self._formats = [(fmt, _fast_format(fmt)) for fmt in mapping.time_formats]

    def header_problem(self, header: list[str]) -> str | None:
        """Why the file cannot be read with this mapping (a named column missing), or None."""
        missing = [f"{name} ({col!r})" for name, col in self.m.columns.items() if col not in header]
        return f"columns missing from the file: {', '.join(missing)}" if missing else None

    def time(self, text: str, what: str) -> datetime:
        for fmt, fast in self._formats:
            try:
                if fast is not None:
                    found = fast.fullmatch(text)
                    if found is None:
                        continue
                    local = datetime(*map(int, found.groups()))  # type: ignore[misc]
                else:
                    local = datetime.strptime(text, fmt)
            except ValueError:
                continue
            if local.tzinfo is None:
                local = local.replace(tzinfo=self.tz)
            return local.astimezone(UTC)
        try:  # ISO 8601 always works (and is how a spreadsheet's own date cells are read)
            local = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return (local if local.tzinfo else local.replace(tzinfo=self.tz)).astimezone(UTC)
        raise BadRow(f"unparsable {what} time {text!r} (formats: {', '.join(self.m.time_formats)})")

    def parse(self, line: int, get: Mapping[str, str]) -> ImportRow:
        """``get``: our field name → the cell's text ('' when empty or unmapped)."""
        ref = get.get("id", "").strip()
        if not ref:
            raise BadRow("missing case id")
        if len(ref) > MAX_REF:
            raise BadRow(f"case id longer than {MAX_REF} characters")
        received_text = get.get("received", "").strip()
        if not received_text:
            raise BadRow("missing received time")
        received = self.time(received_text, "received")
        text = get.get("text", "").strip()
        if not text:
            raise BadRow("missing text")
        if len(text) > self.max_text:
            raise BadRow(f"text of {len(text)} characters, over the intake's {self.max_text}")
        category_text = get.get("category", "").strip()
        category = self.categories.get(category_text) if category_text else self.m.default_category
        if category is None:
            raise BadRow(f"unknown category {category_text!r} (no mapping)" if category_text else "missing category")
        unit_text = get.get("unit", "").strip()
        unit = None
        if unit_text:
            unit = self.units.get(unit_text)
            if unit is None:
                raise BadRow(f"unknown unit {unit_text!r}")
        finished_text = get.get("finished", "").strip()
        finished = self.time(finished_text, "finished") if finished_text else None
        state = self._state(get.get("state", "").strip(), finished)
        if state != "open":
            if finished is None:
                raise BadRow("finished case without a finished time")
            if finished < received:
                raise BadRow("finished before it was received")
            if state == "closed" and unit is None:
                raise BadRow("finished case without a unit")
        rating_text = get.get("rating", "").strip()
        rating = None
        if rating_text:
            if rating_text not in self.m.ratings:
                raise BadRow(f"unknown rating {rating_text!r}")
            rating = self.m.ratings[rating_text]
        address = get.get("address", "").strip()[:MAX_ADDRESS] or None
        answer = get.get("answer", "").strip()[:MAX_ANSWER] or None
        return ImportRow(line=line, ref=ref, received=received, text=text, address=address, category=category,
                         unit=unit, state=state, finished=finished if state != "open" else None, answer=answer,
                         rating=rating if state == "closed" else None)

    def _state(self, text: str, finished: datetime | None) -> str:
        if "state" not in self.m.columns:
            return "closed" if finished is not None else "open"
        if text in self.m.open_states:
            return "open"
        final = self.m.finished_states.get(text)
        if final is None:
            raise BadRow(f"unknown state {text!r}")
        return final
