"""The working-day calendar: which days are working days, and working-time arithmetic on them.

Where a day's status comes from, first match wins:

1. the city's local additions and removals (``extra_workdays``, ``extra_holidays``);
2. a year declared in config (its holidays and its adjusted working weekend days, 调休), as the State Council
   publishes them each winter — this also overrides the package below, so a wrong release can be corrected;
3. the ``chinese-calendar`` package (official holidays and adjusted working weekends, for the years it knows);
4. the ``weekends-only`` fallback (Monday to Friday), only if the operator chose it; a deadline that needed it is
   *provisional* and must be recomputed once the year is declared. Without the fallback, a date in a year nobody
   declared raises :class:`UnknownYear`, which names the year: never a silent guess.

Working time is the configured intervals (e.g. 08:30–12:00 and 14:30–17:30) on working days, in the city's time
zone. Instants in and out are aware datetimes; results are in UTC.

Deadline rules:

- ``add_working_hours(start, h)``: the instant when ``h`` hours of working time have passed since ``start``. An
  amount that runs out exactly at the end of an interval ends there (11:30 + 0.5 h is 12:00, not 14:30).
- ``add_working_days(start, n)``: the END of working hours on the n-th working day after the day of ``start``.
  If ``start`` falls on a non-working day, or after the end of that day's working hours, the count starts from
  the next working day instead (it is treated as the day of ``start``). Before the first interval or during a
  break, the day itself counts. Example with 5 days: signed Monday 10:00 → Monday next week 17:30; signed
  Friday 18:00 → end of Friday next week (counted from Monday).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

Fallback = Literal["error", "weekends-only"]
Source = Literal["config", "chinese-calendar", "weekends-only", "unknown"]

#: A walk through the calendar that finds no working time in this many days is a configuration problem
#: (e.g. a year declared with every day a holiday), not something to loop over forever.
MAX_DAYS_WITHOUT_WORK = 366

_NO_YEARS: Mapping[int, DeclaredYear] = MappingProxyType({})


class UnknownYear(Exception):
    """A date in a year that neither the config nor the chinese-calendar package knows (and no fallback)."""

    def __init__(self, year: int, known: str = "") -> None:
        self.year = year
        known_text = f" ({known})" if known else ""
        super().__init__(
            f"the working-day calendar does not know the year {year}{known_text}: declare it in the city file "
            f"as a [[calendar.years]] entry with year = {year} and its holidays and adjusted working days from "
            f'the State Council\'s notice, or set calendar.fallback = "weekends-only" to count Monday to Friday '
            f"provisionally"
        )


@dataclass(frozen=True)
class DeclaredYear:
    """A whole year's official calendar, declared in config.

    ``holidays`` are the days off (weekends inside a holiday block may be listed or not: they are off anyway);
    ``workdays`` are the adjusted working weekend days (调休上班). Any other day is a working day iff it is
    Monday to Friday.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self) -> None:
        for day in self.holidays | self.workdays:
            if day.year != self.year:
                raise ValueError(f"{day.isoformat()} is not in the declared year {self.year}")
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"{min(both).isoformat()} is declared both a holiday and a working day")

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


@dataclass(frozen=True)
class Deadline:
    """A due instant (aware, UTC). ``provisional``: some day on the way came from the weekends-only fallback."""

    at: datetime
    provisional: bool = False


