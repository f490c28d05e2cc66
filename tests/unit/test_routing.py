"""bot.domain.routing: zones with priorities, category rules, typed places, ties and borders; the Fuyang example."""

from __future__ import annotations

import functools
import math
import pickle
import random
import string
from pathlib import Path

import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from bot.config import City, load_config
from bot.domain.routing import REASON_PARAMS, CategoryRule, Route, Router, Zone
from bot.texts import LANGUAGES, catalogue

REPO = Path(__file__).resolve().parents[2]
DISTRICTS = ("yingzhou", "yingquan", "yingdong", "jieshou", "linquan", "taihe", "funan", "yingshang")
# Categories of the example city that go to the local unit everywhere.
LOCAL_CATEGORIES = ("housing", "city_management", "rural", "environment", "municipal", "health", "other")
# 合肥大道 in 阜合园区, where the street light burned in daylight (the place "hefei_avenue" of city.toml).
HEFEI_AVENUE = (32.8220, 115.8620)
YINGZHOU_GOVERNMENT = (32.8830, 115.8120)


@functools.cache
def example_city() -> City:
    return load_config(REPO / "config.example.toml").city


@pytest.fixture(scope="module")
def city() -> City:
    return example_city()


@pytest.fixture(scope="module")
def router(city: City) -> Router:
    return city.router()


def park(city: City) -> shapely.Geometry:
    return next(z.geometry for z in city.zones if z.unit == "fuhe_park")


def interior_point(city: City, unit: str) -> tuple[float, float]:
    """A (lat, lon) well inside the unit's zone and outside every other zone (the park is cut out)."""
    geometry = shapely.union_all([z.geometry for z in city.zones if z.unit == unit])
    others = shapely.union_all([z.geometry for z in city.zones if z.unit != unit and z.priority > 0])
    inner = geometry.difference(others).buffer(-0.01)
    point = inner.representative_point()
    return point.y, point.x


# --------------------------------------------------------------------------------------------------------------
# The Fuyang example


def test_the_street_light_on_hefei_avenue_goes_to_the_park_not_the_district(router: Router) -> None:
    lat, lon = HEFEI_AVENUE
    route = router.route("municipal", lat=lat, lon=lon)
    assert route == Route(
        unit="fuhe_park",
        zone="fuhe_park",
        district="yingzhou",
        kind="local",
        reason_key="route.local_by_location",
        reason_params={"zone": "fuhe_park", "category": "municipal"},
    )


def test_the_park_outranks_the_district_it_was_carved_from(router: Router) -> None:
    zones = router.zones_at(*HEFEI_AVENUE)
    assert [z.unit for z in zones] == ["fuhe_park", "yingzhou"]
    assert zones[0].approximate and zones[0].priority > zones[1].priority


def test_a_point_in_yingzhou_outside_the_park_goes_to_yingzhou(router: Router) -> None:
    route = router.route("city_management", lat=YINGZHOU_GOVERNMENT[0], lon=YINGZHOU_GOVERNMENT[1])
    assert (route.unit, route.zone, route.district, route.kind) == ("yingzhou", "yingzhou", "yingzhou", "local")
    assert route.reason_params == {"zone": "yingzhou", "category": "city_management"}


@pytest.mark.parametrize("district", DISTRICTS)
def test_a_point_in_each_county_level_division_goes_to_it(city: City, router: Router, district: str) -> None:
    lat, lon = interior_point(city, district)
    route = router.route("housing", lat=lat, lon=lon)
    assert (route.unit, route.district, route.kind) == (district, district, "local")


@pytest.mark.parametrize("place", [p.key for p in example_city().places])
def test_every_example_place_lies_in_the_zone_of_its_own_unit(city: City, router: Router, place: str) -> None:
    p = city.place(place)
    assert router.zones_at(p.lat, p.lon)[0].unit == p.unit
    assert router.route("housing", lat=p.lat, lon=p.lon).unit == p.unit


