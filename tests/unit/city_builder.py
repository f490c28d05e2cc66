"""One minimal valid city (and deployment config) for the config tests, and the helpers that check a refusal.

A test states only what differs: ``city_toml(('kind = "zone"', 'kind = "park"'))`` is the minimal city with that one
edit, ``city_toml(extra="[calendar]\\n...")`` the minimal city plus more tables; :func:`write_city` and
:func:`write_config` put them in a folder (a test's ``tmp_path``) and return the file to load.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import ConfigError, load_city, load_config

# A small valid city: two districts, a zone, a department, two categories, a place, two groups.
CITY = """\
name_zh = "测试市"
name_en = "Testville"
timezone = "Asia/Shanghai"

[bounds]
south = 30.0
west = 110.0
north = 31.0
east = 111.0

[[units]]
key = "north"
kind = "district"
name_zh = "北区"
name_en = "North District"

[[units]]
key = "south"
kind = "district"
name_zh = "南区"
name_en = "South District"

[[units]]
key = "park"
kind = "zone"
name_zh = "园区"
name_en = "The Park"

[[units]]
key = "roads"
kind = "department"
name_zh = "道路局"
name_en = "Roads Bureau"

[[categories]]
key = "lights"
name_zh = "路灯"
name_en = "Street lights"
deadline_class = "immediate"
route = "local"

[[categories]]
key = "potholes"
name_zh = "坑洼"
name_en = "Potholes"
deadline_class = "general"
route = "roads"
routes = { south = "local" }
keywords = ["学校"]

[[places]]
key = "station"
name_zh = "火车站"
name_en = "Railway Station"
aliases = ["车站"]
unit = "north"
lat = 30.5
lon = 110.5

[[groups]]
key = "coord"
title = "协调组"
role = "coordination"

[[groups]]
key = "north_group"
title = "北区群"
role = "unit"
unit = "north"
"""

#: The deployment config's two required parts; :func:`write_config` puts them around a test's own keys.
CONFIG_TOP = 'city = "city.toml"\n'
CONFIG_STORAGE = '[storage]\ndatabase = "db.sqlite3"\n'


def patched(text: str, old: str, new: str) -> str:
    """``text`` with the first ``old`` replaced; fails loudly if ``old`` is not there (a test that edits nothing
    would pass for the wrong reason)."""
    assert old in text, f"test setup: {old!r} not in the text"
    return text.replace(old, new, 1)


def city_toml(*edits: tuple[str, str], extra: str = "", base: str = CITY) -> str:
    """The minimal city (or ``base``) with each ``(old, new)`` edit applied to the first ``old``, plus ``extra``
    TOML (more tables or array entries) at the end."""
    text = base
    for old, new in edits:
        text = patched(text, old, new)
    return text + ("\n" + extra if extra else "")


def write_city(folder: Path, text: str = CITY, name: str = "city.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def write_config(folder: Path, tables: str = "", top: str = "", city: str = CITY) -> Path:
    """``config.toml`` and ``city.toml`` in ``folder``: the city line plus ``top`` keys, [storage], then ``tables``."""
    write_city(folder, city)
    path = folder / "config.toml"
    path.write_text(CONFIG_TOP + top + "\n" + CONFIG_STORAGE + "\n" + tables, encoding="utf-8")
    return path


def expect_error(load: Callable[[], object], file: Path | str, key: str | None, *fragments: str) -> str:
    """Run ``load``; its ConfigError must read "<file>: <key>: <problem>" and contain every fragment."""
    with pytest.raises(ConfigError) as info:
        load()
    message = str(info.value)
    prefix = f"{file}: {key}: " if key else f"{file}: "
    assert message.startswith(prefix), message
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message  # one message, one line
    return message


def city_error(folder: Path, text: str, key: str, *fragments: str) -> str:
    """Loading the city ``text`` fails with "<city file>: <key>: <problem>" containing every fragment."""
    path = write_city(folder, text)
    return expect_error(lambda: load_city(path), path, key, *fragments)


def config_error(folder: Path, key: str | None, *fragments: str, **parts: str) -> str:
    """Loading the config made of ``parts`` (see :func:`write_config`) fails with "<config file>: <key>: …"."""
    path = write_config(folder, **parts)
    return expect_error(lambda: load_config(path), path, key, *fragments)
