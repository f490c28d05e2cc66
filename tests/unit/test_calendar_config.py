"""[calendar] in the city file, [deadlines] in the deployment config, and `complaint-bot calendar check`."""

from __future__ import annotations

import argparse
import dataclasses
import io
import pickle
import tomllib
from datetime import date, time
from pathlib import Path

import pytest

from bot import cli_calendar
from bot.config import CalendarConfig, DeadlinesConfig, load_city, load_config
from bot.domain.calendar import UnknownYear
from bot.domain.deadlines import DeadlinePolicy
from tests.unit.city_builder import city_error, city_toml, config_error, write_city, write_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"
FUYANG = REPO / "examples" / "fuyang" / "city.toml"

CALENDAR = """
[calendar]
working_hours = ["14:00-18:00", "09:00-12:00"]
fallback = "weekends-only"
extra_holidays = ["2026-06-01", 2026-06-02]
extra_workdays = ["2026-06-06"]

[[calendar.years]]
year = 2027
holidays = ["2027-01-01", "2027-02-05..2027-02-11", 2027-10-01]
workdays = ["2027-02-20", 2027-02-21]
"""


# --------------------------------------------------------------------------------------------------------------
# The example


def test_example_city_declares_2027_and_keeps_the_error_fallback() -> None:
    city = load_city(FUYANG)
    cal = city.calendar()
    assert cal is city.calendar()  # built once
    assert city.calendar_config.fallback == "error"
    assert cal.hours == ((time(8, 30), time(12)), (time(14, 30), time(17, 30)))
    assert cal.source(2026) == "chinese-calendar"
    assert cal.source(2027) == "config"
    assert cal.covered_until() == date(2027, 12, 31)
    holidays_2027 = {date(2027, 1, 1), date(2027, 2, 5), date(2027, 4, 5), date(2027, 6, 9), date(2027, 9, 15)}
    assert not any(cal.is_working_day(d) for d in holidays_2027)
    assert not cal.is_working_day(date(2027, 5, 5)) and not cal.is_working_day(date(2027, 10, 7))
    assert cal.is_working_day(date(2027, 10, 8))
    with pytest.raises(UnknownYear, match="2028"):
        cal.is_working_day(date(2028, 1, 3))
    assert "State Council" in FUYANG.read_text(encoding="utf-8")  # the loud comment is there


def test_example_config_spells_out_every_deadline_setting_with_its_default() -> None:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for f in dataclasses.fields(DeadlinesConfig):
        assert raw["deadlines"][f.name] == f.default, f.name
    assert load_config(EXAMPLE).deadlines == DeadlinesConfig()


def test_example_city_spells_out_every_calendar_setting() -> None:
    raw = tomllib.loads(FUYANG.read_text(encoding="utf-8"))["calendar"]
    assert set(raw) == {f.name for f in dataclasses.fields(CalendarConfig)}


# --------------------------------------------------------------------------------------------------------------
# What a good file gives


def test_a_city_without_calendar_takes_the_defaults(tmp_path: Path) -> None:
    city = load_city(write_city(tmp_path))
    assert city.calendar_config == CalendarConfig()
    cal = city.calendar()
    assert cal.fallback == "error"
    assert cal.hours == ((time(8, 30), time(12)), (time(14, 30), time(17, 30)))
    assert cal.covered_until() == date(2026, 12, 31)


def test_calendar_settings_are_read(tmp_path: Path) -> None:
    city = load_city(write_city(tmp_path, city_toml(extra=CALENDAR)))
    cal = city.calendar()
    assert cal.hours == ((time(9), time(12)), (time(14), time(18)))  # sorted
    assert cal.fallback == "weekends-only"
    assert cal.extra_holidays == {date(2026, 6, 1), date(2026, 6, 2)}
    assert cal.extra_workdays == {date(2026, 6, 6)}
    year = cal.declared[2027]
    assert len(year.holidays) == 1 + 7 + 1
    assert date(2027, 2, 8) in year.holidays
    assert year.workdays == {date(2027, 2, 20), date(2027, 2, 21)}
    assert cal.is_working_day(date(2027, 2, 20))  # a declared working Saturday
    assert not cal.is_working_day(date(2026, 6, 1))  # a Monday, off locally
    assert cal.is_working_day(date(2026, 6, 6))  # a Saturday, worked locally
    assert cal.covered_until() == date(2027, 12, 31)