@cache
def _package_knows(year: int) -> bool:
    """Whether the installed chinese-calendar has data for ``year`` (it raises NotImplementedError if not)."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def package_years() -> tuple[int, int] | None:
    """The first and last year the installed chinese-calendar knows, or None if it knows none."""
    years = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    known = [y for y in years if _package_knows(y)]
    return (known[0], known[-1]) if known else None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got {moment!r}")
    return moment.astimezone(UTC)


class WorkingCalendar:
    """Working days and working hours of one city. Immutable after construction; safe to share."""

    def __init__(
        self,
        *,
        tz: ZoneInfo,
        hours: Sequence[tuple[time, time]],
        declared: Mapping[int, DeclaredYear] = _NO_YEARS,
        extra_holidays: frozenset[date] = frozenset(),
        extra_workdays: frozenset[date] = frozenset(),
        fallback: Fallback = "error",
    ) -> None:
        if fallback not in ("error", "weekends-only"):
            raise ValueError(f'fallback must be "error" or "weekends-only", got {fallback!r}')
        intervals = sorted(hours)
        if not intervals:
            raise ValueError("at least one working-hours interval is required")
        for i, (start, end) in enumerate(intervals):
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working hours are local wall-clock times, without a time zone")
            if start >= end:
                raise ValueError(f"working hours {start}-{end}: the start must be before the end")
            if i and start < intervals[i - 1][1]:
                raise ValueError(f"working hours {intervals[i - 1][0]}-{intervals[i - 1][1]} and {start}-{end} overlap")
        for year, declared_year in declared.items():
            if declared_year.year != year:
                raise ValueError(f"declared[{year}] holds the year {declared_year.year}")
        both = extra_holidays & extra_workdays
        if both:
            raise ValueError(f"{min(both).isoformat()} is both an extra holiday and an extra working day")
        self.tz = tz
        self.hours: tuple[tuple[time, time], ...] = tuple(intervals)
        self._declared: dict[int, DeclaredYear] = dict(declared)  # a copy; a plain dict keeps it picklable
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        self.fallback: Fallback = fallback
        self._days: dict[date, tuple[bool, bool]] = {}  # memo of _day: the sweep asks about the same days often

    @property
    def declared(self) -> Mapping[int, DeclaredYear]:
        """The years declared in config, by year (read-only)."""
        return MappingProxyType(self._declared)

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(tz={self.tz.key!r}, hours={len(self.hours)} intervals, "
            f"declared={sorted(self.declared)}, fallback={self.fallback!r})"
        )

    # ----------------------------------------------------------------------------------------------------------
    # Days

    def source(self, year: int) -> Source:
        """Where the days of ``year`` come from (the local extras aside)."""
        if year in self.declared:
            return "config"
        if _package_knows(year):
            return "chinese-calendar"
        if self.fallback == "weekends-only":
            return "weekends-only"
        return "unknown"

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day; UnknownYear if its year is unknown and there is no fallback."""
        return self._day(d)[0]

    def _day(self, d: date) -> tuple[bool, bool]:
        """(is a working day, came from the weekends-only fallback)."""
        known = self._days.get(d)
        if known is None:
            known = self._days[d] = self._lookup(d)
        return known

    def _lookup(self, d: date) -> tuple[bool, bool]:
        if d in self.extra_workdays:
            return True, False
        if d in self.extra_holidays:
            return False, False
        source = self.source(d.year)
        if source == "config":
            return self.declared[d.year].is_working_day(d), False
        if source == "chinese-calendar":
            return bool(chinese_calendar.is_workday(d)), False
        if source == "weekends-only":
            return d.weekday() < 5, True
        raise UnknownYear(d.year, self._known_years())

    def _known_years(self) -> str:
        parts = []
        span = package_years()
        if span:
            parts.append(f"the installed chinese-calendar knows {span[0]}–{span[1]}")
        if self.declared:
            parts.append("the config declares " + ", ".join(str(y) for y in sorted(self.declared)))
        return "; ".join(parts)

    def covered_until(self) -> date:
        """The last day known without the fallback: the end of the run of consecutive known years that starts
        with the earliest known year (a declared year after a gap does not extend it)."""
        span = package_years()
        known = set(self.declared) | (set(range(span[0], span[1] + 1)) if span else set())
        if not known:
            raise UnknownYear(date.today().year)  # pragma: no cover - the package always knows some years
        year = min(known)
        while year + 1 in known:
            year += 1
        return date(year, 12, 31)

    # ----------------------------------------------------------------------------------------------------------
    # Working time

    def _intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of the local day ``d``, as UTC instants (empty list: the day is not worked)."""
        return [
            (
                datetime.combine(d, start, tzinfo=self.tz).astimezone(UTC),
                datetime.combine(d, end, tzinfo=self.tz).astimezone(UTC),
            )
            for start, end in self.hours
        ]

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def add_working_hours(self, start: datetime, hours: float) -> Deadline:
        """The instant at which ``hours`` of working time have passed since ``start``."""
        if hours < 0:
            raise ValueError(f"hours must be ≥ 0, got {hours}")
        at = _utc(start)
        remaining = timedelta(hours=hours)
        if not remaining:
            return Deadline(at, False)
        provisional = False
        day = self._local_date(at)
        idle = 0
        while True:
            working, from_fallback = self._day(day)
            provisional |= from_fallback
            if working:
                for begin, end in self._intervals(day):
                    begin = max(begin, at)
                    if begin >= end:
                        continue
                    if remaining <= end - begin:
                        return Deadline(begin + remaining, provisional)
                    remaining -= end - begin
                idle = 0
            else:
                idle += 1
                if idle > MAX_DAYS_WITHOUT_WORK:
                    raise ValueError(f"no working day in the {MAX_DAYS_WITHOUT_WORK} days before {day.isoformat()}")
            day += timedelta(days=1)

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """The end of working hours on the ``days``-th working day after the day of ``start`` (see the module
        docstring for a start on a non-working day or after hours)."""
        if days < 0:
            raise ValueError(f"days must be ≥ 0, got {days}")
        at = _utc(start)
        day = self._local_date(at)
        working, provisional = self._day(day)
        if not working or at >= self._intervals(day)[-1][1]:
            day, from_fallback = self._next_working_day(day)
            provisional |= from_fallback
        for _ in range(days):
            day, from_fallback = self._next_working_day(day)
            provisional |= from_fallback
        return Deadline(self._intervals(day)[-1][1], provisional)

    def _next_working_day(self, after: date) -> tuple[date, bool]:
        """The first working day after ``after``, and whether any day looked at came from the fallback."""
        provisional = False
        day = after
        for _ in range(MAX_DAYS_WITHOUT_WORK + 1):
            day += timedelta(days=1)
            working, from_fallback = self._day(day)
            provisional |= from_fallback
            if working:
                return day, provisional
        raise ValueError(f"no working day in the {MAX_DAYS_WITHOUT_WORK} days after {after.isoformat()}")

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        """Working time from ``a`` to ``b`` in seconds; negative if ``b`` is before ``a`` (so "how overdue" is
        ``working_seconds_between(due_at, now)``, positive once the deadline has passed)."""
        a, b = _utc(a), _utc(b)
        if b < a:
            return -self.working_seconds_between(b, a)
        total = timedelta()
        day, last = self._local_date(a), self._local_date(b)
        while day <= last:
            if self.is_working_day(day):
                for begin, end in self._intervals(day):
                    begin, end = max(begin, a), min(end, b)
                    if begin < end:
                        total += end - begin
            day += timedelta(days=1)
        return total.total_seconds()


@dataclass(frozen=True)
class YearCoverage:
    year: int
    source: Source


@dataclass(frozen=True)
class Coverage:
    """What ``complaint-bot calendar check`` and the start-up check report."""

    today: date
    horizon: date  # WorkingCalendar.covered_until()
    years: tuple[YearCoverage, ...]  # last year … horizon's year + 1
    days_left: int  # from today to the horizon
    warn_days: int

    @property
    def warn(self) -> bool:
        """Fewer than ``warn_days`` days left before the horizon: time to declare the next year."""
        return self.days_left < self.warn_days

    @property
    def ok(self) -> bool:
        """``today + warn_days`` is still covered without the fallback."""
        return self.today + timedelta(days=self.warn_days) <= self.horizon

    @property
    def next_year(self) -> int:
        """The first year not covered: the one to declare."""
        return self.horizon.year + 1


def coverage(calendar: WorkingCalendar, today: date, warn_days: int) -> Coverage:
    """Which years are covered and by what, from last year to the year after the horizon."""
    horizon = calendar.covered_until()
    last = max(horizon.year + 1, today.year)
    years = tuple(YearCoverage(y, calendar.source(y)) for y in range(today.year - 1, last + 1))
    return Coverage(today, horizon, years, (horizon - today).days, warn_days)