def test_the_example_districts_cover_the_city_without_gaps_or_overlaps(city: City) -> None:
    districts = [z.geometry for z in city.zones if z.unit in DISTRICTS]
    assert len(districts) == len(DISTRICTS)
    assert shapely.coverage_is_valid(districts)
    assert park(city).within(next(z.geometry for z in city.zones if z.unit == "yingzhou"))


def test_outside_every_zone_goes_to_the_coordinators(city: City, router: Router) -> None:
    lat, lon = 33.55, 114.85  # inside the bounds rectangle, north-west of 临泉县
    assert city.bounds.contains(lat, lon)
    assert router.zones_at(lat, lon) == []
    route = router.route("municipal", lat=lat, lon=lon)
    assert (route.unit, route.zone, route.kind, route.reason_key) == (None, None, "none", "route.no_zone")
    assert route.reason_params == {"category": "municipal"}


def test_a_local_category_without_any_location_goes_to_the_coordinators(router: Router) -> None:
    route = router.route("municipal", lat=None, lon=None)
    assert (route.unit, route.kind, route.reason_key) == (None, "none", "route.no_location")


@pytest.mark.parametrize("lat, lon", [(math.nan, 115.8), (32.8, math.inf), (32.8, None), (None, 115.8), (95, 0)])
def test_an_invalid_location_counts_as_none(router: Router, lat: float | None, lon: float | None) -> None:
    if lat is not None and lon is not None:
        assert router.zones_at(lat, lon) == []
    route = router.route("municipal", lat=lat, lon=lon)
    assert (route.unit, route.reason_key) == (None, "route.no_location")


@pytest.mark.parametrize(
    "category, unit", [("education", "education"), ("labour", "hrss"), ("transport", "transport")]
)
def test_line_department_categories_go_to_the_department(router: Router, category: str, unit: str) -> None:
    lat, lon = HEFEI_AVENUE
    route = router.route(category, lat=lat, lon=lon)
    assert (route.unit, route.kind, route.reason_key) == (unit, "line", "route.line_department")
    assert route.reason_params == {"unit": unit, "category": category}
    assert (route.zone, route.district) == ("fuhe_park", "yingzhou")  # kept for the card and the ledger


def test_a_line_department_needs_no_location(router: Router) -> None:
    route = router.route("education", lat=None, lon=None)
    assert (route.unit, route.zone, route.district, route.kind) == ("education", None, None, "line")


@pytest.mark.parametrize("district", ["jieshou", "linquan", "taihe", "funan", "yingshang"])
def test_per_district_override_sends_labour_and_transport_to_the_county(
    city: City, router: Router, district: str
) -> None:
    lat, lon = interior_point(city, district)
    for category in ("labour", "transport"):
        route = router.route(category, lat=lat, lon=lon)
        assert (route.unit, route.kind, route.reason_key) == (district, "local", "route.local_by_district_rule")
        assert route.reason_params == {"zone": district, "district": district, "category": category}


def test_no_override_in_the_city_districts(city: City, router: Router) -> None:
    lat, lon = interior_point(city, "yingquan")
    assert router.route("labour", lat=lat, lon=lon).unit == "hrss"


def test_a_typed_place_gives_its_unit_and_the_district_around_it(city: City, router: Router) -> None:
    place = city.place("caidie_lake")
    route = router.route("municipal", lat=place.lat, lon=place.lon, place_unit=place.unit)
    assert (route.unit, route.zone, route.district, route.kind) == ("fuhe_park", "fuhe_park", "yingzhou", "local")
    assert (route.reason_key, route.reason_params) == (
        "route.local_by_place",
        {"zone": "fuhe_park", "category": "municipal"},
    )


def test_a_typed_place_wins_over_the_location(router: Router) -> None:
    lat, lon = YINGZHOU_GOVERNMENT
    route = router.route("municipal", lat=lat, lon=lon, place_unit="fuhe_park")
    assert (route.unit, route.reason_key) == ("fuhe_park", "route.local_by_place")


def test_a_typed_place_in_a_district_needs_no_coordinates(router: Router) -> None:
    route = router.route("transport", lat=None, lon=None, place_unit="taihe")
    assert (route.unit, route.district, route.reason_key) == ("taihe", "taihe", "route.local_by_district_rule")


