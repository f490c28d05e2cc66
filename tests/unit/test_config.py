"""bot.config: the example loads, and every bad file is refused with one message naming file, key and problem."""

from __future__ import annotations

import dataclasses
import pickle
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config import (
    City,
    Config,
    ConfigError,
    HandlingConfig,
    HotlineConfig,
    IntakeConfig,
    LimitsConfig,
    OutboxConfig,
    TelegramConfig,
    load_city,
    load_config,
)
from tests.unit.city_builder import (
    CITY,
    CONFIG_STORAGE,
    CONFIG_TOP,
    city_error,
    city_toml,
    config_error,
    expect_error,
    write_city,
    write_config,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"


# --------------------------------------------------------------------------------------------------------------
# The example


@pytest.fixture(scope="module")
def example() -> Config:
    return load_config(EXAMPLE)


def test_example_loads_the_fuyang_city(example: Config) -> None:
    city = example.city
    assert city.name("zh") == "阜阳市"
    assert city.name("en") == "Fuyang"
    assert str(city.timezone) == "Asia/Shanghai"
    assert example.path == EXAMPLE
    assert example.storage.database.is_absolute()
    districts = [u.key for u in city.units if u.kind == "district"]
    assert districts == ["yingzhou", "yingquan", "yingdong", "jieshou", "linquan", "taihe", "funan", "yingshang"]
    assert city.unit("fuhe_park").kind == "zone"
    departments = {u.key for u in city.units if u.kind == "department"}
    assert departments == {"city_management", "hrss", "education", "housing_bureau", "transport",
                           "communications", "finance", "traffic_police", "water_resources"}


def test_example_offers_the_platforms_top_five_categories_first(example: Config) -> None:
    keys = [c.key for c in example.city.categories]
    assert keys[:5] == ["housing", "transport", "city_management", "labour", "rural"]
    assert keys[5:9] == ["education", "environment", "municipal", "health"]
    assert keys[-1] == "other" and len(keys) >= 20  # the catch-all last, after a realistic spread
    assert example.city.category("labour").route == "hrss"
    assert example.city.category("municipal").deadline_class == "immediate"
    assert set(example.city.category("education").keywords) >= {"幼儿园", "学校", "kindergarten", "school"}
    assert all(c.name_zh and c.name_en for c in example.city.categories)


def test_every_example_place_lies_inside_the_city_bounds(example: Config) -> None:
    city = example.city
    assert len(city.places) >= 20
    for place in city.places:
        assert city.bounds.contains(place.lat, place.lon), place.key
        assert city.unit(place.unit).kind in ("district", "zone"), place.key


def test_example_places_cover_every_district_and_the_park(example: Config) -> None:
    city = example.city
    covered = {p.unit for p in city.places}
    assert covered >= {u.key for u in city.units if u.kind in ("district", "zone")}
    assert city.place("hefei_avenue").unit == "fuhe_park"
    assert "火车站" in city.place("fuyang_station").aliases
    assert "西湖" in city.place("west_lake").aliases


def test_example_has_a_group_per_unit_plus_coordination_and_supervision(example: Config) -> None:
    city = example.city
    for unit in city.units:
        group = city.group_for_unit(unit.key)
        assert group is not None and group.role == "unit", unit.key
    coordination = city.group_with_role("coordination")
    supervision = city.group_with_role("supervision")
    assert coordination is not None and coordination.title == "综合协调组"
    assert supervision is not None and supervision.title == "监督考核组"
    assert len(city.groups) == len(city.units) + 2


@pytest.mark.parametrize(
    ("section", "cls"),
    [("telegram", TelegramConfig), ("intake", IntakeConfig), ("limits", LimitsConfig), ("outbox", OutboxConfig),
     ("hotline", HotlineConfig)],
)
def test_example_config_spells_out_every_setting_with_its_default(section: str, cls: type) -> None:
    # The example is the operators' documentation: each setting is there, and the value shown is the default.
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for f in dataclasses.fields(cls):
        assert f.name in raw[section], f"{section}.{f.name} missing from config.example.toml"
        assert raw[section][f.name] == f.default, f"{section}.{f.name}"
    assert "url" in raw["storage"]


# --------------------------------------------------------------------------------------------------------------
# What a good file gives


def test_minimal_config_takes_the_defaults(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    assert config.telegram == TelegramConfig()
    assert config.intake == IntakeConfig()
    assert config.limits == LimitsConfig()
    assert config.outbox == OutboxConfig()
    assert config.admins == ()


def test_settings_and_admins_are_read(tmp_path: Path) -> None:
    tables = "[intake]\nmax_photos = 3\nalbum_settle_s = 2\n[telegram]\nrate_limiter = false\n"
    config = load_config(write_config(tmp_path, tables, top="admins = [42, 7]\n"))
    assert config.intake.max_photos == 3
    assert config.intake.album_settle_s == 2.0 and isinstance(config.intake.album_settle_s, float)
    assert config.telegram.rate_limiter is False
    assert config.admins == (42, 7)


def test_the_hotline_section_is_read_and_checked(tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path)).hotline.callback_tries == 3
    assert load_config(write_config(tmp_path, "[hotline]\ncallback_tries = 5\n")).hotline.callback_tries == 5
    for bad in ("callback_tries = 0", "callback_tries = \"3\"", "tries = 3"):
        with pytest.raises(ConfigError) as error:
            load_config(write_config(tmp_path, f"[hotline]\n{bad}\n"))
        assert "hotline" in str(error.value) and "tries" in str(error.value), bad


def test_relative_paths_resolve_against_the_config_directory(tmp_path: Path, monkeypatch: Any) -> None:
    deploy = tmp_path / "deploy"
    write_city(deploy / "cities", name="t.toml")
    (deploy / "bot.toml").write_text(
        'city = "cities/t.toml"\n[storage]\ndatabase = "var/bot.sqlite3"\n', encoding="utf-8"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config("../deploy/bot.toml")
    assert config.storage.database == deploy.resolve() / "var" / "bot.sqlite3"
    assert config.path == deploy.resolve() / "bot.toml"
    assert config.city.name_en == "Testville"


def test_absolute_database_path_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "abs" / "db.sqlite3"
    config_path = write_config(tmp_path)
    config_path.write_text(f'city = "city.toml"\n[storage]\ndatabase = "{target.as_posix()}"\n', encoding="utf-8")
    assert load_config(config_path).storage.database == target


def test_city_lookups_and_names(tmp_path: Path) -> None:
    city: City = load_city(write_city(tmp_path))
    assert city.unit("park").name("en") == "The Park"
    assert city.unit("park").name("zh") == "园区"
    assert city.unit("park").name("en-US") == "The Park"
    assert city.unit("park").name("de") == "园区"  # Chinese is the default
    assert city.category("potholes").name("en") == "Potholes"
    assert city.place("station").name("zh") == "火车站"
    assert city.group("north_group").unit == "north"
    for lookup in (city.unit, city.category, city.place, city.group):
        with pytest.raises(KeyError):
            lookup("nowhere")


def test_category_routes_override_per_district(tmp_path: Path) -> None:
    category = load_city(write_city(tmp_path)).category("potholes")
    assert category.route_in("south") == "local"
    assert category.route_in("north") == "roads"
    assert category.route_in(None) == "roads"
    assert category.keywords == ("学校",)


def test_loaded_config_cannot_be_changed(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.intake.max_photos = 99  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.city.category("potholes").routes["north"] = "local"  # type: ignore[index]
    assert isinstance(config.city.units, tuple)


def test_loaded_config_survives_pickling_and_is_hashable(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    config.city.unit("north")  # fills the lookup cache first
    assert pickle.loads(pickle.dumps(config)) == config
    potholes = config.city.category("potholes")
    assert {potholes: 1}[dataclasses.replace(potholes)] == 1


# --------------------------------------------------------------------------------------------------------------
# The token


def test_token_is_read_from_the_environment(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    assert load_config(write_config(tmp_path)).token() == "123:abc"


def test_token_env_names_another_variable(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "wrong")
    monkeypatch.setenv("FUYANG_TOKEN", "456:def")
    config = load_config(write_config(tmp_path, '[telegram]\ntoken_env = "FUYANG_TOKEN"\n'))
    assert config.token() == "456:def"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_token_says_which_variable_to_set(tmp_path: Path, monkeypatch: Any, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    else:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", value)
    config = load_config(write_config(tmp_path))
    expect_error(config.token, config.path, "telegram.token_env", "set TELEGRAM_BOT_TOKEN")


def test_token_env_must_be_a_variable_name(tmp_path: Path) -> None:
    config_error(
        tmp_path,
        "telegram.token_env",
        "environment variable",
        '"123:abc"',
        tables='[telegram]\ntoken_env = "123:abc"\n',
    )


# --------------------------------------------------------------------------------------------------------------
# Unreadable files


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('city = "city.toml\n', encoding="utf-8")
    expect_error(lambda: load_config(path), path, None, "invalid TOML", "line 1")


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    expect_error(lambda: load_config(path), path, None, "file not found")


def test_missing_city_file_names_the_city_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('city = "cities/gone.toml"\n' + CONFIG_STORAGE, encoding="utf-8")
    expect_error(lambda: load_config(path), path, "city", "no such file", "gone.toml")


def test_city_problems_name_the_city_file(tmp_path: Path) -> None:
    config_path = write_config(tmp_path, city=city_toml(('timezone = "Asia/Shanghai"', 'timezone = "Mars/Base"')))
    expect_error(lambda: load_config(config_path), tmp_path / "city.toml", "timezone", '"Mars/Base"')


def test_city_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "city.toml"
    path.write_bytes('name_zh = "阜阳"\n'.encode("gb18030"))
    expect_error(lambda: load_city(path), path, None, "not UTF-8")


# --------------------------------------------------------------------------------------------------------------
# The deployment config: unknown keys, types, limits


def test_unknown_key_suggests_the_closest_known_key(tmp_path: Path) -> None:
    message = config_error(tmp_path, "intake", tables="[intake]\nmax_photo = 3\n")
    assert message.endswith("unknown key 'max_photo' (did you mean 'max_photos'?)")


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    config_error(tmp_path, None, "unknown key 'citty'", "did you mean 'city'?", top='citty = "x"\n')


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    config_error(tmp_path, None, "unknown key 'webhook'", "known keys:", tables="[webhook]\nport = 8443\n")


def test_unknown_storage_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_city(tmp_path)
    path.write_text('city = "city.toml"\n[storage]\ndatabase = "x"\ndatabse = "y"\n', encoding="utf-8")
    expect_error(lambda: load_config(path), path, "storage", "unknown key 'databse'", "'database'")


def test_wrong_type_names_file_key_and_value(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[intake]\nmax_photos = "six"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f'{path}: intake.max_photos: must be an integer ≥ 1, got "six"'


NUMERIC_SETTINGS = [
    (section, f.name, f.type)
    for section, cls in (
        ("telegram", TelegramConfig),
        ("intake", IntakeConfig),
        ("limits", LimitsConfig),
        ("outbox", OutboxConfig),
    )
    for f in dataclasses.fields(cls)
    if f.type in ("int", "float")
]


@pytest.mark.parametrize(("section", "name", "kind"), NUMERIC_SETTINGS)
@pytest.mark.parametrize("value", ["0", "-1"])
def test_non_positive_numbers_are_refused(tmp_path: Path, section: str, name: str, kind: str, value: str) -> None:
    expected = "must be an integer ≥ 1" if kind == "int" else "must be a number > 0"
    config_error(tmp_path, f"{section}.{name}", expected, f"got {value}", tables=f"[{section}]\n{name} = {value}\n")


@pytest.mark.parametrize(("section", "name", "kind"), NUMERIC_SETTINGS)
def test_a_boolean_is_not_a_number(tmp_path: Path, section: str, name: str, kind: str) -> None:
    config_error(tmp_path, f"{section}.{name}", "got true", tables=f"[{section}]\n{name} = true\n")


def test_a_fraction_is_not_an_integer(tmp_path: Path) -> None:
    config_error(tmp_path, "limits.tickets_per_day", "integer", "got 2.5", tables="[limits]\ntickets_per_day = 2.5\n")


def test_nan_is_not_a_number(tmp_path: Path) -> None:
    config_error(tmp_path, "outbox.backoff_max_s", "number > 0", tables="[outbox]\nbackoff_max_s = nan\n")


def test_a_string_is_not_a_boolean(tmp_path: Path) -> None:
    config_error(
        tmp_path, "telegram.rate_limiter", "true or false", '"yes"', tables='[telegram]\nrate_limiter = "yes"\n'
    )


def test_a_section_must_be_a_table(tmp_path: Path) -> None:
    config_error(tmp_path, "limits", "must be a table", top="limits = 5\n")


def test_base_url_must_be_http(tmp_path: Path) -> None:
    config_error(tmp_path, "telegram.base_url", "http://", tables='[telegram]\nbase_url = "localhost:8081/bot"\n')


def test_description_min_above_max_is_refused(tmp_path: Path) -> None:
    tables = "[intake]\ndescription_min_chars = 200\ndescription_max_chars = 100\n"
    config_error(tmp_path, "intake.description_min_chars", "description_max_chars (100)", "got 200", tables=tables)


def test_more_photos_than_one_album_is_refused(tmp_path: Path) -> None:
    config_error(tmp_path, "intake.max_photos", "at most 10", tables="[intake]\nmax_photos = 11\n")


def test_description_longer_than_a_message_is_refused(tmp_path: Path) -> None:
    config_error(
        tmp_path, "intake.description_max_chars", "at most 4096", tables="[intake]\ndescription_max_chars = 5000\n"
    )


def test_backoff_base_above_max_is_refused(tmp_path: Path) -> None:
    tables = "[outbox]\nbackoff_base_s = 10\nbackoff_max_s = 5\n"
    config_error(tmp_path, "outbox.backoff_base_s", "backoff_max_s (5)", tables=tables)


@pytest.mark.parametrize(
    ("admins", "key", "fragment"),
    [
        ('"42"', "admins", "array of Telegram user ids"),
        ("[42, 0]", "admins[1]", "got 0"),
        ("[true]", "admins[0]", "got true"),
        ("[42, 42]", "admins[1]", "duplicate"),
    ],
)
def test_admins_must_be_distinct_user_ids(tmp_path: Path, admins: str, key: str, fragment: str) -> None:
    config_error(tmp_path, key, fragment, top=f"admins = {admins}\n")


def test_missing_city_key_is_required(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG_STORAGE, encoding="utf-8")
    expect_error(lambda: load_config(path), path, "city", "required key is missing")


def test_missing_storage_section_is_required(tmp_path: Path) -> None:
    write_city(tmp_path)
    path = tmp_path / "config.toml"
    path.write_text(CONFIG_TOP, encoding="utf-8")
    expect_error(lambda: load_config(path), path, "storage", "required key is missing")


def test_missing_database_is_required(tmp_path: Path) -> None:
    write_city(tmp_path)
    path = tmp_path / "config.toml"
    path.write_text(CONFIG_TOP + "[storage]\n", encoding="utf-8")
    expect_error(lambda: load_config(path), path, "storage.url", "required key is missing")


def test_storage_url_selects_postgresql_and_never_holds_a_password(tmp_path: Path) -> None:
    write_city(tmp_path)
    path = tmp_path / "config.toml"
    url = "postgresql://bot@db.example:5432/complaints"
    path.write_text(CONFIG_TOP + f'[storage]\nurl = "{url}"\n', encoding="utf-8")
    config = load_config(path)
    assert (config.storage.database, config.storage.is_postgresql) == (url, True)
    path.write_text(CONFIG_TOP + '[storage]\nurl = "postgresql://bot:secret@db.example:5432/complaints"\n',
                    encoding="utf-8")
    expect_error(lambda: load_config(path), path, "storage.url", "must not contain a password", "PGPASSWORD")
    path.write_text(CONFIG_TOP + '[storage]\nurl = "mysql://bot@db.example/complaints"\n', encoding="utf-8")
    expect_error(lambda: load_config(path), path, "storage.url", "unknown database URL scheme")
    path.write_text(CONFIG_TOP + '[storage]\nurl = "var/bot.sqlite3"\n', encoding="utf-8")
    assert load_config(path).storage.database == tmp_path.resolve() / "var" / "bot.sqlite3"


# --------------------------------------------------------------------------------------------------------------
# The city: structure


def test_unknown_key_in_a_city_entry_suggests_the_closest(tmp_path: Path) -> None:
    text = city_toml(('name_en = "The Park"', 'nmae_en = "The Park"'))
    city_error(tmp_path, text, "units[2]", "unknown key 'nmae_en'", "(did you mean 'name_en'?)")


def test_missing_required_city_entry_key(tmp_path: Path) -> None:
    text = city_toml(('name_en = "The Park"\n', ""))
    city_error(tmp_path, text, "units[2].name_en", "required key is missing")


def test_empty_name_is_refused(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(('name_zh = "园区"', 'name_zh = "  "')), "units[2].name_zh", "non-empty string")


@pytest.mark.parametrize("bad", ["Park", "1park", "park-east", "公园", "p" * 33])
def test_keys_are_short_lowercase_identifiers(tmp_path: Path, bad: str) -> None:
    city_error(tmp_path, city_toml(('key = "park"', f'key = "{bad}"')), "units[2].key", "lowercase")


@pytest.mark.parametrize(
    ("entry", "index"),
    [
        ('[[units]]\nkey = "north"\nkind = "district"\nname_zh = "又北区"\nname_en = "North again"\n', "units[4]"),
        (
            '[[categories]]\nkey = "lights"\nname_zh = "灯"\nname_en = "Lamps"\ndeadline_class = "general"\n'
            'route = "local"\n',
            "categories[2]",
        ),
        (
            '[[places]]\nkey = "station"\nname_zh = "新站"\nname_en = "New station"\nunit = "south"\n'
            "lat = 30.1\nlon = 110.1\n",
            "places[1]",
        ),
        ('[[groups]]\nkey = "coord"\ntitle = "监督"\nrole = "supervision"\n', "groups[2]"),
    ],
)
def test_duplicate_keys_are_refused(tmp_path: Path, entry: str, index: str) -> None:
    message = city_error(tmp_path, city_toml(extra=entry), f"{index}.key", "duplicate key")
    assert "already used by" in message


def test_unknown_timezone_is_refused(tmp_path: Path) -> None:
    text = city_toml(('timezone = "Asia/Shanghai"', 'timezone = "China/Fuyang"'))
    city_error(tmp_path, text, "timezone", "unknown time zone", '"China/Fuyang"')


def test_bounds_south_must_be_below_north(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(("south = 30.0", "south = 31.0")), "bounds.south", "less than north")


def test_bounds_west_must_be_below_east(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(("west = 110.0", "west = 112.0")), "bounds.west", "less than east")


def test_bounds_must_be_real_coordinates(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(("north = 31.0", "north = 91.0")), "bounds.north", "between -90 and 90")


def test_bounds_are_required(tmp_path: Path) -> None:
    text = city_toml(("[bounds]\nsouth = 30.0\nwest = 110.0\nnorth = 31.0\neast = 111.0\n", ""))
    city_error(tmp_path, text, "bounds", "required key is missing")


def test_unknown_unit_kind_is_refused(tmp_path: Path) -> None:
    text = city_toml(('kind = "zone"', 'kind = "park"'))
    city_error(tmp_path, text, "units[2].kind", '"district", "department", "zone"', 'got "park"')


# --------------------------------------------------------------------------------------------------------------
# The city: categories and routing

NO_CATEGORIES = CITY[: CITY.index("[[categories]]")] + CITY[CITY.index("[[places]]") :]


def test_at_least_one_category_is_required(tmp_path: Path) -> None:
    city_error(tmp_path, NO_CATEGORIES, "categories", "required key is missing")


def test_an_empty_category_list_is_refused(tmp_path: Path) -> None:
    text = city_toml(('timezone = "Asia/Shanghai"\n', 'timezone = "Asia/Shanghai"\ncategories = []\n'),
                     base=NO_CATEGORIES)
    city_error(tmp_path, text, "categories", "at least one category")


def test_unknown_deadline_class_is_refused(tmp_path: Path) -> None:
    text = city_toml(('deadline_class = "general"', 'deadline_class = "urgent"'))
    city_error(tmp_path, text, "categories[1].deadline_class", '"immediate", "general", "complex"')


def test_category_routed_to_a_missing_unit_is_refused(tmp_path: Path) -> None:
    text = city_toml(('route = "roads"', 'route = "raods"'))
    city_error(tmp_path, text, "categories[1].route", "no such unit", "did you mean 'roads'?")


def test_routes_key_must_be_a_district_not_a_department(tmp_path: Path) -> None:
    text = city_toml(('routes = { south = "local" }', 'routes = { roads = "local" }'))
    city_error(tmp_path, text, "categories[1].routes", "'roads' is not a district", "department")


def test_routes_key_must_be_a_district_not_a_zone(tmp_path: Path) -> None:
    text = city_toml(('routes = { south = "local" }', 'routes = { park = "local" }'))
    city_error(tmp_path, text, "categories[1].routes", "'park' is not a district", "zone")


def test_routes_key_must_be_an_existing_unit(tmp_path: Path) -> None:
    text = city_toml(('routes = { south = "local" }', 'routes = { east = "local" }'))
    city_error(tmp_path, text, "categories[1].routes", "'east' is not a district", "no unit has that key")


def test_routes_value_must_be_an_existing_unit(tmp_path: Path) -> None:
    text = city_toml(('routes = { south = "local" }', 'routes = { south = "bridges" }'))
    city_error(tmp_path, text, "categories[1].routes.south", "no such unit")


def test_local_route_needs_a_district(tmp_path: Path) -> None:
    no_district = CITY.replace('kind = "district"', 'kind = "zone"')
    text = city_toml(('routes = { south = "local" }\n', ""), base=no_district)
    city_error(tmp_path, text, "categories[0].route", '"local" needs at least one unit of kind "district"')


def test_keywords_must_be_strings(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(('keywords = ["学校"]', 'keywords = ["学校", 3]')), "categories[1].keywords[1]")


# --------------------------------------------------------------------------------------------------------------
# The city: places


def test_place_in_a_missing_unit_is_refused(tmp_path: Path) -> None:
    text = city_toml(('unit = "north"\nlat', 'unit = "east"\nlat'))
    city_error(tmp_path, text, "places[0].unit", "district or zone", '"east"')


def test_place_in_a_department_is_refused(tmp_path: Path) -> None:
    text = city_toml(('unit = "north"\nlat', 'unit = "roads"\nlat'))
    city_error(tmp_path, text, "places[0].unit", "that unit is a department")


def test_place_latitude_must_be_valid(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(("lat = 30.5", "lat = 95")), "places[0].lat", "between -90 and 90", "got 95")


def test_place_longitude_must_be_a_number(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(("lon = 110.5", 'lon = "110.5"')), "places[0].lon", "must be a number")


def test_place_north_of_the_bounds_is_refused(tmp_path: Path) -> None:
    text = city_toml(("lat = 30.5", "lat = 32.0"))
    city_error(tmp_path, text, "places[0].lat", "(32, 110.5) lies outside the city's bounds", "north 31")


def test_place_east_of_the_bounds_is_refused(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(("lon = 110.5", "lon = 111.5")), "places[0].lon", "outside the city's bounds")


def test_two_places_cannot_share_a_name_or_alias(tmp_path: Path) -> None:
    entry = (
        '[[places]]\nkey = "old_station"\nname_zh = "老站"\nname_en = "Old station"\naliases = ["车站"]\n'
        'unit = "south"\nlat = 30.1\nlon = 110.1\n'
    )
    city_error(tmp_path, city_toml(extra=entry), "places[1].aliases", '"车站" is already a name or alias', "'station'")


# --------------------------------------------------------------------------------------------------------------
# The city: groups


def test_unit_group_needs_a_unit(tmp_path: Path) -> None:
    text = city_toml(('role = "unit"\nunit = "north"\n', 'role = "unit"\n'))
    city_error(tmp_path, text, "groups[1].unit", "required key is missing")


def test_unit_group_needs_an_existing_unit(tmp_path: Path) -> None:
    text = city_toml(('role = "unit"\nunit = "north"', 'role = "unit"\nunit = "nort"'))
    city_error(tmp_path, text, "groups[1].unit", '"nort"', "did you mean 'north'?")


def test_coordination_group_has_no_unit(tmp_path: Path) -> None:
    text = city_toml(('role = "coordination"\n', 'role = "coordination"\nunit = "north"\n'))
    city_error(tmp_path, text, "groups[0].unit", 'only a group with role "unit"')


@pytest.mark.parametrize("role", ["coordination", "supervision"])
def test_at_most_one_coordination_and_one_supervision_group(tmp_path: Path, role: str) -> None:
    entries = "".join(f'\n[[groups]]\nkey = "{role}_{i}"\ntitle = "组{i}"\nrole = "{role}"\n' for i in (1, 2))
    # For "coordination" the first one clashes with the existing groups[0]; for "supervision" the second new one.
    index = 2 if role == "coordination" else 3
    city_error(tmp_path, city_toml(extra=entries), f"groups[{index}].role", f"only one {role} group")


def test_a_unit_has_at_most_one_group(tmp_path: Path) -> None:
    entry = '\n[[groups]]\nkey = "north_again"\ntitle = "北区二群"\nrole = "unit"\nunit = "north"\n'
    city_error(tmp_path, city_toml(extra=entry), "groups[2].unit", "already has a group", "groups[1]")


def test_unknown_group_role_is_refused(tmp_path: Path) -> None:
    text = city_toml(('role = "coordination"', 'role = "coordinators"'))
    city_error(tmp_path, text, "groups[0].role", '"unit", "coordination", "supervision"')


# --------------------------------------------------------------------------------------------------------------
# [handling] group_language: the language of the group chats


def test_group_language_defaults_to_chinese(tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path)).handling.group_language == "zh"
    assert HandlingConfig().group_language == "zh"


def test_the_example_keeps_chinese_group_chats() -> None:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert raw["handling"]["group_language"] == "zh"


def test_english_group_chats_are_accepted(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, '[handling]\ngroup_language = "en"\n'))
    assert config.handling.group_language == "en"


def test_a_language_without_a_catalogue_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[handling]\ngroup_language = "fr"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f'{path}: handling.group_language: must be one of "zh", "en", got "fr"'
