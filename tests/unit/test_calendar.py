"""bot.domain.calendar: real 2026 holiday edges, working-hour arithmetic, and the 2027 policies."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.domain.calendar import (
    Deadline,
    DeclaredYear,
    UnknownYear,
    WorkingCalendar,
    coverage,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = ((time(8, 30), time(12)), (time(14, 30), time(17, 30)))


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A local Shanghai wall-clock instant."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def local(deadline: Deadline) -> datetime:
    assert deadline.at.tzinfo is UTC
    return deadline.at.astimezone(SHANGHAI)


def days(first: str, last: str) -> frozenset[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return frozenset(start + timedelta(n) for n in range((end - start).days + 1))


#: 2027 as the example city file declares it (the adjusted working days are not published yet).
YEAR_2027 = DeclaredYear(
    year=2027,
    holidays=frozenset({date(2027, 1, 1), date(2027, 4, 5), date(2027, 6, 9), date(2027, 9, 15)})
    | days("2027-02-05", "2027-02-11")
    | days("2027-05-01", "2027-05-05")
    | days("2027-10-01", "2027-10-07"),
    workdays=frozenset(),
)


def calendar(**kwargs: object) -> WorkingCalendar:
    return WorkingCalendar(tz=SHANGHAI, hours=HOURS, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def cal() -> WorkingCalendar:
    return calendar()


# --------------------------------------------------------------------------------------------------------------
# Days: the 2026 Spring Festival and National Day, checked against chinese_calendar itself


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-02-13", True),  # Friday before the break
        ("2026-02-14", True),  # SATURDAY worked (调休)
        ("2026-02-15", False),  # Spring Festival break starts (Sunday)
        ("2026-02-17", False),  # lunar new year's day, a Tuesday
        ("2026-02-23", False),  # last day of the break, a Monday
        ("2026-02-24", True),
        ("2026-02-28", True),  # Saturday worked
        ("2026-03-07", False),  # an ordinary Saturday
        ("2026-09-19", False),  # an ordinary Saturday
        ("2026-09-20", True),  # SUNDAY worked before National Day
        ("2026-09-25", False),  # Mid-Autumn Festival, a Friday
        ("2026-10-01", False),
        ("2026-10-07", False),
        ("2026-10-08", True),
        ("2026-10-10", True),  # Saturday worked after National Day
        ("2026-10-11", False),
    ],
)
def test_2026_holiday_edges_follow_the_official_calendar(cal: WorkingCalendar, day: str, working: bool) -> None:
    d = date.fromisoformat(day)
    assert chinese_calendar.is_workday(d) is working  # the expectation itself matches the package
    assert cal.is_working_day(d) is working


def test_the_whole_2026_spring_festival_break_is_off(cal: WorkingCalendar) -> None:
    assert not any(cal.is_working_day(d) for d in days("2026-02-15", "2026-02-23"))
    assert not any(cal.is_working_day(d) for d in days("2026-10-01", "2026-10-07"))


def test_sources_by_year() -> None:
    assert calendar().source(2026) == "chinese-calendar"
    assert calendar().source(2027) == "unknown"
    assert calendar(declared={2027: YEAR_2027}).source(2027) == "config"
    assert calendar(fallback="weekends-only").source(2027) == "weekends-only"
    assert calendar(fallback="weekends-only").source(2026) == "chinese-calendar"


def test_a_date_in_an_undeclared_year_names_the_year(cal: WorkingCalendar) -> None:
    with pytest.raises(UnknownYear) as info:
        cal.is_working_day(date(2027, 1, 4))
    assert info.value.year == 2027
    message = str(info.value)
    assert "2027" in message
    assert "[[calendar.years]]" in message and "weekends-only" in message  # says how to fix it


def test_a_declared_year_overrides_the_package() -> None:
    # A (hypothetical) correction of 2026: 2026-03-02 off, and 2026-02-14 no longer a working Saturday.
    corrected = DeclaredYear(2026, holidays=frozenset({date(2026, 3, 2)}), workdays=frozenset({date(2026, 3, 7)}))
    cal = calendar(declared={2026: corrected})
    assert cal.source(2026) == "config"
    assert not cal.is_working_day(date(2026, 3, 2))
    assert not cal.is_working_day(date(2026, 2, 14))
    assert cal.is_working_day(date(2026, 3, 7))  # a declared working Saturday
    assert cal.is_working_day(date(2026, 3, 3))  # an ordinary Tuesday


def test_declared_year_days_follow_weekdays_holidays_and_workdays() -> None:
    cal = calendar(declared={2027: YEAR_2027})
    assert not cal.is_working_day(date(2027, 1, 1))  # Friday, New Year
    assert not cal.is_working_day(date(2027, 1, 2))  # Saturday
    assert cal.is_working_day(date(2027, 1, 4))  # Monday
    assert not cal.is_working_day(date(2027, 2, 8))  # Monday inside the Spring Festival break


def test_local_extras_override_package_declared_years_and_the_missing_year() -> None:
    cal = calendar(
        declared={2027: YEAR_2027},
        extra_holidays=frozenset({date(2026, 3, 3), date(2028, 3, 1)}),
        extra_workdays=frozenset({date(2026, 2, 16), date(2027, 1, 1)}),
    )
    assert not cal.is_working_day(date(2026, 3, 3))  # a Tuesday, off locally
    assert cal.is_working_day(date(2026, 2, 16))  # inside the Spring Festival break, worked locally
    assert cal.is_working_day(date(2027, 1, 1))  # over a declared holiday
    assert not cal.is_working_day(date(2028, 3, 1))  # the operator said so, even for an unknown year
    with pytest.raises(UnknownYear):
        cal.is_working_day(date(2028, 3, 2))


def test_weekends_only_fallback_counts_monday_to_friday() -> None:
    cal = calendar(fallback="weekends-only")
    assert cal.is_working_day(date(2027, 1, 1))  # New Year unknown: a Friday counts
    assert not cal.is_working_day(date(2027, 1, 2))
    assert not cal.is_working_day(date(2026, 10, 1))  # known years still use the package


def test_covered_until_is_the_end_of_the_consecutive_known_years() -> None:
    assert calendar().covered_until() == date(2026, 12, 31)
    assert calendar(fallback="weekends-only").covered_until() == date(2026, 12, 31)  # a fallback covers nothing
    assert calendar(declared={2027: YEAR_2027}).covered_until() == date(2027, 12, 31)
    year_2028 = DeclaredYear(2028, frozenset(), frozenset())
    assert calendar(declared={2028: year_2028}).covered_until() == date(2026, 12, 31)  # 2027 is missing


# --------------------------------------------------------------------------------------------------------------
# Working hours


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at(2026, 3, 2, 11, 30), 1.5, at(2026, 3, 2, 15, 30)),  # across the lunch break
        (at(2026, 3, 2, 11, 30), 4, at(2026, 3, 3, 9, 0)),  # 0.5 h + 3 h, then 0.5 h next morning
        (at(2026, 3, 2, 11, 30), 0.5, at(2026, 3, 2, 12, 0)),  # ends exactly at the start of lunch
        (at(2026, 3, 2, 13, 0), 1, at(2026, 3, 2, 15, 30)),  # dispatched during lunch
        (at(2026, 3, 2, 7, 0), 1, at(2026, 3, 2, 9, 30)),  # before hours
        (at(2026, 3, 2, 20, 0), 1, at(2026, 3, 3, 9, 30)),  # after hours
        (at(2026, 3, 6, 16, 0), 4, at(2026, 3, 9, 11, 0)),  # Friday 16:00 → Monday across the weekend
        (at(2026, 3, 7, 10, 0), 2, at(2026, 3, 9, 10, 30)),  # dispatched on a Saturday
        (at(2026, 2, 13, 16, 0), 4, at(2026, 2, 14, 11, 0)),  # into the working Saturday before the break
        (at(2026, 2, 14, 16, 0), 4, at(2026, 2, 24, 11, 0)),  # across the whole Spring Festival break
        (at(2026, 9, 30, 16, 0), 2, at(2026, 10, 8, 9, 0)),  # across National Day
        (at(2026, 3, 2, 10, 0), 0, at(2026, 3, 2, 10, 0)),
    ],
)
def test_add_working_hours(cal: WorkingCalendar, start: datetime, hours: float, due: datetime) -> None:
    deadline = cal.add_working_hours(start, hours)
    assert local(deadline) == due
    assert deadline.provisional is False


def test_add_working_hours_accepts_any_aware_start(cal: WorkingCalendar) -> None:
    clock = FakeClock()  # 2026-03-02 02:00 UTC = 10:00 in Shanghai, a Monday
    assert local(cal.add_working_hours(clock.now(), 2)) == at(2026, 3, 2, 12, 0)
    clock.advance(timedelta(hours=4))  # 14:00, lunch
    assert local(cal.add_working_hours(clock.now(), 2)) == at(2026, 3, 2, 16, 30)


def test_add_working_hours_refuses_naive_or_negative(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="aware"):
        cal.add_working_hours(datetime(2026, 3, 2, 10, 0), 1)
    with pytest.raises(ValueError, match="≥ 0"):
        cal.add_working_hours(at(2026, 3, 2, 10), -1)


def test_working_hours_follow_the_local_time_zone_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # clocks go forward on Sunday 2026-03-29
    cal = WorkingCalendar(tz=berlin, hours=[(time(9), time(17))])
    due = cal.add_working_hours(datetime(2026, 3, 27, 16, 0, tzinfo=berlin), 3)
    assert due.at.astimezone(berlin) == datetime(2026, 3, 30, 11, 0, tzinfo=berlin)
    assert due.at == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # UTC+2 after the change


def test_working_seconds_between(cal: WorkingCalendar) -> None:
    assert cal.working_seconds_between(at(2026, 3, 2, 11, 30), at(2026, 3, 2, 15, 30)) == 1.5 * 3600
    assert cal.working_seconds_between(at(2026, 3, 6, 16, 0), at(2026, 3, 9, 9, 0)) == 2 * 3600
    assert cal.working_seconds_between(at(2026, 3, 9, 9, 0), at(2026, 3, 6, 16, 0)) == -2 * 3600
    assert cal.working_seconds_between(at(2026, 2, 14, 17, 30), at(2026, 2, 24, 8, 30)) == 0  # the break
    assert cal.working_seconds_between(at(2026, 3, 2, 12, 0), at(2026, 3, 2, 14, 30)) == 0  # lunch


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 30)),
    hours=st.floats(min_value=0, max_value=60, allow_nan=False).map(lambda h: round(h, 2)),
)
def test_working_seconds_between_undoes_add_working_hours(start: datetime, hours: float) -> None:
    cal = calendar()
    start = start.replace(tzinfo=SHANGHAI, microsecond=0)
    due = cal.add_working_hours(start, hours).at
    assert cal.working_seconds_between(start, due) == pytest.approx(hours * 3600, abs=1e-3)
    assert due >= start


# --------------------------------------------------------------------------------------------------------------
# Working days: the end of working hours on the N-th working day after the day of sign-for


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (at(2026, 3, 2, 10, 0), 5, at(2026, 3, 9, 17, 30)),  # Monday → next Monday
        (at(2026, 3, 2, 7, 0), 1, at(2026, 3, 3, 17, 30)),  # before hours: the day counts
        (at(2026, 3, 2, 13, 0), 1, at(2026, 3, 3, 17, 30)),  # during lunch: the day counts
        (at(2026, 3, 2, 17, 29), 1, at(2026, 3, 3, 17, 30)),
        (at(2026, 3, 2, 17, 30), 1, at(2026, 3, 4, 17, 30)),  # after hours: counts from Tuesday
        (at(2026, 3, 6, 18, 0), 2, at(2026, 3, 11, 17, 30)),  # Friday evening: counts from Monday
        (at(2026, 3, 7, 10, 0), 2, at(2026, 3, 11, 17, 30)),  # Saturday: counts from Monday
        (at(2026, 3, 2, 10, 0), 0, at(2026, 3, 2, 17, 30)),
        # Spring Festival: Fri 13 (1), working Sat 14 (2), break 15..23, Tue 24 (3), 25 (4), 26 (5)
        (at(2026, 2, 12, 10, 0), 5, at(2026, 2, 26, 17, 30)),
        (at(2026, 2, 16, 10, 0), 2, at(2026, 2, 26, 17, 30)),  # signed during the break: counts from the 24th
        # National Day: 30 (1), break 1..7, Thu 8 (2), Fri 9 (3), working Sat 10 (4), Mon 12 (5)
        (at(2026, 9, 29, 10, 0), 5, at(2026, 10, 12, 17, 30)),
        (at(2026, 9, 18, 10, 0), 2, at(2026, 9, 21, 17, 30)),  # Sat 19 off, working Sun 20 (1), Mon 21 (2)
    ],
)
def test_add_working_days(cal: WorkingCalendar, start: datetime, n: int, due: datetime) -> None:
    deadline = cal.add_working_days(start, n)
    assert local(deadline) == due
    assert deadline.provisional is False


def test_add_working_days_refuses_negative(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(at(2026, 3, 2, 10), -1)


# --------------------------------------------------------------------------------------------------------------
# From late December 2026 into 2027, under each policy

SIGNED = at(2026, 12, 28, 10, 0)  # a Monday; 5 working days reach into 2027


def test_into_2027_without_a_declaration_is_an_error_naming_2027() -> None:
    cal = calendar()
    with pytest.raises(UnknownYear) as info:
        cal.add_working_days(SIGNED, 5)
    assert info.value.year == 2027 and "2027" in str(info.value)
    with pytest.raises(UnknownYear, match="2027"):
        cal.add_working_hours(at(2026, 12, 31, 16, 0), 4)
    # A deadline that stays inside 2026 is unaffected.
    assert local(cal.add_working_days(SIGNED, 3)) == at(2026, 12, 31, 17, 30)


def test_into_2027_declared_in_config() -> None:
    deadline = calendar(declared={2027: YEAR_2027}).add_working_days(SIGNED, 5)
    # 29 (1), 30 (2), 31 (3), New Year's Day off, weekend, Mon 4 (4), Tue 5 (5)
    assert local(deadline) == at(2027, 1, 5, 17, 30)
    assert deadline.provisional is False


def test_into_2027_with_the_fallback_is_provisional_and_recomputed_once_declared() -> None:
    provisional = calendar(fallback="weekends-only").add_working_days(SIGNED, 5)
    # Without the official calendar, Friday 1 January counts: 29, 30, 31, Jan 1, Mon 4.
    assert local(provisional) == at(2027, 1, 4, 17, 30)
    assert provisional.provisional is True

    # The operator declares 2027 (the fallback may stay on): the same computation is now final, and later.
    recomputed = calendar(fallback="weekends-only", declared={2027: YEAR_2027}).add_working_days(SIGNED, 5)
    assert recomputed.provisional is False
    assert local(recomputed) == at(2027, 1, 5, 17, 30)

    hours = calendar(fallback="weekends-only").add_working_hours(at(2026, 12, 31, 16, 0), 4)
    assert hours.provisional is True and local(hours) == at(2027, 1, 1, 11, 0)


def test_the_fallback_does_not_mark_deadlines_inside_known_years() -> None:
    cal = calendar(fallback="weekends-only")
    assert cal.add_working_days(at(2026, 12, 21, 10), 5).provisional is False
    assert cal.add_working_hours(at(2026, 12, 30, 10), 4).provisional is False


# --------------------------------------------------------------------------------------------------------------
# Coverage report (calendar check, start-up warning)


def test_coverage_on_27_november_2026() -> None:
    report = coverage(calendar(), date(2026, 11, 27), warn_days=30)
    assert [(y.year, y.source) for y in report.years] == [
        (2025, "chinese-calendar"),
        (2026, "chinese-calendar"),
        (2027, "unknown"),
    ]
    assert report.horizon == date(2026, 12, 31)
    assert report.days_left == 34
    assert not report.warn and report.ok
    assert report.next_year == 2027


def test_coverage_warns_within_the_last_days() -> None:
    report = coverage(calendar(), date(2026, 12, 5), warn_days=30)
    assert report.days_left == 26 and report.warn and not report.ok
    fallback = coverage(calendar(fallback="weekends-only"), date(2026, 12, 5), warn_days=30)
    assert [y.source for y in fallback.years][-1] == "weekends-only"
    assert not fallback.ok  # the fallback is not coverage
    declared = coverage(calendar(declared={2027: YEAR_2027}), date(2026, 12, 5), warn_days=30)
    assert declared.ok and not declared.warn and declared.horizon == date(2027, 12, 31)
    assert [y.source for y in declared.years] == ["chinese-calendar", "chinese-calendar", "config", "unknown"]


# --------------------------------------------------------------------------------------------------------------
# Construction


@pytest.mark.parametrize(
    ("hours", "problem"),
    [
        ([], "at least one"),
        ([(time(12), time(8, 30))], "before the end"),
        ([(time(8, 30), time(12)), (time(11), time(17))], "overlap"),
    ],
)
def test_bad_working_hours_are_refused(hours: list[tuple[time, time]], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        WorkingCalendar(tz=SHANGHAI, hours=hours)


def test_bad_declarations_are_refused() -> None:
    with pytest.raises(ValueError, match="not in the declared year 2027"):
        DeclaredYear(2027, holidays=frozenset({date(2026, 12, 31)}), workdays=frozenset())
    with pytest.raises(ValueError, match="both"):
        DeclaredYear(2027, holidays=frozenset({date(2027, 2, 6)}), workdays=frozenset({date(2027, 2, 6)}))
    with pytest.raises(ValueError, match="declared"):
        calendar(declared={2028: YEAR_2027})
    with pytest.raises(ValueError, match="both"):
        calendar(extra_holidays=frozenset({date(2026, 5, 6)}), extra_workdays=frozenset({date(2026, 5, 6)}))
    with pytest.raises(ValueError, match="fallback"):
        calendar(fallback="guess")


def test_hours_are_sorted_and_the_calendar_pickles() -> None:
    cal = WorkingCalendar(tz=SHANGHAI, hours=[HOURS[1], HOURS[0]], declared={2027: YEAR_2027})
    assert cal.hours == HOURS
    copy = pickle.loads(pickle.dumps(cal))
    assert copy.add_working_days(SIGNED, 5) == cal.add_working_days(SIGNED, 5)
