"""bot.domain.deadlines: sign-for in working hours, handling days by class, extensions, into 2027."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from bot.clock import FakeClock
from bot.domain.calendar import Deadline, DeclaredYear, UnknownYear, WorkingCalendar
from bot.domain.deadlines import DeadlinePolicy, extended, working_day_length

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = ((time(8, 30), time(12)), (time(14, 30), time(17, 30)))
YEAR_2027 = DeclaredYear(
    2027,
    holidays=frozenset({date(2027, 1, 1)} | {date(2027, 2, 5) + timedelta(n) for n in range(7)}),
    workdays=frozenset(),
)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def local(deadline: Deadline) -> datetime:
    return deadline.at.astimezone(SHANGHAI)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(tz=SHANGHAI, hours=HOURS)


POLICY = DeadlinePolicy(sign_hours=4)


def nth_working_day_after(day: date, n: int) -> date:
    """Reference count straight from chinese_calendar, independent of the code under test."""
    while n:
        day += timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


# --------------------------------------------------------------------------------------------------------------
# Sign-for


def test_sign_for_is_due_four_working_hours_after_dispatch(cal: WorkingCalendar) -> None:
    assert local(POLICY.sign_due(cal, at(2026, 3, 2, 9, 0))) == at(2026, 3, 2, 15, 30)  # 3 h + lunch + 1 h
    assert local(POLICY.sign_due(cal, at(2026, 3, 2, 11, 30))) == at(2026, 3, 3, 9, 0)
    assert local(POLICY.sign_due(cal, at(2026, 3, 6, 16, 0))) == at(2026, 3, 9, 11, 0)  # Friday → Monday
    # Dispatched on the eve of the Spring Festival break: the working Saturday, then nine days off.
    assert local(POLICY.sign_due(cal, at(2026, 2, 14, 16, 0))) == at(2026, 2, 24, 11, 0)


def test_sign_for_hours_are_configurable(cal: WorkingCalendar) -> None:
    policy = DeadlinePolicy(sign_hours=1.5)
    assert local(policy.sign_due(cal, at(2026, 3, 2, 11, 30))) == at(2026, 3, 2, 15, 30)


def test_sign_for_with_an_injected_clock(cal: WorkingCalendar) -> None:
    clock = FakeClock(datetime(2026, 9, 30, 8, 0, tzinfo=UTC))  # 16:00 in Shanghai, the eve of National Day
    due = POLICY.sign_due(cal, clock.now())
    assert local(due) == at(2026, 10, 8, 11, 0)
    clock.set(due.at + timedelta(minutes=1))
    assert cal.working_seconds_between(due.at, clock.now()) == 60  # one working minute overdue


# --------------------------------------------------------------------------------------------------------------
# Handling, by class


@pytest.mark.parametrize(("deadline_class", "n"), [("immediate", 2), ("general", 5), ("complex", 15)])
def test_handling_days_by_class(cal: WorkingCalendar, deadline_class: str, n: int) -> None:
    assert local(POLICY.handling_due(cal, at(2026, 3, 2, 10), deadline_class)).date() == (
        nth_working_day_after(date(2026, 3, 2), n)
    )


@pytest.mark.parametrize(
    ("accepted", "deadline_class", "due"),
    [
        (at(2026, 2, 12, 10), "general", at(2026, 2, 26, 17, 30)),  # across the Spring Festival break
        (at(2026, 2, 13, 10), "immediate", at(2026, 2, 24, 17, 30)),  # Sat 14 (1), Tue 24 (2)
        (at(2026, 9, 29, 10), "general", at(2026, 10, 12, 17, 30)),  # across National Day
        # Signed for on the Mid-Autumn Festival (Friday 25 September, a holiday): the count starts from Monday
        # 28, then 29, 30, National Day, Thu 8, Fri 9, working Sat 10, Mon 12 … the 15th is Friday 23 October.
        (at(2026, 9, 25, 10), "complex", at(2026, 10, 23, 17, 30)),
        (at(2026, 9, 28, 10), "complex", at(2026, 10, 23, 17, 30)),
    ],
)
def test_handling_deadlines_across_the_2026_holidays(
    cal: WorkingCalendar, accepted: datetime, deadline_class: str, due: datetime
) -> None:
    deadline = POLICY.handling_due(cal, accepted, deadline_class)
    assert local(deadline) == due
    assert not deadline.provisional


def test_a_reopened_case_gets_a_fresh_deadline(cal: WorkingCalendar) -> None:
    first = POLICY.handling_due(cal, at(2026, 3, 2, 10), "general")
    reopened = POLICY.handling_due(cal, at(2026, 3, 16, 10), "general")
    assert local(first) == at(2026, 3, 9, 17, 30)
    assert local(reopened) == at(2026, 3, 23, 17, 30)


def test_a_class_is_changed_by_a_coordinator(cal: WorkingCalendar) -> None:
    general = POLICY.handling_due(cal, at(2026, 3, 2, 10), "general")
    complex_ = POLICY.handling_due(cal, at(2026, 3, 2, 10), "complex")
    assert complex_.at - general.at == timedelta(days=14)  # 10 more working days: two plain weeks


def test_custom_class_days_and_unknown_class(cal: WorkingCalendar) -> None:
    policy = DeadlinePolicy(sign_hours=2, class_days={"immediate": 1, "general": 3, "complex": 10})
    assert local(policy.handling_due(cal, at(2026, 3, 2, 10), "general")) == at(2026, 3, 5, 17, 30)
    with pytest.raises(ValueError, match="urgent"):
        policy.handling_due(cal, at(2026, 3, 2, 10), "urgent")


def test_the_policy_does_not_share_the_callers_dict() -> None:
    days = {"immediate": 2, "general": 5, "complex": 15}
    policy = DeadlinePolicy(sign_hours=4, class_days=days)
    days["general"] = 50
    assert policy.days_for("general") == 5
    assert policy == POLICY and hash(policy) == hash(POLICY)
    assert pickle.loads(pickle.dumps(policy)) == policy


@pytest.mark.parametrize(
    "kwargs", [{"sign_hours": 0}, {"sign_hours": -1}, {"sign_hours": 4, "class_days": {"general": 0}}]
)
def test_bad_policies_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        DeadlinePolicy(**kwargs)


# --------------------------------------------------------------------------------------------------------------
# Extensions


def test_working_day_length(cal: WorkingCalendar) -> None:
    assert working_day_length(cal) == timedelta(hours=6, minutes=30)


def test_an_extension_moves_the_end_of_day_deadline_by_working_days(cal: WorkingCalendar) -> None:
    due = POLICY.handling_due(cal, at(2026, 3, 2, 10), "general")  # Monday 9 March, 17:30
    assert local(POLICY.extended(cal, due.at, 2)) == at(2026, 3, 11, 17, 30)
    assert local(extended(cal, due.at, 5)) == at(2026, 3, 16, 17, 30)


def test_an_extension_across_the_spring_festival(cal: WorkingCalendar) -> None:
    due = at(2026, 2, 13, 17, 30)  # Friday before the break
    assert local(extended(cal, due, 1)) == at(2026, 2, 14, 17, 30)  # the working Saturday
    assert local(extended(cal, due, 2)) == at(2026, 2, 24, 17, 30)


def test_an_extension_keeps_the_time_of_day(cal: WorkingCalendar) -> None:
    assert local(extended(cal, at(2026, 3, 2, 15, 30), 1)) == at(2026, 3, 3, 15, 30)
    assert local(extended(cal, at(2026, 3, 6, 10, 0), 1)) == at(2026, 3, 9, 10, 0)  # over the weekend


def test_an_extension_must_be_whole_working_days(cal: WorkingCalendar) -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            extended(cal, at(2026, 3, 2, 17, 30), bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        extended(cal, datetime(2026, 3, 2, 17, 30), 1)


# --------------------------------------------------------------------------------------------------------------
# Into 2027


def test_general_deadline_from_28_december_2026_under_each_policy() -> None:
    accepted = at(2026, 12, 28, 10)
    with pytest.raises(UnknownYear) as info:
        POLICY.handling_due(WorkingCalendar(tz=SHANGHAI, hours=HOURS), accepted, "general")
    assert info.value.year == 2027

    fallback = WorkingCalendar(tz=SHANGHAI, hours=HOURS, fallback="weekends-only")
    provisional = POLICY.handling_due(fallback, accepted, "general")
    assert provisional.provisional and local(provisional) == at(2027, 1, 4, 17, 30)

    declared = WorkingCalendar(tz=SHANGHAI, hours=HOURS, fallback="weekends-only", declared={2027: YEAR_2027})
    final = POLICY.handling_due(declared, accepted, "general")
    assert not final.provisional and local(final) == at(2027, 1, 5, 17, 30)


def test_an_extension_into_an_undeclared_year(cal: WorkingCalendar) -> None:
    with pytest.raises(UnknownYear, match="2027"):
        extended(cal, at(2026, 12, 30, 17, 30), 2)
    fallback = WorkingCalendar(tz=SHANGHAI, hours=HOURS, fallback="weekends-only")
    moved = extended(fallback, at(2026, 12, 30, 17, 30), 2)
    assert moved.provisional and local(moved) == at(2027, 1, 1, 17, 30)