def test_deadlines_are_read_and_make_a_policy(tmp_path: Path) -> None:
    tables = "[deadlines]\nsign_within_working_hours = 2.5\ncomplex_days = 20\nwarn_days_before_horizon = 45\n"
    config = load_config(write_config(tmp_path, tables))
    assert config.deadlines.warn_days_before_horizon == 45
    assert config.deadlines.policy() == DeadlinePolicy(
        sign_hours=2.5, class_days={"immediate": 2, "general": 5, "complex": 20}
    )


def test_a_config_with_a_calendar_in_use_still_pickles(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, city=city_toml(extra=CALENDAR)))
    config.city.calendar()  # cached on the city
    copy = pickle.loads(pickle.dumps(config))
    assert copy == config and hash(copy) == hash(config)
    assert copy.city.calendar().declared[2027] == config.city.calendar().declared[2027]


# --------------------------------------------------------------------------------------------------------------
# Bad files


@pytest.mark.parametrize(
    ("hours", "key", "fragment"),
    [
        ('["8:30-12:00", "14:30-25:00"]', "calendar.working_hours[1]", '"HH:MM-HH:MM"'),
        ('["0830-1200"]', "calendar.working_hours[0]", '"HH:MM-HH:MM"'),
        ('["12:00-08:30"]', "calendar.working_hours[0]", "the start must be before the end"),
        ('["09:00-09:00"]', "calendar.working_hours[0]", "the start must be before the end"),
        ('["08:30-12:00", "11:30-17:30"]', "calendar.working_hours[1]", "overlaps"),
        ("[]", "calendar.working_hours", "at least one interval"),
        ('"08:30-17:30"', "calendar.working_hours", "array of strings"),
    ],
)
def test_bad_working_hours(tmp_path: Path, hours: str, key: str, fragment: str) -> None:
    city_error(tmp_path, city_toml(extra=f"[calendar]\nworking_hours = {hours}\n"), key, fragment)


def test_unknown_fallback_is_refused(tmp_path: Path) -> None:
    city_error(
        tmp_path, city_toml(extra='[calendar]\nfallback = "guess"\n'), "calendar.fallback", '"weekends-only"', '"guess"'
    )


def test_unknown_calendar_keys_are_refused(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(extra="[calendar]\nworkinghours = []\n"), "calendar", "working_hours")
    city_error(
        tmp_path, city_toml(extra="[[calendar.years]]\nyear = 2027\nholiday = []\n"), "calendar.years[0]", "holidays"
    )


@pytest.mark.parametrize(
    ("entry", "key", "fragments"),
    [
        ('holidays = ["2026-12-31"]', "calendar.years[0].holidays[0]", ("2026-12-31", "not in the declared year 2027")),
        ('holidays = ["2027-12-30..2028-01-02"]', "calendar.years[0].holidays[0]", ("2028-01-02", "2027")),
        ('workdays = ["2028-01-08"]', "calendar.years[0].workdays[0]", ("not in the declared year 2027",)),
        (
            'holidays = ["2027-02-05..2027-02-11"]\nworkdays = ["2027-02-06"]',
            "calendar.years[0].workdays[0]",
            ("2027-02-06", "also a holiday", "holidays[0]"),
        ),
        ('workdays = ["2027-02-15"]', "calendar.years[0].workdays[0]", ("Monday", "weekend")),
        ('holidays = ["2027-02-11..2027-02-05"]', "calendar.years[0].holidays[0]", ("ends before it starts",)),
        ('holidays = ["2027-02-30"]', "calendar.years[0].holidays[0]", ('"YYYY-MM-DD"',)),
        ("holidays = [20270101]", "calendar.years[0].holidays[0]", ('"YYYY-MM-DD"',)),
        ('holidays = "2027-01-01"', "calendar.years[0].holidays", ("array of dates",)),
    ],
)
def test_bad_declared_years(tmp_path: Path, entry: str, key: str, fragments: tuple[str, ...]) -> None:
    city_error(tmp_path, city_toml(extra=f"[[calendar.years]]\nyear = 2027\n{entry}\n"), key, *fragments)


