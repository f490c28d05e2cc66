"""Small spherical-geometry helpers: coordinate checks, distances, bounding boxes.

All distances are on a sphere of mean Earth radius; that is well within the accuracy of a phone's GPS
fix for the few-kilometre distances a complaint platform deals with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius

# Bounding boxes are widened by this relative amount so that rounding never leaves a point that
# haversine_m() puts exactly on the circle just outside the box.
_BBOX_MARGIN = 1e-9


def valid_coordinates(lat: float, lon: float) -> bool:
    """True for finite numbers with lat in [-90, 90] and lon in [-180, 180] (NaN, inf, str, None: False)."""
    for value in (lat, lon):
        if isinstance(value, bool) or not isinstance(value, Real):
            return False
    lat_f = float(lat)
    lon_f = float(lon)
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        return False
    return -90.0 <= lat_f <= 90.0 and -180.0 <= lon_f <= 180.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees.

    Computed with the atan2 (spherical Vincenty) form of the haversine distance, which stays accurate both
    for a few metres and for nearly antipodal points, where the textbook asin form loses precision.
    """
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dlam = math.radians(lon2 - lon1)
    sin1, cos1 = math.sin(phi1), math.cos(phi1)
    sin2, cos2 = math.sin(phi2), math.cos(phi2)
    cross = math.hypot(cos2 * math.sin(dlam), cos1 * sin2 - sin1 * cos2 * math.cos(dlam))
    dot = sin1 * sin2 + cos1 * cos2 * math.cos(dlam)
    return EARTH_RADIUS_M * math.atan2(cross, dot)


def bbox_around(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """Return ``(min_lat, max_lat, min_lon, max_lon)`` of a box covering a circle around a point.

    The box is meant as a cheap pre-filter (e.g. an SQL ``BETWEEN``) before an exact haversine check, so it
    must never be too small. Latitudes are clamped to [-90, 90]. A plain min/max pair cannot express a range
    that wraps around the antimeridian, so when the circle crosses it, or reaches a pole (where every
    longitude is close by), the longitude range is the whole [-180, 180].
    """
    if not valid_coordinates(lat, lon):
        raise ValueError(f"invalid coordinates: {lat!r}, {lon!r}")
    if not (math.isfinite(radius_m) and radius_m >= 0):
        raise ValueError(f"radius must be a finite non-negative number of metres, got {radius_m!r}")

    angular = radius_m / EARTH_RADIUS_M * (1 + _BBOX_MARGIN)  # radians
    dlat = math.degrees(angular)
    min_lat = lat - dlat
    max_lat = lat + dlat
    if angular >= math.pi or min_lat <= -90.0 or max_lat >= 90.0:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0

    # Longitude half-width of the circle: the meridians tangent to it, asin(sin r / cos lat).
    ratio = math.sin(angular) / math.cos(math.radians(lat))
    if ratio >= 1.0:
        return min_lat, max_lat, -180.0, 180.0
    dlon = math.degrees(math.asin(ratio)) * (1 + _BBOX_MARGIN)
    min_lon = lon - dlon
    max_lon = lon + dlon
    if min_lon < -180.0 or max_lon > 180.0:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, min_lon, max_lon


@dataclass(frozen=True)
class Bounds:
    """A latitude/longitude rectangle, edges inclusive.

    ``west > east`` means the rectangle crosses the antimeridian (e.g. west=170, east=-170).
    """

    south: float
    west: float
    north: float
    east: float

    def __post_init__(self) -> None:
        if not (valid_coordinates(self.south, self.west) and valid_coordinates(self.north, self.east)):
            raise ValueError(f"invalid bounds: {self}")
        if self.south > self.north:
            raise ValueError(f"bounds south {self.south} is north of north {self.north}")

    def contains(self, lat: float, lon: float) -> bool:
        """True if the point lies inside or on the edge; invalid coordinates are never contained."""
        if not valid_coordinates(lat, lon):
            return False
        if not self.south <= lat <= self.north:
            return False
        if self.west <= self.east:
            return self.west <= lon <= self.east
        return lon >= self.west or lon <= self.east
