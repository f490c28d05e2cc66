"""[zones] in the city file: the GeoJSON is read, converted to WGS84, and every broken file is refused with one
message naming the file, the feature and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from fast_geocn.coord import bd09_to_wgs84, gcj02_to_wgs84

from bot.config import City, load_city, load_config
from tests.unit.city_builder import city_toml, expect_error, write_city


def zones_table(**keys: str | None) -> str:
    """The city's [zones] table: ``file = "zones.geojson"`` and ``crs = "wgs84"``, each overridden by ``keys`` (None
    leaves it out; other keys are added)."""
    values = {"file": "zones.geojson", "crs": "wgs84", **keys}
    return "[zones]\n" + "".join(f'{key} = "{value}"\n' for key, value in values.items() if value is not None)


# The minimal city whose [zones] file is zones.geojson in WGS84.
CITY = city_toml(extra=zones_table())


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(unit: str, geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"unit": unit, **properties}, "geometry": geometry}


def valid_features() -> list[dict[str, Any]]:
    """North half, south half, and a park straddling nothing: inside the north district."""
    return [
        feature("north", box(110.0, 30.5, 111.0, 31.0)),
        feature("south", box(110.0, 30.0, 111.0, 30.5), priority=0, approximate=False, name="南区"),
        feature("park", box(110.2, 30.6, 110.4, 30.8), priority=10, approximate=True, note="drawn by hand"),
    ]


def write(tmp_path: Path, features: list[Any] | None = None, *, city: str = CITY, raw: str | None = None) -> Path:
    path = write_city(tmp_path, city)
    collection = {"type": "FeatureCollection", "features": valid_features() if features is None else features}
    text = raw if raw is not None else json.dumps(collection, ensure_ascii=False)
    (tmp_path / "zones.geojson").write_text(text, encoding="utf-8")
    return path


def zones_error(tmp_path: Path, key: str | None, *fragments: str, **kwargs: Any) -> str:
    """Loading fails with "<zones file>: <key>: <problem>" containing every fragment, on one line."""
    path = write(tmp_path, **kwargs)
    return expect_error(lambda: load_city(path), tmp_path / "zones.geojson", key, *fragments)


def city_error(tmp_path: Path, city: str, key: str, *fragments: str) -> str:
    """Loading fails with "<city file>: <key>: <problem>"; the zones file beside it is the valid one."""
    path = write(tmp_path, city=city)
    return expect_error(lambda: load_city(path), path, key, *fragments)


# --------------------------------------------------------------------------------------------------------------
# What loads


def test_zones_load_with_their_properties_and_defaults(tmp_path: Path) -> None:
    city = load_city(write(tmp_path))
    assert [(z.unit, z.priority, z.approximate) for z in city.zones] == [
        ("north", 0, False),
        ("south", 0, False),
        ("park", 10, True),
    ]
    assert city.zones[2].geometry.equals(shapely.box(110.2, 30.6, 110.4, 30.8))


def test_the_city_router_uses_the_zones_and_the_categories(tmp_path: Path) -> None:
    city = load_city(write(tmp_path))
    assert city.router().route("lights", lat=30.7, lon=110.3).unit == "park"
    assert city.router().route("lights", lat=30.7, lon=110.8).unit == "north"
    assert city.router().route("lights", lat=30.2, lon=110.3).unit == "south"
    assert city.router() is city.router()


def test_a_city_without_zones_routes_local_cases_to_the_coordinators(tmp_path: Path) -> None:
    city = load_city(write(tmp_path, city=city_toml()))
    assert city.zones == ()
    route = city.router().route("lights", lat=30.7, lon=110.3)
    assert (route.unit, route.kind, route.reason_key) == (None, "none", "route.no_zone")


def test_the_zones_file_is_relative_to_the_city_file_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cities"
    folder.mkdir()
    write(folder)
    (tmp_path / "config.toml").write_text('city = "cities/city.toml"\n[storage]\ndatabase = "db.sqlite3"\n')
    monkeypatch.chdir(tmp_path.parent)
    assert len(load_config(tmp_path / "config.toml").city.zones) == 3
    monkeypatch.chdir(folder)
    assert len(load_city("city.toml").zones) == 3


@pytest.mark.parametrize("crs, convert", [("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)])
def test_chinese_map_coordinates_are_converted_to_wgs84(tmp_path: Path, crs: str, convert: Any) -> None:
    # Converted outlines move by hundreds of metres: widen the bounds so the districts' outer edges stay inside.
    wider = (("south = 30.0", "south = 29.9"), ("west = 110.0", "west = 109.9"), ("north = 31.0", "north = 31.1"))
    text = city_toml(*wider, extra=zones_table(crs=crs))
    city = load_city(write(tmp_path, city=text))
    park = next(z for z in city.zones if z.unit == "park").geometry
    given = shapely.box(110.2, 30.6, 110.4, 30.8)
    expected = shapely.Polygon([convert(x, y) for x, y in shapely.get_coordinates(given)])
    assert park.normalize().equals_exact(expected.normalize(), 1e-12)
    assert given.hausdorff_distance(park) > 0.001  # a real shift (hundreds of metres), not a no-op


def test_loaded_zones_survive_pickling_and_hashing(tmp_path: Path) -> None:
    import pickle

    city: City = load_city(write(tmp_path))
    city.router()
    copy = pickle.loads(pickle.dumps(city))
    assert copy == city and hash(copy) == hash(city)
    assert copy.router().route("lights", lat=30.7, lon=110.3).unit == "park"


# --------------------------------------------------------------------------------------------------------------
# The [zones] table


def test_a_missing_zones_file_is_named(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(extra=zones_table(file="nowhere.geojson")), "zones.file",
               "no such file", "nowhere.geojson")


def test_the_crs_is_required(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(extra=zones_table(crs=None)), "zones.crs", "required")


def test_an_unknown_crs_is_refused(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(extra=zones_table(crs="epsg3857")), "zones.crs",
               '"wgs84", "gcj02", "bd09"', '"epsg3857"')


def test_an_unknown_key_in_zones_is_refused(tmp_path: Path) -> None:
    city_error(tmp_path, city_toml(extra=zones_table(fiel="x")), "zones", "'fiel'")


# --------------------------------------------------------------------------------------------------------------
# The GeoJSON file


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    zones_error(tmp_path, None, "not GeoJSON", "invalid JSON", raw="{ not json")


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "Feature", "properties": {}, "geometry": null}',
        '{"type": "FeatureCollection"}',
        '{"type": "FeatureCollection", "features": {}}',
        "[1, 2]",
    ],
)
def test_json_that_is_not_a_feature_collection_is_refused(tmp_path: Path, raw: str) -> None:
    zones_error(tmp_path, None, "not GeoJSON", "FeatureCollection", raw=raw)


def test_a_feature_that_is_not_a_feature_is_refused(tmp_path: Path) -> None:
    features = valid_features()
    features[1] = box(110.0, 30.0, 111.0, 30.5)  # a bare geometry
    zones_error(tmp_path, "features[1]", '"Feature"', features=features)


def test_a_feature_without_properties_is_refused(tmp_path: Path) -> None:
    features = valid_features()
    del features[0]["properties"]
    zones_error(tmp_path, "features[0].properties", '"unit"', features=features)


def test_a_feature_without_unit_is_refused(tmp_path: Path) -> None:
    features = valid_features()
    del features[2]["properties"]["unit"]
    zones_error(tmp_path, "features[2].properties.unit", "required", features=features)


def test_an_unknown_unit_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    features = valid_features()
    features[0]["properties"]["unit"] = "nroth"
    zones_error(tmp_path, "features[0].properties.unit", '"nroth"', "did you mean 'north'", features=features)


def test_a_department_is_not_a_zone(tmp_path: Path) -> None:
    features = [*valid_features(), feature("roads", box(110.5, 30.5, 110.6, 30.6))]
    zones_error(tmp_path, "features[3].properties.unit", "'roads' is a department", features=features)


def test_an_unknown_property_is_refused(tmp_path: Path) -> None:
    features = valid_features()
    features[2]["properties"]["priorty"] = 10
    zones_error(tmp_path, "features[2].properties", "'priorty'", "did you mean 'priority'", features=features)


@pytest.mark.parametrize("value, shown", [(-1, "-1"), (1.5, "1.5"), ("10", '"10"'), (True, "true")])
def test_priority_must_be_a_non_negative_integer(tmp_path: Path, value: Any, shown: str) -> None:
    features = valid_features()
    features[2]["properties"]["priority"] = value
    zones_error(tmp_path, "features[2].properties.priority", "integer ≥ 0", shown, features=features)


def test_approximate_must_be_a_boolean(tmp_path: Path) -> None:
    features = valid_features()
    features[2]["properties"]["approximate"] = "yes"
    zones_error(tmp_path, "features[2].properties.approximate", '"yes"', features=features)


@pytest.mark.parametrize(
    "geometry, fragment",
    [
        (None, "got null"),
        ({"type": "Point", "coordinates": [110.5, 30.5]}, '"Point"'),
        ({"type": "LineString", "coordinates": [[110.1, 30.1], [110.2, 30.2]]}, '"LineString"'),
    ],
)
def test_a_geometry_that_is_no_polygon_is_refused(tmp_path: Path, geometry: Any, fragment: str) -> None:
    features = valid_features()
    features[1]["geometry"] = geometry
    zones_error(tmp_path, "features[1].geometry", "must be a Polygon or MultiPolygon", fragment, features=features)


def test_an_empty_polygon_is_refused(tmp_path: Path) -> None:
    features = valid_features()
    features[2]["geometry"] = {"type": "Polygon", "coordinates": []}
    zones_error(tmp_path, "features[2].geometry", "is empty", features=features)


def test_unreadable_coordinates_are_refused(tmp_path: Path) -> None:
    features = valid_features()
    features[2]["geometry"] = {"type": "Polygon", "coordinates": [[[110.2, 30.6], [110.3, 30.7]]]}
    zones_error(tmp_path, "features[2].geometry", "cannot be read as a Polygon", features=features)


def test_a_self_intersecting_polygon_is_refused_with_the_reason(tmp_path: Path) -> None:
    features = valid_features()
    bowtie = [[110.2, 30.6], [110.4, 30.8], [110.4, 30.6], [110.2, 30.8], [110.2, 30.6]]
    features[2]["geometry"] = {"type": "Polygon", "coordinates": [bowtie]}
    zones_error(tmp_path, "features[2].geometry", "is not a valid Polygon", "Self-intersection", features=features)


def test_a_nan_coordinate_is_refused(tmp_path: Path) -> None:
    raw = json.dumps({"type": "FeatureCollection", "features": valid_features()}).replace("110.4", "NaN", 1)
    zones_error(tmp_path, "features[2].geometry", "not a finite number", raw=raw)


def test_swapped_latitude_and_longitude_are_caught(tmp_path: Path) -> None:
    features = valid_features()
    features[2]["geometry"] = box(30.6, 110.2, 30.8, 110.4)  # [lat, lon]: far outside the city
    zones_error(tmp_path, "features[2].geometry", "outside the city's bounds", "[longitude, latitude]",
                features=features)


def test_a_zone_reaching_beyond_the_bounds_is_refused(tmp_path: Path) -> None:
    features = valid_features()
    features[0]["geometry"] = box(110.0, 30.5, 111.2, 31.0)
    zones_error(tmp_path, "features[0].geometry", "extends beyond the city's bounds", "widen [bounds]",
                features=features)


@pytest.mark.parametrize("missing, kind", [("south", "district"), ("park", "zone")])
def test_every_district_and_zone_needs_a_feature_once_zones_are_configured(
    tmp_path: Path, missing: str, kind: str
) -> None:
    features = [f for f in valid_features() if f["properties"]["unit"] != missing]
    zones_error(tmp_path, None, f"unit {missing!r} ({kind}) has no feature", features=features)


def test_a_unit_may_have_several_features(tmp_path: Path) -> None:
    features = [*valid_features(), feature("park", box(110.6, 30.6, 110.7, 30.7), priority=10)]
    city = load_city(write(tmp_path, features=features))
    assert city.router().route("lights", lat=30.65, lon=110.65).unit == "park"


def test_the_example_zones_file_is_valid_and_covers_every_district_and_the_park() -> None:
    repo = Path(__file__).resolve().parents[2]
    city = load_config(repo / "config.example.toml").city
    by_unit = {z.unit: z for z in city.zones}
    assert set(by_unit) == {u.key for u in city.units if u.kind != "department"}
    assert (by_unit["fuhe_park"].priority, by_unit["fuhe_park"].approximate) == (10, True)
    assert all(z.priority == 0 and not z.approximate for z in city.zones if z.unit != "fuhe_park")
    assert (repo / "examples/fuyang/zones.geojson").stat().st_size < 100_000


# --------------------------------------------------------------------------------------------------------------
# complaint-bot zones: the export that produced the example file


REPO = Path(__file__).resolve().parents[2]
FUYANG = REPO / "examples" / "fuyang"


def test_the_export_reproduces_the_committed_example_zones() -> None:
    from bot.cli_zones import build

    built = build(city=None, city_file=FUYANG / "city.toml", include=[FUYANG / "fuhe_park.geojson"])
    committed = json.loads((FUYANG / "zones.geojson").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(built["features"])) == committed["features"]
    assert "complaint-bot zones" in committed["description"]


def test_the_exported_file_loads_and_routes(tmp_path: Path) -> None:
    import argparse

    from bot.cli_zones import run

    out = tmp_path / "zones.geojson"
    args = argparse.Namespace(city=None, city_file=FUYANG / "city.toml", include=[FUYANG / "fuhe_park.geojson"],
                              simplify_m=100.0, out=out)
    assert run(args) == 0
    text = (FUYANG / "city.toml").read_text(encoding="utf-8")
    (tmp_path / "city.toml").write_text(text, encoding="utf-8")
    city = load_city(tmp_path / "city.toml")
    assert city.router().route("municipal", lat=32.8220, lon=115.8620).unit == "fuhe_park"
    assert shapely.coverage_is_valid([z.geometry for z in city.zones if z.unit != "fuhe_park"])


def test_without_a_city_file_the_units_are_names_to_replace() -> None:
    from bot.cli_zones import build

    built = build(city="阜阳市")
    assert sorted(f["properties"]["unit"] for f in built["features"]) == sorted(
        ["颍州区", "颍泉区", "颍东区", "界首市", "临泉县", "太和县", "阜南县", "颍上县"]
    )


def test_an_unknown_city_is_refused_with_a_clear_message() -> None:
    from bot.cli_zones import ZonesError, build

    with pytest.raises(ZonesError, match="no prefecture-level city named '阜阳县'"):
        build(city="阜阳县")


def test_district_names_that_do_not_match_the_city_file_are_listed(tmp_path: Path) -> None:
    from bot.cli_zones import ZonesError, build

    text = (FUYANG / "city.toml").read_text(encoding="utf-8").replace('name_zh = "界首市"', 'name_zh = "界首"')
    (tmp_path / "city.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ZonesError, match="not in the city file: 界首市; not in 阜阳市: 界首"):
        build(city=None, city_file=tmp_path / "city.toml")


def test_the_sub_command_registers_its_options() -> None:
    import argparse

    from bot.cli_zones import register

    parser = argparse.ArgumentParser(prog="complaint-bot")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["zones", "--city", "阜阳市", "--simplify-m", "50", "--out", "z.geojson"])
    assert (args.command, args.city, args.simplify_m, args.out, args.include) == (
        "zones", "阜阳市", 50.0, Path("z.geojson"), [],
    )