def test_an_unknown_category_goes_to_the_coordinators(router: Router) -> None:
    lat, lon = HEFEI_AVENUE
    route = router.route("no_such_category", lat=lat, lon=lon)
    assert (route.unit, route.kind, route.reason_key) == (None, "none", "route.unknown_category")


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.0, max_value=1.0),
    st.sampled_from(LOCAL_CATEGORIES),
)
def test_any_point_in_the_park_goes_to_the_park_for_local_categories(
    city: City, fx: float, fy: float, category: str
) -> None:
    west, south, east, north = park(city).bounds
    lon, lat = west + fx * (east - west), south + fy * (north - south)
    assume(park(city).covers(Point(lon, lat)))
    route = city.router().route(category, lat=lat, lon=lon)
    assert (route.unit, route.kind, route.district) == ("fuhe_park", "local", "yingzhou")


# --------------------------------------------------------------------------------------------------------------
# Synthetic cities: ties, borders, overrides to a unit

RULES = {
    "lights": CategoryRule("lights", "local"),
    "roads": CategoryRule("roads", "local", {"east": "roads_bureau"}),
}
DISTRICT_KEYS = frozenset({"west", "east"})


def square(x0: float, y0: float, size: float) -> shapely.Geometry:
    return shapely.box(x0, y0, x0 + size, y0 + size)


def two_districts(*extra: Zone) -> list[Zone]:
    """West [0,1]x[0,1] and east [1,2]x[0,1] share the border x = 1 (lon), y is lat."""
    return [
        Zone("west", 0, False, square(0, 0, 1)),
        Zone("east", 0, False, square(1, 0, 1)),
        *extra,
    ]


def test_a_per_district_override_to_a_unit_says_so() -> None:
    router = Router(two_districts(), RULES, DISTRICT_KEYS)
    route = router.route("roads", lat=0.5, lon=1.5)
    assert (route.unit, route.zone, route.district, route.kind) == ("roads_bureau", "east", "east", "line")
    assert (route.reason_key, route.reason_params) == (
        "route.line_by_district_rule",
        {"unit": "roads_bureau", "district": "east", "category": "roads"},
    )
    assert router.route("roads", lat=0.5, lon=0.5).unit == "west"


def test_equal_priority_the_smaller_zone_wins_whatever_the_file_order() -> None:
    big = Zone("big", 5, False, square(0, 0, 0.8))
    small = Zone("small", 5, False, square(0.1, 0.1, 0.3))
    for zones in (two_districts(big, small), two_districts(small, big)):
        router = Router(zones, RULES, DISTRICT_KEYS)
        assert [z.unit for z in router.zones_at(0.2, 0.2)] == ["small", "big", "west"]


def test_a_higher_priority_wins_over_a_smaller_area() -> None:
    big = Zone("big", 7, False, square(0, 0, 0.8))
    small = Zone("small", 5, False, square(0.1, 0.1, 0.3))
    router = Router(two_districts(small, big), RULES, DISTRICT_KEYS)
    assert router.route("lights", lat=0.2, lon=0.2).unit == "big"


def test_equal_priority_and_area_the_smaller_key_wins() -> None:
    a = Zone("alpha", 3, False, square(0.1, 0.1, 0.2))
    b = Zone("beta", 3, False, square(0.1, 0.1, 0.2))
    for zones in (two_districts(a, b), two_districts(b, a)):
        assert Router(zones, RULES, DISTRICT_KEYS).route("lights", lat=0.2, lon=0.2).unit == "alpha"


@pytest.mark.parametrize("lat", [0.0, 0.25, 0.5, 1.0])
def test_a_point_on_a_shared_border_gets_one_deterministic_answer(lat: float) -> None:
    answers = set()
    zones = two_districts()
    for _ in range(5):
        random.shuffle(zones)
        router = Router(zones, RULES, DISTRICT_KEYS)
        assert {z.unit for z in router.zones_at(lat, 1.0)} == {"west", "east"}  # the border belongs to both
        answers.add(router.route("lights", lat=lat, lon=1.0).unit)
    assert answers == {"east"}  # equal priority and area: the smaller key


