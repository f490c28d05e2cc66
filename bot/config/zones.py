"""The city's jurisdiction polygons: ``[zones]`` in the city file names a GeoJSON file of district and zone areas.

:func:`read_zones` reads and checks that file (features, properties, geometry validity, the city's bounds, every
district and zone covered) and converts Chinese web-map coordinates (GCJ-02, BD-09) to WGS84 with fast_geocn.
Problems are reported as ``"<zones file>: features[i].<key>: <problem>"``.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import shapely
from fast_geocn.coord import bd09_to_wgs84, gcj02_to_wgs84
from shapely.geometry import shape
from shapely.validation import explain_validity

from bot.config.validation import ConfigError, _show, _Table
from bot.domain.geo import Bounds
from bot.domain.routing import Zone

if TYPE_CHECKING:
    from bot.config.city import Unit

ZoneCrs = Literal["wgs84", "gcj02", "bd09"]
_ZONES_KEYS = ("file", "crs")
# Properties a zone feature may carry: the routing ones, plus names and notes for the people editing the file.
_ZONE_PROPERTIES = ("unit", "priority", "approximate", "name", "gb", "note")
_ZONE_GEOMETRIES = ("Polygon", "MultiPolygon")


def _zones(top: _Table, folder: Path, units: Mapping[str, Unit], bounds: Bounds) -> tuple[Zone, ...]:
    if not top.has("zones"):
        return ()
    table = top.table("zones")
    table.check_keys(_ZONES_KEYS)
    ref = Path(table.string("file"))
    crs: ZoneCrs = table.choice("crs", get_args(ZoneCrs))  # type: ignore[assignment]
    path = ref if ref.is_absolute() else folder / ref
    shown = str(ref if ref.is_absolute() else Path(top.file).parent / ref)
    if not path.is_file():
        table.fail("file", f"no such file: {shown}")
    return read_zones(path, units, bounds, crs=crs, shown=shown)


def read_zones(
    path: Path, units: Mapping[str, Unit], bounds: Bounds, *, crs: ZoneCrs = "wgs84", shown: str | None = None
) -> tuple[Zone, ...]:
    """Read and validate a zones GeoJSON file; geometries come back in WGS84. ConfigError on any problem.

    Each Feature is a Polygon or MultiPolygon with properties ``unit`` (a district or zone unit key),
    ``priority`` (integer ≥ 0, default 0) and ``approximate`` (default false). Once a file is configured, every
    district and zone unit must have at least one feature: a district without a polygon would silently send all
    its cases to the coordinators.
    """
    shown = shown or str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{shown}: not GeoJSON: invalid JSON: {err}") from None
    except OSError as err:
        raise ConfigError(f"{shown}: cannot read: {err.strerror or err}") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(features, list):
        what = _show(data.get("type")) if isinstance(data, dict) and "type" in data else _show(data)
        raise ConfigError(
            f'{shown}: not GeoJSON: expected an object with "type": "FeatureCollection" and "features", got {what}'
        )
    zones = [_zone(shown, i, feature, units, bounds, crs) for i, feature in enumerate(features)]
    covered = {z.unit for z in zones}
    for unit in units.values():
        if unit.kind != "department" and unit.key not in covered:
            raise ConfigError(
                f"{shown}: unit {unit.key!r} ({unit.kind}) has no feature: once zones are configured, every district"
                " and zone needs its polygon (otherwise its cases would all go to the coordinators)"
            )
    return tuple(zones)


def _zone(shown: str, index: int, feature: object, units: Mapping[str, Unit], bounds: Bounds, crs: ZoneCrs) -> Zone:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ConfigError(f'{shown}: features[{index}]: must be a GeoJSON object with "type": "Feature"')
    item = _Table(shown, f"features[{index}]", feature)
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        item.fail("properties", 'must be an object with at least "unit" (the district or zone it belongs to)')
    props = _Table(shown, item.path("properties"), properties)
    props.check_keys(_ZONE_PROPERTIES)
    unit_key = props.string("unit")
    unit = units.get(unit_key)
    if unit is None:
        close = difflib.get_close_matches(unit_key, list(units), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        props.fail("unit", f"no unit has the key {_show(unit_key)}{hint}")
    if unit.kind == "department":
        props.fail("unit", f"{unit_key!r} is a department: only districts and zones have an area")
    priority = props.integer("priority", 0, minimum=0)
    approximate = props.boolean("approximate", False)
    geometry = _zone_geometry(item, bounds, crs)
    return Zone(unit=unit_key, priority=priority, approximate=approximate, geometry=geometry)


def _zone_geometry(item: _Table, bounds: Bounds, crs: ZoneCrs) -> shapely.Geometry:
    raw = item.data.get("geometry")
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in _ZONE_GEOMETRIES:
        got = json.dumps(kind if kind else raw, ensure_ascii=False)
        item.fail("geometry", f"must be a Polygon or MultiPolygon, got {got[:60]}")
    if not all(_finite(number) for number in _numbers(raw.get("coordinates"))):
        item.fail("geometry", "has a coordinate that is not a finite number")
    try:
        geometry = shapely.force_2d(shape(raw))
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.ShapelyError) as err:
        item.fail("geometry", f"cannot be read as a {kind}: {err}")
    if geometry.is_empty:
        item.fail("geometry", "is empty")
    if not geometry.is_valid:
        item.fail(
            "geometry",
            f"is not a valid {kind}: {explain_validity(geometry)}"
            ' (a GIS can repair it, e.g. QGIS "Fix geometries" or shapely.make_valid)',
        )
    if crs != "wgs84":
        geometry = shapely.transform(geometry, _TO_WGS84[crs])
    box = shapely.box(bounds.west, bounds.south, bounds.east, bounds.north)
    west, south, east, north = geometry.bounds
    if not geometry.intersects(box):
        item.fail(
            "geometry",
            f"lies outside the city's bounds (lon {west:g}..{east:g}, lat {south:g}..{north:g}; GeoJSON coordinates"
            " are [longitude, latitude])",
        )
    if not box.covers(geometry):
        # A location outside [bounds] counts as "not in this city", so that part of the zone could never be hit.
        item.fail(
            "geometry",
            f"extends beyond the city's bounds (lon {west:g}..{east:g}, lat {south:g}..{north:g}; bounds: west"
            f" {bounds.west:g}, east {bounds.east:g}, south {bounds.south:g}, north {bounds.north:g}): widen [bounds]",
        )
    return geometry


def _numbers(value: object) -> Iterator[object]:
    """The leaves of GeoJSON ``coordinates`` (nested arrays of numbers)."""
    if isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    else:
        yield value


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _converter(point: Any) -> Any:
    """A shapely.transform function from a (lon, lat) → (lon, lat) point conversion."""

    def convert(coords: np.ndarray) -> np.ndarray:
        return np.array([point(x, y) for x, y in coords], dtype=float).reshape(-1, 2)

    return convert


#: Conversions of a zones file to WGS84 (Chinese web maps use GCJ-02: AMap, Tencent; or BD-09: Baidu).
_TO_WGS84 = {"gcj02": _converter(gcj02_to_wgs84), "bd09": _converter(bd09_to_wgs84)}

