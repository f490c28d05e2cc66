"""Deadlines of a case, as pure functions of a working calendar.

- Sign-for (签收) is due ``sign_hours`` working hours after dispatch.
- Handling is due 2 / 5 / 15 working days (immediate / general / complex) after sign-for: the end of working hours
  on that day (the rule is spelled out in :mod:`bot.domain.calendar`). A re-opened case gets a fresh deadline:
  call :meth:`DeadlinePolicy.handling_due` again from the moment it is signed for anew.
- An approved extension of N working days moves the due instant N working days later, at the same point of the
  working day: a deadline at the end of Monday's hours, extended by 2, ends with Wednesday's hours.

Every result is a :class:`~bot.domain.calendar.Deadline`; ``provisional`` is set when the weekends-only fallback
was needed, and the caller stores it with the due time so that it can be recomputed once the year is declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from bot.domain.calendar import Deadline, WorkingCalendar


class DeadlineClass(StrEnum):
    """How much time a case gets (the one definition; stored on tickets, named in configs and texts as ``cls.*``)."""

    IMMEDIATE = "immediate"
    GENERAL = "general"
    COMPLEX = "complex"


DEFAULT_CLASS_DAYS: Mapping[str, int] = MappingProxyType(
    {DeadlineClass.IMMEDIATE: 2, DeadlineClass.GENERAL: 5, DeadlineClass.COMPLEX: 15})


def _default_class_days() -> dict[str, int]:
    return dict(DEFAULT_CLASS_DAYS)


@dataclass(frozen=True)
class DeadlinePolicy:
    sign_hours: float = 4
    class_days: Mapping[str, int] = field(default_factory=_default_class_days)

    def __post_init__(self) -> None:
        # A private copy: the caller's dict cannot change the policy later (a plain dict keeps it picklable).
        object.__setattr__(self, "class_days", dict(self.class_days))
        if not self.sign_hours > 0:
            raise ValueError(f"sign_hours must be > 0, got {self.sign_hours}")
        for name, days in self.class_days.items():
            if isinstance(days, bool) or not isinstance(days, int) or days < 1:
                raise ValueError(f"class_days[{name!r}] must be an integer ≥ 1, got {days!r}")

    def __hash__(self) -> int:
        return hash((self.sign_hours, frozenset(self.class_days.items())))

    def days_for(self, deadline_class: str) -> int:
        """Working days allowed for a class; ValueError for a class the policy does not know."""
        try:
            return self.class_days[deadline_class]
        except KeyError:
            known = ", ".join(sorted(self.class_days))
            raise ValueError(f"unknown deadline class {deadline_class!r} (known: {known})") from None

    def sign_due(self, calendar: WorkingCalendar, dispatched_at: datetime) -> Deadline:
        """When the unit must have signed for a case dispatched at ``dispatched_at``."""
        return calendar.add_working_hours(dispatched_at, self.sign_hours)

    def handling_due(self, calendar: WorkingCalendar, accepted_at: datetime, deadline_class: str) -> Deadline:
        """When a case of ``deadline_class`` signed for at ``accepted_at`` must be handled."""
        return calendar.add_working_days(accepted_at, self.days_for(deadline_class))

    def extended(self, calendar: WorkingCalendar, due_at: datetime, days: int) -> Deadline:
        """The due instant after an approved extension of ``days`` working days."""
        return extended(calendar, due_at, days)


def working_day_length(calendar: WorkingCalendar) -> timedelta:
    """The working time in one working day (the sum of the configured intervals)."""
    anchor = datetime(2000, 1, 1)
    return sum(
        (datetime.combine(anchor, end) - datetime.combine(anchor, start) for start, end in calendar.hours),
        timedelta(),
    )


def extended(calendar: WorkingCalendar, due_at: datetime, days: int) -> Deadline:
    """``due_at`` moved ``days`` working days later, keeping its place in the working day.

    Adding whole working days' worth of working time does exactly that: an instant at the end of a day's hours
    lands at the end of the N-th working day after; 15:30 lands at 15:30. A due instant outside working hours
    counts from the next working moment.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"an extension is a whole number of working days ≥ 1, got {days!r}")
    if due_at.tzinfo is None:
        raise ValueError(f"an aware datetime is required, got {due_at!r}")
    hours = working_day_length(calendar).total_seconds() / 3600 * days
    return calendar.add_working_hours(due_at.astimezone(UTC), hours)
