"""What /reload may change: restart-only sections compared as the file wrote them, and keys that may not vanish."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.config import load_config
from bot.config.reloading import removed_key, restart_only_change

ROOT = Path(__file__).resolve().parents[2]


def _example():
    return load_config(ROOT / "config.example.toml")


def test_the_same_file_is_no_change_even_when_the_process_overrode_values() -> None:
    running = _example()
    overridden = dataclasses.replace(running, telegram=dataclasses.replace(running.telegram, base_url="http://x/"))
    assert restart_only_change(overridden, _example()) is None


def test_a_changed_restart_only_value_is_named_by_its_dotted_key() -> None:
    running, new = _example(), _example()
    new.file_sections["outbox"]["max_attempts"] = 3
    assert restart_only_change(running, new) == "outbox.max_attempts"
    new = _example()
    new.file_sections["reminders"]["before_working_hours"] = [3.0]
    assert restart_only_change(running, new) == "reminders.before_working_hours"
    new = _example()
    del new.file_sections["telegram"]["rate_limiter"]  # back to the default is a change of the file too
    assert restart_only_change(running, new) == "telegram.rate_limiter"


def test_a_new_time_zone_needs_a_restart() -> None:
    from zoneinfo import ZoneInfo

    running = _example()
    new = dataclasses.replace(running, city=dataclasses.replace(running.city, timezone=ZoneInfo("Asia/Tokyo")))
    assert restart_only_change(running, new) == "timezone"


def test_dropping_a_key_that_tickets_use_is_refused_but_renaming_a_place_is_not() -> None:
    city = _example().city
    fewer = dataclasses.replace(city, categories=city.categories[1:])
    problem = removed_key(city, fewer)
    assert problem is not None and problem.startswith("categories:") and repr(city.categories[0].key) in problem
    renamed = dataclasses.replace(city, places=(dataclasses.replace(city.places[0], name_zh="新名字"),
                                                *city.places[1:]))
    assert removed_key(city, renamed) is None
    assert removed_key(city, dataclasses.replace(city, units=city.units[:-1])).startswith("units:")
