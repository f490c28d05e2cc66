"""Typed numbers of extension days: what a liaison may type, and why the rest is refused."""

from __future__ import annotations

import pytest

from bot.domain.day_count import DaysRejected, parse_days


@pytest.mark.parametrize(("text", "days"), [
    ("7", 7), ("７", 7), (" 7 ", 7), ("１２", 12), ("7天", 7), ("7 个工作日", 7), ("7工作日", 7), ("7 days", 7),
    ("1 day", 1), ("+3", 3), ("30", 30), ("007", 7),
])
def test_accepted(text: str, days: int) -> None:
    assert parse_days(text, 30) == days


@pytest.mark.parametrize(("text", "reason"), [
    ("", "not_a_number"), ("   ", "not_a_number"), ("七", "not_a_number"), ("7.5", "not_a_number"),
    ("3-5", "not_a_number"), ("abc", "not_a_number"), ("7 weeks", "not_a_number"), ("1e3", "not_a_number"),
    ("0", "too_small"), ("-3", "too_small"), ("－３", "too_small"), ("31", "too_large"),
    ("999999999", "too_large"), ("1234567890", "not_a_number"),
])
def test_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(DaysRejected) as refused:
        parse_days(text, 30)
    assert refused.value.reason == reason


def test_the_maximum_itself_is_allowed_and_a_bad_maximum_is_a_bug() -> None:
    assert parse_days("1", 1) == 1
    with pytest.raises(ValueError):
        parse_days("1", 0)