def test_a_year_declared_twice_is_refused(tmp_path: Path) -> None:
    text = city_toml(extra="[[calendar.years]]\nyear = 2027\n[[calendar.years]]\nyear = 2027\n")
    city_error(tmp_path, text, "calendar.years[1].year", "already declared", "calendar.years[0]")


def test_a_year_is_required(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(extra='[[calendar.years]]\nholidays = ["2027-01-01"]\n'), "calendar.years[0].year")


def test_a_day_both_extra_holiday_and_extra_workday_is_refused(tmp_path: Path) -> None:
    text = city_toml(extra='[calendar]\nextra_holidays = ["2026-06-01..2026-06-03"]\nextra_workdays = ["2026-06-02"]\n')
    city_error(tmp_path, text, "calendar.extra_workdays[0]", "2026-06-02", "extra_holidays[0]")


@pytest.mark.parametrize(
    ("setting", "key", "fragment"),
    [
        ("sign_within_working_hours = 0", "deadlines.sign_within_working_hours", "> 0"),
        ("general_days = 0", "deadlines.general_days", "≥ 1"),
        ("complex_days = 7.5", "deadlines.complex_days", "integer"),
        ("warn_days = 30", "deadlines", "warn_days_before_horizon"),
    ],
)
def test_bad_deadlines(tmp_path: Path, setting: str, key: str, fragment: str) -> None:
    config_error(tmp_path, key, fragment, tables=f"[deadlines]\n{setting}\n")


# --------------------------------------------------------------------------------------------------------------
# complaint-bot calendar check


def check(config: Path, today: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    cli_calendar.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["calendar", "check", "--config", str(config), "--today", today])
    out = io.StringIO()
    code = cli_calendar.run(args, out)
    return code, out.getvalue()


def test_check_the_example_on_27_november_2026() -> None:
    code, out = check(EXAMPLE, "2026-11-27")
    assert code == 0
    assert "  2025  chinese-calendar\n  2026  chinese-calendar\n  2027  config\n  2028  NOT COVERED\n" in out
    assert "horizon: 2027-12-31" in out
    assert "WARNING" not in out


def test_check_warns_and_fails_near_the_horizon() -> None:
    code, out = check(EXAMPLE, "2027-12-10")
    assert code == 1
    assert "  2026  chinese-calendar\n  2027  config\n  2028  NOT COVERED\n" in out
    assert "(21 days from today)" in out
    assert "WARNING" in out and "declare 2028" in out


def test_check_without_2027(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    code, out = check(path, "2026-11-27")
    assert code == 0 and "  2027  NOT COVERED" in out and "WARNING" not in out
    code, out = check(path, "2026-12-05")
    assert code == 1 and "WARNING" in out and "declare 2027" in out


def test_check_shows_the_fallback_as_provisional_and_still_fails(tmp_path: Path) -> None:
    path = write_config(tmp_path, city=city_toml(extra='[calendar]\nfallback = "weekends-only"\n'))
    code, out = check(path, "2026-12-20")
    assert "  2027  weekends-only (provisional)" in out
    assert code == 1  # the fallback keeps the bot running, but the year still has to be declared


def test_check_warning_threshold_comes_from_the_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[deadlines]\nwarn_days_before_horizon = 60\n")
    code, out = check(path, "2026-11-27")
    assert code == 1 and "fewer than 60 days" in out
