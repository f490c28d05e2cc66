"""/reload: an admin applies an edited city file without a restart; a bad file is refused naming the key and the
running config stays; a change that needs a restart is refused politely; a non-admin cannot reload."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import Config, load_config
from sandbox.client import Person
from sandbox.local import LocalSandbox
from tests.e2e.conftest import ADMIN_ID, ROOT
from tests.e2e.talk import zh


def _write_config(folder: Path) -> Path:
    """config.example.toml with the e2e settings, naming a copy of the example city the test may edit."""
    shutil.copytree(ROOT / "examples" / "fuyang", folder / "city")
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for old, new in (('city = "examples/fuyang/city.toml"', 'city = "city/city.toml"'),
                     ("admins = []", f"admins = [{ADMIN_ID}]"),
                     ('url = "data/complaint-bot.sqlite3"', 'url = "bot.sqlite3"'),
                     ("poll_interval_s = 1.0", "poll_interval_s = 0.05"),
                     ("backoff_base_s = 2.0", "backoff_base_s = 1.0"),
                     ("album_settle_s = 0.8", "album_settle_s = 0.3"),
                     ("messages_per_minute = 30", "messages_per_minute = 1000")):
        assert old in text, old
        text = text.replace(old, new, 1)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return _write_config(tmp_path)


@pytest.fixture
def config(config_file: Path) -> Config:
    return load_config(config_file)


@pytest.fixture
async def local(config: Config, clock: FakeClock) -> AsyncIterator[LocalSandbox]:
    async with LocalSandbox(config, clock=clock) as sandbox:
        yield sandbox


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


async def test_a_good_file_takes_effect_and_a_bad_one_keeps_the_running_config(local: LocalSandbox, sb,
                                                                               config_file: Path) -> None:
    admin = await _as_user(sb, ADMIN_ID)
    city_file = config_file.parent / "city" / "city.toml"

    await admin.say("/start")
    await admin.expect("这里是阜阳市群众诉求受理平台")

    # a good file: the city's name changes, and so does what /start says
    _edit(city_file, 'name_zh = "阜阳市"', 'name_zh = "阜阳市（新）"')
    await admin.say("/reload")
    done = await admin.expect("已重新读取并应用配置")
    assert "阜阳市（新）" in done["text"]
    await admin.say("/start")
    await admin.expect("这里是阜阳市（新）群众诉求受理平台")

    # a bad file: refused with the one-line error naming the key; the running config stays
    _edit(city_file, 'kind = "district"', 'kind = "distrikt"')
    await admin.say("/reload")
    bad = await admin.expect(zh("reload.bad", error="").splitlines()[0])
    assert "units[0].kind" in bad["text"] and "distrikt" in bad["text"], bad["text"]
    await admin.say("/start")
    await admin.expect("这里是阜阳市（新）群众诉求受理平台")
    assert local.runner.services.config.city.name_zh == "阜阳市（新）"
    _edit(city_file, 'kind = "distrikt"', 'kind = "district"')

    # a change that needs a restart: refused, naming the key
    _edit(config_file, 'url = "bot.sqlite3"', 'url = "other.sqlite3"')
    await admin.say("/reload")
    await admin.expect(zh("reload.restart_only", setting="storage.url"))
    _edit(config_file, 'url = "other.sqlite3"', 'url = "bot.sqlite3"')

    # a unit key that tickets refer to cannot disappear
    _edit(city_file, 'key = "yingshang"', 'key = "yingshang_county"')
    await admin.say("/reload")
    gone = await admin.expect(zh("reload.bad", error="").splitlines()[0])
    assert "'yingshang'" in gone["text"], gone["text"]


async def test_only_admins_may_reload(local: LocalSandbox, sb) -> None:
    someone = await sb.person("李雷")
    await someone.say("/reload")
    await someone.expect(zh("admin.not_admin"))


async def _as_user(sb, user_id: int) -> Person:
    """The configured admin as a scripted person (an admin is a user with a known id)."""
    user = await sb.create_user("管理员", language_code="zh", id=user_id)
    return Person(sb, user, None, await sb.seq())
