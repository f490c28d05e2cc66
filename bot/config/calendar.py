"""The city's working-day calendar: ``[calendar]`` and ``[[calendar.years]]`` in the city file.

:class:`CalendarConfig` holds the working hours, the unknown-year fallback, local extra holidays and working days,
and the years declared in the file (the State Council's holidays and adjusted working days, 调休); it builds the
:class:`~bot.domain.calendar.WorkingCalendar`. Dates are TOML dates or strings, a string may be an inclusive range
``"2027-02-05..2027-02-11"``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import get_args
from zoneinfo import ZoneInfo

from bot.config.validation import _show, _Table
from bot.domain.calendar import DeclaredYear, Fallback, WorkingCalendar


@dataclass(frozen=True)
class CalendarConfig:
    """The city file's ``[calendar]``: working hours, local extras, declared years, the unknown-year policy."""

    working_hours: tuple[tuple[time, time], ...] = ((time(8, 30), time(12)), (time(14, 30), time(17, 30)))
    fallback: Fallback = "error"
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    years: tuple[DeclaredYear, ...] = ()

    def calendar(self, tz: ZoneInfo) -> WorkingCalendar:
        return WorkingCalendar(
            tz=tz,
            hours=self.working_hours,
            declared={y.year: y for y in self.years},
            extra_holidays=self.extra_holidays,
            extra_workdays=self.extra_workdays,
            fallback=self.fallback,
        )


_CALENDAR_KEYS = ("working_hours", "fallback", "extra_holidays", "extra_workdays", "years")
_CALENDAR_YEAR_KEYS = ("year", "holidays", "workdays")
_HOURS_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def _calendar(table: _Table) -> CalendarConfig:
    table.check_keys(_CALENDAR_KEYS)
    defaults = CalendarConfig()
    hours = _working_hours(table) if table.has("working_hours") else defaults.working_hours
    fallback = table.choice("fallback", get_args(Fallback), defaults.fallback)
    extra_holidays = _dates(table, "extra_holidays")
    extra_workdays = _dates(table, "extra_workdays")
    both = extra_holidays.keys() & extra_workdays.keys()
    if both:
        day = min(both)
        table.fail(extra_workdays[day], f"{day.isoformat()} is also an extra holiday ({extra_holidays[day]})")
    years: dict[int, str] = {}
    declared = []
    for item in table.tables("years"):
        item.check_keys(_CALENDAR_YEAR_KEYS)
        year = item.integer("year", minimum=1900)
        if year in years:
            item.fail("year", f"{year} is already declared ({years[year]})")
        years[year] = item.where
        holidays = _dates(item, "holidays", year)
        workdays = _dates(item, "workdays", year)
        for day, where in workdays.items():
            if day in holidays:
                item.fail(where, f"{day.isoformat()} is also a holiday ({holidays[day]})")
            if day.weekday() < 5:
                item.fail(
                    where,
                    f"{day.isoformat()} is a {day.strftime('%A')}, a working day anyway: list only the adjusted"
                    " working weekend days (调休上班)",
                )
        declared.append(DeclaredYear(year=year, holidays=frozenset(holidays), workdays=frozenset(workdays)))
    return CalendarConfig(
        working_hours=hours,
        fallback=fallback,  # type: ignore[arg-type]
        extra_holidays=frozenset(extra_holidays),
        extra_workdays=frozenset(extra_workdays),
        years=tuple(declared),
    )


def _working_hours(table: _Table) -> tuple[tuple[time, time], ...]:
    """``["08:30-12:00", "14:30-17:30"]``: at least one interval, each start before its end, none overlapping."""
    texts = table.strings("working_hours")
    if not texts:
        table.fail("working_hours", 'at least one interval is required, e.g. ["08:30-12:00", "14:30-17:30"]')
    intervals: list[tuple[time, time, str, str]] = []  # start, end, where, text
    for i, text in enumerate(texts):
        where = f"working_hours[{i}]"
        match = _HOURS_RANGE.fullmatch(text)
        try:
            if match is None:
                raise ValueError
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            start, end = time(h1, m1), time(h2, m2)
        except ValueError:
            table.fail(where, f'must be a time range "HH:MM-HH:MM" such as "08:30-12:00", got {_show(text)}')
        if start >= end:
            table.fail(where, f"the start must be before the end, got {_show(text)}")
        intervals.append((start, end, where, text))
    intervals.sort()
    for (_, end, before, before_text), (start, _, where, text) in itertools.pairwise(intervals):
        if start < end:
            table.fail(where, f"{_show(text)} overlaps {_show(before_text)} ({before})")
    return tuple((start, end) for start, end, _, _ in intervals)


def _dates(table: _Table, key: str, year: int | None = None) -> dict[date, str]:
    """An array of dates: TOML dates or strings, a string may be an inclusive range "2027-02-05..2027-02-11".

    Returns each day with the ``key[i]`` it came from (for messages). With ``year``, every day must lie in it.
    """
    value = table.data.get(key, [])
    if not isinstance(value, list):
        table.fail(key, f'must be an array of dates or ranges ("2027-10-01..2027-10-07"), got {_show(value)}')
    days: dict[date, str] = {}
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        first, last = _date_range(table, where, item)
        for day in (first, last):
            if year is not None and day.year != year:
                table.fail(where, f"{day.isoformat()} is not in the declared year {year}")
        day = first
        while day <= last:
            days.setdefault(day, where)
            day = date.fromordinal(day.toordinal() + 1)
    return days


def _date_range(table: _Table, where: str, item: object) -> tuple[date, date]:
    if isinstance(item, date) and not isinstance(item, datetime):
        return item, item
    problem = f'must be a date "YYYY-MM-DD" or an inclusive range "YYYY-MM-DD..YYYY-MM-DD", got {_show(item)}'
    if not isinstance(item, str):
        table.fail(where, problem)
    first_text, dots, last_text = item.strip().partition("..")
    try:
        first = date.fromisoformat(first_text.strip())
        last = date.fromisoformat(last_text.strip()) if dots else first
    except ValueError:
        table.fail(where, problem)
    if last < first:
        table.fail(where, f"the range ends before it starts, got {_show(item)}")
    return first, last
