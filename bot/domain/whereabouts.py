"""A point in words: the district or zone it fell in, and the nearest named place of the city within reach.

Pure: the caller passes the city's router (for the zones) and its named places as landmarks. The nearest place is
a plain haversine scan over the landmarks: a city names a few dozen places, so a scan costs microseconds and needs
no index. Beyond ``max_m`` no place is "near": a point 8 km out in the fields is not "near Fuyang Station".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.geo import haversine_m, valid_coordinates
from bot.domain.routing import Router

#: Default reach of "near X" (metres): about a walk of a quarter of an hour.
DEFAULT_NEAR_MAX_M = 1500.0


@dataclass(frozen=True)
class Landmark:
    """A named place of the city, by key (its names are the config's to give)."""

    key: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Whereabouts:
    """``zone``: unit key of the highest-ranked zone covering the point (a park before the district around it);
    ``near``: key of the nearest landmark within reach, with its distance. Any part may be missing."""

    zone: str | None
    near: str | None
    distance_m: float | None


NOWHERE = Whereabouts(None, None, None)


def nearest_landmark(lat: float, lon: float, landmarks: Sequence[Landmark], max_m: float
                     ) -> tuple[Landmark, float] | None:
    """The landmark closest to the point if it lies within ``max_m`` (inclusive); None otherwise.

    Equal distances go to the landmark listed first, so the answer never depends on float noise between runs.
    Landmarks with impossible coordinates are skipped.
    """
    if not (max_m >= 0):  # also refuses NaN
        raise ValueError(f"max_m must be a non-negative number of metres, got {max_m!r}")
    if not valid_coordinates(lat, lon):
        return None
    best: tuple[Landmark, float] | None = None
    for landmark in landmarks:
        if not valid_coordinates(landmark.lat, landmark.lon):
            continue
        distance = haversine_m(lat, lon, landmark.lat, landmark.lon)
        if distance <= max_m and (best is None or distance < best[1]):
            best = (landmark, distance)
    return best


def whereabouts(lat: float, lon: float, router: Router, landmarks: Sequence[Landmark],
                max_m: float = DEFAULT_NEAR_MAX_M) -> Whereabouts:
    """Where the point is, as keys: its zone and its nearest landmark within ``max_m``."""
    if not valid_coordinates(lat, lon):
        return NOWHERE
    zones = router.zones_at(lat, lon)
    near = nearest_landmark(lat, lon, landmarks, max_m)
    return Whereabouts(zone=zones[0].unit if zones else None,
                       near=near[0].key if near else None,
                       distance_m=near[1] if near else None)
