"""[open311] and a category's Open311 attributes: what a good file gives, and every bad one refused in one line."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from bot.config import Open311Config, load_city, load_config
from tests.unit.city_builder import city_error, city_toml, config_error, write_city, write_config

REPO = Path(__file__).resolve().parents[2]
DIGEST = "ab" * 32
ATTRIBUTE = ('[[categories.attributes]]\ncode = "kind"\ndatatype = "singlevaluelist"\ndescription = "哪种？"\n'
             'required = true\nvalues = [{ key = "a", name = "甲" }, { key = "b", name = "乙" }]\n')
LIGHTS = 'route = "local"\n'


def test_the_example_spells_out_every_open311_setting_with_its_default() -> None:
    raw = tomllib.loads((REPO / "config.example.toml").read_text(encoding="utf-8"))["open311"]
    for f in dataclasses.fields(Open311Config):
        if f.name != "clients":
            assert raw[f.name] == f.default, f.name


def test_clients_keep_their_hash_and_own_rate(tmp_path: Path) -> None:
    path = write_config(tmp_path, tables=f'[open311]\nenabled = true\nrequests_per_minute = 30\n'
                        f'[open311.clients.app]\nkey_sha256 = "{DIGEST.upper()}"\n'
                        f'[open311.clients.fms]\nkey_sha256 = "{"cd" * 32}"\nrequests_per_minute = 120\n')
    cfg = load_config(path).open311
    assert cfg.enabled and cfg.requests_per_minute == 30
    assert [(c.name, c.key_sha256, c.requests_per_minute) for c in cfg.clients] == [
        ("app", DIGEST, None), ("fms", "cd" * 32, 120)]


@pytest.mark.parametrize(("tables", "key", "fragment"), [
    ("[open311]\nenable = true\n", "open311", "did you mean 'enabled'"),
    ('[open311]\nbase_path = "open311"\n', "open311.base_path", "URL path"),
    ("[open311]\nport = 70000\n", "open311.port", "TCP port"),
    ("[open311]\nmax_body_bytes = 0\n", "open311.max_body_bytes", "integer ≥ 1"),
    ('[open311.clients.app]\nkey_sha256 = "secret"\n', "open311.clients.app.key_sha256", "SHA-256"),
    (f'[open311.clients.App]\nkey_sha256 = "{DIGEST}"\n', "open311.clients.App", "lowercase"),
    (f'[open311.clients.a]\nkey_sha256 = "{DIGEST}"\n[open311.clients.b]\nkey_sha256 = "{DIGEST}"\n',
     "open311.clients.b.key_sha256", "same key"),
    (f'[open311.clients.a]\nkey_sha256 = "{DIGEST}"\nrate = 5\n', "open311.clients.a", "unknown key 'rate'"),
])
def test_a_bad_open311_section_is_one_clear_error(tmp_path: Path, tables: str, key: str, fragment: str) -> None:
    config_error(tmp_path, key, fragment, tables=tables)


def test_a_category_lists_its_description_group_and_attributes(tmp_path: Path) -> None:
    text = city_toml((LIGHTS, LIGHTS + 'description = "路灯不亮"\ngroup = "市政"\n' + ATTRIBUTE))
    lights = load_city(write_city(tmp_path, text)).category("lights")
    assert (lights.description, lights.group) == ("路灯不亮", "市政")
    (attribute,) = lights.attributes
    assert (attribute.code, attribute.datatype, attribute.required, attribute.values) == (
        "kind", "singlevaluelist", True, (("a", "甲"), ("b", "乙")))


@pytest.mark.parametrize(("attribute", "key", "fragment"), [
    (ATTRIBUTE.replace('"singlevaluelist"', '"colour"'), "categories[0].attributes[0].datatype", "one of"),
    (ATTRIBUTE.replace('values = [{ key = "a", name = "甲" }, { key = "b", name = "乙" }]\n', ""),
     "categories[0].attributes[0].values", "needs its values"),
    (ATTRIBUTE.replace('"singlevaluelist"', '"string"'), "categories[0].attributes[0].values", "only a"),
    (ATTRIBUTE.replace('key = "b"', 'key = "a"'), "categories[0].attributes[0].values", "same key"),
    (ATTRIBUTE + ATTRIBUTE, "categories[0].attributes[1].code", "duplicate code"),
    (ATTRIBUTE.replace('code = "kind"', 'code = "Kind!"'), "categories[0].attributes[0].code", "lowercase"),
])
def test_a_bad_attribute_is_one_clear_error(tmp_path: Path, attribute: str, key: str, fragment: str) -> None:
    city_error(tmp_path, city_toml((LIGHTS, LIGHTS + attribute)), key, fragment)
