"""The nearest named place and the zone of a point (edge cases first), and the words they make."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from shapely.geometry import box

from bot.config import load_config
from bot.domain.geo import haversine_m
from bot.domain.routing import Router, Zone
from bot.domain.whereabouts import DEFAULT_NEAR_MAX_M, NOWHERE, Landmark, Whereabouts, nearest_landmark, whereabouts
from bot.place_words import point_in_words
from bot.texts import Texts

ROOT = Path(__file__).resolve().parents[2]
A = Landmark("a", 32.90, 115.80)
B = Landmark("b", 32.91, 115.80)  # about 1.1 km north of A


def test_no_landmarks_means_nothing_is_near() -> None:
    assert nearest_landmark(32.9, 115.8, [], 1000) is None


@pytest.mark.parametrize(("lat", "lon"), [(math.nan, 115.8), (91.0, 115.8), (32.9, 181.0), (math.inf, 0.0)])
def test_an_impossible_point_is_near_nothing(lat: float, lon: float) -> None:
    assert nearest_landmark(lat, lon, [A], 10_000) is None


@pytest.mark.parametrize("max_m", [-1.0, math.nan])
def test_a_negative_or_nan_reach_is_refused(max_m: float) -> None:
    with pytest.raises(ValueError, match="max_m"):
        nearest_landmark(32.9, 115.8, [A], max_m)


def test_a_landmark_with_impossible_coordinates_is_skipped() -> None:
    broken = Landmark("broken", math.nan, 115.8)
    assert nearest_landmark(32.9, 115.8, [broken, A], 100) == (A, 0.0)


def test_the_point_on_a_landmark_is_at_distance_zero() -> None:
    assert nearest_landmark(A.lat, A.lon, [A, B], 0) == (A, 0.0)


def test_the_reach_is_inclusive_and_beyond_it_nothing_is_near() -> None:
    d = haversine_m(32.905, 115.80, A.lat, A.lon)
    assert nearest_landmark(32.905, 115.80, [A], d) is not None
    assert nearest_landmark(32.905, 115.80, [A], d * (1 - 1e-9)) is None


def test_equal_distances_go_to_the_landmark_listed_first() -> None:
    midway = (32.905, 115.80)  # on the parallel halfway between A and B: same distance to both
    near = nearest_landmark(*midway, [B, A], 2000)
    assert near is not None and near[0] == B
    near = nearest_landmark(*midway, [A, B], 2000)
    assert near is not None and near[0] == A


def test_the_nearest_of_several_wins_whatever_the_order() -> None:
    point = (32.908, 115.80)  # closer to B
    for order in ([A, B], [B, A]):
        near = nearest_landmark(*point, order, 5000)
        assert near is not None and near[0] == B
        assert near[1] == pytest.approx(haversine_m(*point, B.lat, B.lon))


def test_whereabouts_takes_the_highest_ranked_zone_and_the_nearest_place() -> None:
    district = Zone("district", 0, False, box(115.7, 32.8, 115.9, 33.0))
    park = Zone("park", 10, True, box(115.79, 32.89, 115.81, 32.91))
    router = Router([district, park], {}, frozenset({"district"}))
    assert whereabouts(32.90, 115.80, router, [A, B]) == Whereabouts("park", "a", 0.0)
    far = whereabouts(32.99, 115.71, router, [A, B])
    assert (far.zone, far.near, far.distance_m) == ("district", None, None)
    assert whereabouts(40.0, 100.0, router, [A]) == NOWHERE
    assert whereabouts(math.nan, 0.0, router, [A]) == NOWHERE
    assert DEFAULT_NEAR_MAX_M > 0


def test_the_example_city_says_the_district_and_the_station_in_both_languages() -> None:
    city = load_config(ROOT / "config.example.toml").city
    texts = Texts()
    station = city.place("fuyang_station")
    beside = (station.lat + 0.002, station.lon)  # about 220 m north of the station
    assert point_in_words(texts, "zh", city, *beside) == "颍东区 · 阜阳站附近"
    assert point_in_words(texts, "en", city, *beside) == "Yingdong District · near Fuyang Railway Station"


def test_a_point_far_from_every_place_says_only_its_district() -> None:
    city = load_config(ROOT / "config.example.toml").city
    texts = Texts()
    lat, lon = 33.25, 115.62  # the open country of 太和县, kilometres from every named place
    where = city.whereabouts(lat, lon)
    assert where.near is None and where.zone is not None
    assert point_in_words(texts, "zh", city, lat, lon) == city.unit(where.zone).name("zh")