def test_the_outer_edge_of_a_zone_is_inside_and_just_beyond_is_outside() -> None:
    router = Router(two_districts(), RULES, DISTRICT_KEYS)
    assert router.route("lights", lat=1.0, lon=0.5).unit == "west"
    assert router.route("lights", lat=1.0 + 1e-9, lon=0.5).unit is None


def test_a_zone_outside_every_district_has_no_district() -> None:
    island = Zone("island", 1, True, square(5, 5, 1))
    route = Router(two_districts(island), RULES, DISTRICT_KEYS).route("roads", lat=5.5, lon=5.5)
    assert (route.unit, route.zone, route.district) == ("island", "island", None)


def test_a_router_without_zones_sends_local_cases_to_the_coordinators() -> None:
    router = Router([], RULES, frozenset())
    assert router.zones_at(0.5, 0.5) == []
    assert router.route("lights", lat=0.5, lon=0.5).reason_key == "route.no_zone"


@pytest.mark.parametrize("grid_cells", [0, 3, 64])
def test_many_zones_are_found_as_a_brute_force_loop_finds_them(grid_cells: int) -> None:
    rng = random.Random(7)
    zones = [
        Zone("".join(rng.choices(string.ascii_lowercase, k=8)), rng.randrange(3), False,
             square(rng.uniform(0, 10), rng.uniform(0, 10), rng.uniform(0.1, 2)))
        for _ in range(300)
    ]
    router = Router(zones, RULES, frozenset(), grid_cells=grid_cells)
    points = [(rng.uniform(-1, 13), rng.uniform(-1, 13)) for _ in range(300)]
    # Points on edges and corners, where "covers" and float rounding of grid cells matter.
    for zone in zones[:50]:
        west, south, east, north = zone.geometry.bounds
        points += [(south, west), (north, east), ((south + north) / 2, west), (north, (west + east) / 2)]
    for lat, lon in points:
        expected = sorted(
            (z for z in zones if z.geometry.covers(Point(lon, lat))),
            key=lambda z: (-z.priority, z.geometry.area, z.unit),
        )
        assert [z.unit for z in router.zones_at(lat, lon)] == [z.unit for z in expected], (lat, lon)


@pytest.mark.parametrize("grid_cells", [0, 64])
def test_the_example_city_gives_the_same_answers_with_and_without_the_grid(city: City, grid_cells: int) -> None:
    zones = city.router().zones
    plain = Router(zones, {}, frozenset(), grid_cells=grid_cells)
    rng = random.Random(3)
    b = city.bounds
    vertices = [(y, x) for z in zones for x, y in shapely.get_coordinates(z.geometry)[::7].tolist()]
    for lat, lon in [(rng.uniform(b.south, b.north), rng.uniform(b.west, b.east)) for _ in range(2000)] + vertices:
        expected = [z for z in zones if z.geometry.covers(Point(lon, lat))]  # zones are in rank order
        assert plain.zones_at(lat, lon) == expected, (lat, lon)


def test_a_router_and_a_city_with_its_router_survive_pickling(city: City) -> None:
    router = city.router()
    copy = pickle.loads(pickle.dumps(city))
    assert copy == city
    assert copy.router().route("municipal", lat=HEFEI_AVENUE[0], lon=HEFEI_AVENUE[1]).unit == "fuhe_park"
    assert pickle.loads(pickle.dumps(router)).zones_at(*HEFEI_AVENUE)[0].unit == "fuhe_park"
    assert city.router() is router  # built once


# --------------------------------------------------------------------------------------------------------------
# The reason texts


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_reason_key_has_a_text_with_exactly_its_parameters(lang: str) -> None:
    texts = catalogue(lang)
    for key, params in REASON_PARAMS.items():
        assert _fields(texts[key]) == set(params), f"{lang}:{key}"
    assert _fields(texts["route.approximate"]) == {"zone"}
