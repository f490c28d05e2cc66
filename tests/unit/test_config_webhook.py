"""``[telegram.webhook]``: read with its defaults, the secret token only from the environment."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config import TelegramConfig, WebhookConfig, load_config
from tests.unit.city_builder import config_error, expect_error, write_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_the_example_spells_out_every_webhook_setting_with_its_default() -> None:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["telegram"]["webhook"]
    for f in dataclasses.fields(WebhookConfig):
        assert f.name in raw, f"telegram.webhook.{f.name} missing from config.example.toml"
        value = tuple(raw[f.name]) if isinstance(raw[f.name], list) else raw[f.name]
        assert value == f.default, f"telegram.webhook.{f.name}"


def test_without_the_table_the_defaults_apply_and_telegram_is_unchanged(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "[telegram]\nrate_limiter = false\n"))
    assert config.webhook == WebhookConfig()
    assert config.telegram == dataclasses.replace(TelegramConfig(), rate_limiter=False)


def test_the_table_is_read(tmp_path: Path) -> None:
    tables = ('[telegram.webhook]\nurl = "https://bot.example.org/tg/hook"\nlisten_port = 9000\npath = "/tg/hook"\n'
              'allowed_updates = ["message", "callback_query"]\nmax_connections = 8\nsecret_env = "FY_HOOK"\n')
    hook = load_config(write_config(tmp_path, tables)).webhook
    assert hook.public_url(1234) == "https://bot.example.org/tg/hook"
    assert (hook.listen_port, hook.path, hook.max_connections, hook.secret_env) == (9000, "/tg/hook", 8, "FY_HOOK")
    assert hook.allowed_updates == ("message", "callback_query")
    assert dataclasses.replace(hook, url="").public_url(1234) == "http://127.0.0.1:1234/tg/hook"


@pytest.mark.parametrize("key", ["secret", "secret_token"])
def test_a_secret_in_the_file_is_refused(tmp_path: Path, key: str) -> None:
    config_error(tmp_path, f"telegram.webhook.{key}", "never read from a file", "TELEGRAM_WEBHOOK_SECRET",
                 tables=f'[telegram.webhook]\n{key} = "s3cret"\n')


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("max_connections", "101", "at most 100"),
    ("path", '"hook"', "must start with /"),
    ("url", '"ftp://x"', "https://"),
    ("secret_env", '"A-B"', "environment variable"),
    ("lease_second", "3", "did you mean 'lease_s'"),
])
def test_bad_settings_are_named(tmp_path: Path, key: str, value: str, fragment: str) -> None:
    where = "telegram.webhook" if key == "lease_second" else f"telegram.webhook.{key}"
    config_error(tmp_path, where, fragment, tables=f"[telegram.webhook]\n{key} = {value}\n")


def test_the_secret_is_read_from_the_environment(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "abc_DEF-123")
    assert load_config(write_config(tmp_path)).webhook_secret() == "abc_DEF-123"


@pytest.mark.parametrize("value", [None, "", "has spaces", "x" * 257])
def test_a_missing_or_malformed_secret_says_what_to_set(tmp_path: Path, monkeypatch: Any, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    else:
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", value)
    config = load_config(write_config(tmp_path))
    expect_error(config.webhook_secret, config.path, "telegram.webhook.secret_env", "set TELEGRAM_WEBHOOK_SECRET")
