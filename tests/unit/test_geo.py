"""Coordinates, distances and bounding boxes."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.domain.geo import EARTH_RADIUS_M, Bounds, bbox_around, haversine_m, valid_coordinates

FUYANG_STATION = (32.8906, 115.8147)
lats = st.floats(min_value=-90, max_value=90, allow_nan=False)
lons = st.floats(min_value=-180, max_value=180, allow_nan=False)
radii = st.floats(min_value=0, max_value=3_000_000, allow_nan=False)


# --- valid_coordinates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(0, 0), (90, 180), (-90, -180), (32.89, 115.81), (-33.87, 151.21), (89.999999, -179.999999)],
)
def test_valid_coordinates_accepts_the_closed_range(lat: float, lon: float) -> None:
    assert valid_coordinates(lat, lon)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (90.0000001, 0),
        (-90.0000001, 0),
        (0, 180.0000001),
        (0, -180.0000001),
        (math.nan, 0),
        (0, math.nan),
        (math.inf, 0),
        (0, -math.inf),
        (None, 0),
        ("32.8", "115.8"),
        (True, False),
        (1e308 * 10, 0),
    ],
)
def test_valid_coordinates_refuses_out_of_range_and_non_numbers(lat: object, lon: object) -> None:
    assert not valid_coordinates(lat, lon)  # type: ignore[arg-type]


# --- haversine_m ---------------------------------------------------------------------------------------


def test_distance_to_self_is_zero() -> None:
    assert haversine_m(*FUYANG_STATION, *FUYANG_STATION) == 0.0


def test_one_degree_of_longitude_at_equator() -> None:
    assert haversine_m(0, 0, 0, 1) == pytest.approx(2 * math.pi * EARTH_RADIUS_M / 360, rel=1e-9)


def test_known_city_distance() -> None:
    # Fuyang railway station to Hefei south station is about 180 km as the crow flies.
    assert haversine_m(32.8906, 115.8147, 31.7986, 117.2897) == pytest.approx(180_000, rel=0.1)


def test_antipodes_are_half_the_circumference_apart() -> None:
    assert haversine_m(10, 20, -10, -160) == pytest.approx(math.pi * EARTH_RADIUS_M, rel=1e-9)
    assert haversine_m(90, 0, -90, 0) == pytest.approx(math.pi * EARTH_RADIUS_M, rel=1e-9)


def test_distance_across_the_antimeridian_is_short() -> None:
    assert haversine_m(0, 179.9, 0, -179.9) == pytest.approx(haversine_m(0, 0, 0, 0.2), rel=1e-9)


@given(lats, lons, lats, lons)
def test_distance_is_symmetric_and_bounded(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    d = haversine_m(lat1, lon1, lat2, lon2)
    assert 0 <= d <= math.pi * EARTH_RADIUS_M + 1e-6
    assert d == pytest.approx(haversine_m(lat2, lon2, lat1, lon1), abs=1e-6)


# --- bbox_around -------------------------------------------------------------------------------------------


def test_bbox_is_centred_and_sized() -> None:
    lat, lon = FUYANG_STATION
    min_lat, max_lat, min_lon, max_lon = bbox_around(lat, lon, 1000)
    assert min_lat < lat < max_lat and min_lon < lon < max_lon
    # The edges are one radius away from the centre along the meridian / at the tangent points.
    assert haversine_m(lat, lon, max_lat, lon) == pytest.approx(1000, rel=1e-6)
    assert haversine_m(lat, lon, min_lat, lon) == pytest.approx(1000, rel=1e-6)
    # The longitude half-width grows with latitude (meridians converge).
    assert (max_lon - min_lon) > (max_lat - min_lat)


def test_zero_radius_is_the_point() -> None:
    assert bbox_around(10, 20, 0) == pytest.approx((10, 10, 20, 20))


def test_bbox_reaching_a_pole_clamps_latitude_and_spans_all_longitudes() -> None:
    min_lat, max_lat, min_lon, max_lon = bbox_around(89.99, 10, 5_000)
    assert max_lat == 90.0
    assert min_lat < 89.99
    assert (min_lon, max_lon) == (-180.0, 180.0)
    assert bbox_around(-89.99, 10, 5_000)[0] == -90.0


def test_bbox_at_the_pole_itself() -> None:
    assert bbox_around(90, 0, 10)[1:] == (90.0, -180.0, 180.0)


def test_bbox_crossing_the_antimeridian_spans_all_longitudes() -> None:
    _, _, min_lon, max_lon = bbox_around(0, 179.999, 1_000)
    assert (min_lon, max_lon) == (-180.0, 180.0)
    _, _, min_lon, max_lon = bbox_around(0, -179.999, 1_000)
    assert (min_lon, max_lon) == (-180.0, 180.0)


def test_huge_radius_covers_the_globe() -> None:
    assert bbox_around(30, 100, 30_000_000) == (-90.0, 90.0, -180.0, 180.0)


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(91, 0, 10), (0, 181, 10), (math.nan, 0, 10), (0, 0, -1), (0, 0, math.nan), (0, 0, math.inf)],
)
def test_bbox_refuses_bad_input(lat: float, lon: float, radius: float) -> None:
    with pytest.raises(ValueError):
        bbox_around(lat, lon, radius)


@given(lats, lons, radii, st.floats(0, 1), st.floats(0, 360))
def test_bbox_covers_every_point_of_the_circle(
    lat: float, lon: float, radius: float, fraction: float, bearing_deg: float
) -> None:
    # Walk from the centre along a bearing for at most `radius`; the end point must be inside the box.
    distance = radius * fraction
    delta = distance / EARTH_RADIUS_M
    phi1, lam1, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * sin_phi2
    )
    lat2 = math.degrees(phi2)
    lon2 = (math.degrees(lam2) + 540) % 360 - 180
    assume(haversine_m(lat, lon, lat2, lon2) <= radius)  # guard against rounding in the walk itself

    min_lat, max_lat, min_lon, max_lon = bbox_around(lat, lon, radius)
    assert -90 <= min_lat <= max_lat <= 90
    assert -180 <= min_lon <= max_lon <= 180
    assert min_lat - 1e-9 <= lat2 <= max_lat + 1e-9
    assert min_lon - 1e-9 <= lon2 <= max_lon + 1e-9


# --- Bounds -------------------------------------------------------------------------------------------------

FUYANG = Bounds(south=32.4, west=115.0, north=33.7, east=116.7)


def test_bounds_contains_inside_and_edges() -> None:
    assert FUYANG.contains(*FUYANG_STATION)
    assert FUYANG.contains(32.4, 115.0)
    assert FUYANG.contains(33.7, 116.7)


@pytest.mark.parametrize(
    ("lat", "lon"), [(32.39, 115.8), (33.71, 115.8), (33.0, 114.99), (33.0, 116.71), (-33.0, -115.8)]
)
def test_bounds_excludes_outside(lat: float, lon: float) -> None:
    assert not FUYANG.contains(lat, lon)


@pytest.mark.parametrize(("lat", "lon"), [(math.nan, 115.8), (33.0, math.nan), (math.inf, math.inf)])
def test_bounds_never_contains_invalid_points(lat: float, lon: float) -> None:
    assert not FUYANG.contains(lat, lon)


def test_bounds_across_the_antimeridian() -> None:
    fiji = Bounds(south=-21, west=177, north=-12, east=-178)
    assert fiji.contains(-17, 178)
    assert fiji.contains(-17, -179)
    assert fiji.contains(-17, 180)
    assert not fiji.contains(-17, 0)
    assert not fiji.contains(-17, 176)


def test_bounds_is_frozen() -> None:
    with pytest.raises(AttributeError):
        FUYANG.south = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    "args", [(34, 115, 33, 116), (91, 0, 92, 1), (0, -181, 1, 0), (math.nan, 0, 1, 1), (0, 0, 1, math.inf)]
)
def test_bounds_refuse_nonsense(args: tuple[float, float, float, float]) -> None:
    with pytest.raises(ValueError):
        Bounds(*args)
