"""The city file's suggestion fields: `suggest` words and `suggest_zones`, apart from the sensitivity keywords."""

from __future__ import annotations

import pickle
from pathlib import Path

from bot.config import load_city
from tests.unit.city_builder import city_error, city_toml, write_city

LIGHTS = 'name_zh = "路灯"\nname_en = "Street lights"\n'


def test_suggestion_words_and_zones_are_read_and_kept_apart_from_keywords(tmp_path: Path) -> None:
    text = city_toml((LIGHTS, LIGHTS + 'suggest = ["灯不亮", "street light"]\nsuggest_zones = ["park", "north"]\n'))
    city = load_city(write_city(tmp_path, text))
    lights, potholes = city.category("lights"), city.category("potholes")
    assert lights.suggest == ("灯不亮", "street light") and lights.suggest_zones == ("park", "north")
    assert lights.keywords == () and potholes.suggest == () and potholes.keywords == ("学校",)
    # "学校" is potholes' sensitivity keyword, not a suggestion word: it suggests nothing.
    assert [s.key for s in city.suggester().rank("学校门口灯不亮")] == ["lights"]
    assert city.suggester() is city.suggester()  # built once
    assert pickle.loads(pickle.dumps(city)) == city  # a built suggester does not stop the city from pickling


def test_a_category_name_is_a_suggestion_word(tmp_path: Path) -> None:
    city = load_city(write_city(tmp_path, city_toml()))
    assert [s.key for s in city.suggester().rank("这里有个大坑洼")] == ["potholes"]


def test_a_suggestion_word_listed_twice_is_refused(tmp_path: Path) -> None:
    text = city_toml((LIGHTS, LIGHTS + 'suggest = ["Lamp", "lamp"]\n'))
    city_error(tmp_path, text, "categories[0].suggest", '"lamp" is listed twice')


def test_an_empty_suggestion_word_is_refused(tmp_path: Path) -> None:
    text = city_toml((LIGHTS, LIGHTS + 'suggest = ["灯", " "]\n'))
    city_error(tmp_path, text, "categories[0].suggest[1]", "non-empty string")


def test_suggest_zones_must_be_districts_or_zones(tmp_path: Path) -> None:
    text = city_toml((LIGHTS, LIGHTS + 'suggest_zones = ["roads"]\n'))
    city_error(tmp_path, text, "categories[0].suggest_zones", '"roads"', "department")
    text = city_toml((LIGHTS, LIGHTS + 'suggest_zones = ["nowhere"]\n'))
    city_error(tmp_path, text, "categories[0].suggest_zones", "no unit has that key")
