"""The extension maximum's validation, and the name history /ticket reads (pure parts of issue 11, item 7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.workflow.people import NameHistory
from tests.unit.test_config import write_config

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "problem"), [
    ("0", "must be an integer ≥ 1, got 0"), ("-5", "must be an integer ≥ 1, got -5"),
    ("251", "must be at most 250 (about a working year), got 251"), ('"seven"', 'must be an integer ≥ 1'),
])
def test_max_extension_days_is_checked(tmp_path: Path, value: str, problem: str) -> None:
    path = write_config(tmp_path, f"[deadlines]\nmax_extension_days = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: deadlines.max_extension_days: {problem}"), str(info.value)


def test_max_extension_days_defaults_to_30_and_takes_the_file_value(tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path, "")).deadlines.max_extension_days == 30
    assert load_config(write_config(tmp_path, "[deadlines]\nmax_extension_days = 250\n")
                       ).deadlines.max_extension_days == 250


def test_the_name_valid_at_an_event_is_the_last_one_seen_before_it() -> None:
    names = NameHistory({7: [(T0, "张三"), (T0 + timedelta(hours=1), "张三丰")]})
    assert names.at(7, T0) == "张三"  # seen at the very moment: valid
    assert names.at(7, T0 + timedelta(minutes=59)) == "张三"
    assert names.at(7, T0 + timedelta(hours=2)) == "张三丰"
    assert names.at(7, T0 - timedelta(days=1)) == "张三", "before the first sighting: the earliest name known"
    assert names.at(8, T0) is None and names.at(None, T0) is None
