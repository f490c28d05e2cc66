"""The city as the web chat draws it: zones as WGS84 rings (simplified for an SVG), named places, bounds."""

from __future__ import annotations

from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from bot.config.city import City
from sandbox.state import JSON

#: Degrees; about 300 m, invisible at the page's scale and a tenth of the raw file's points.
SIMPLIFY_DEG = 0.003


def city_map(city: City) -> JSON:
    """``{name, bounds, zones: [{unit, name, priority, rings, label}], places: [{key, name, lat, lon, area}]}``; names
    are ``{zh, en}``. Zones come lowest priority first, so drawing them in order puts a park over its district."""
    zones = []
    for zone in sorted(city.zones, key=lambda z: z.priority):
        unit = city.unit(zone.unit)
        label = zone.geometry.representative_point()
        zones.append({"unit": zone.unit, "name": {"zh": unit.name_zh, "en": unit.name_en}, "priority": zone.priority,
                      "rings": _rings(zone.geometry.simplify(SIMPLIFY_DEG, preserve_topology=True)),
                      "label": [round(label.x, 4), round(label.y, 4)]})
    b = city.bounds
    return {"name": {"zh": city.name_zh, "en": city.name_en},
            "bounds": {"south": b.south, "west": b.west, "north": b.north, "east": b.east},
            "zones": zones,
            "places": [{"key": p.key, "name": {"zh": p.name_zh, "en": p.name_en}, "lat": p.lat, "lon": p.lon,
                        "area": {"zh": f"{city.name_zh}{city.unit(p.unit).name_zh}",
                                 "en": f"{city.unit(p.unit).name_en}, {city.name_en}"}}
                       for p in city.places]}


def _rings(geometry: BaseGeometry) -> list[list[list[float]]]:
    """Outer rings as ``[[lon, lat], ...]``: holes are left out (a carved-out zone is drawn over its district)."""
    polygons = geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]
    return [[[round(x, 4), round(y, 4)] for x, y in p.exterior.coords] for p in polygons if isinstance(p, Polygon)]
