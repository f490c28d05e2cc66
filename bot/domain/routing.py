"""Who handles a case: jurisdiction zones (polygons with priorities) plus category rules.

Pure: shapely and the standard library only, no config, no I/O. The config builds a :class:`Router` from the city
file (``City.router()``); the workflow asks it for a :class:`Route` when a ticket is registered and stores the
route's reason (a text key plus unit and category KEYS) so the card can explain it in the reader's language.

Zones. Every district (属地) and special zone (an industrial park carved out of a district) is one or more
polygons in WGS84 longitude/latitude. A point may lie in several (the park and the district around it): the
*local unit* is the containing zone with the highest priority; equal priorities go to the smaller area, then to
the smaller unit key, so the answer never depends on file order. A point exactly on a border is covered by both
neighbours and gets the same deterministic answer. Lookups never loop over every polygon: an STR-tree finds, once,
which zones surely cover and which may cover each cell of a regular grid; a lookup then costs a little arithmetic,
plus a prepared-geometry test only in the cells a border crosses (``bench/routing_bench.py`` measures it).

Rules. A category routes ``"local"`` (the local unit) or to a unit key (a line department, 行业), optionally
overridden per district (``routes``). No local unit where one is needed → ``unit=None``: the coordinators, never
a void.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from bot.domain.geo import valid_coordinates

#: ``CategoryRule.route`` (or a ``routes`` value) meaning "the unit where it happened".
LOCAL = "local"

RouteKind = Literal["local", "line", "none"]

# Reason keys (text catalogue ``[route]`` in bot/texts/<lang>.routing.toml). Parameters are keys: ``zone``,
# ``district`` and ``unit`` are unit keys, ``category`` a category key; the renderer turns them into names.
REASON_LOCAL_BY_LOCATION = "route.local_by_location"  # zone, category
REASON_LOCAL_BY_PLACE = "route.local_by_place"  # zone, category
REASON_LOCAL_BY_DISTRICT_RULE = "route.local_by_district_rule"  # zone, district, category
REASON_LINE_DEPARTMENT = "route.line_department"  # unit, category
REASON_LINE_BY_DISTRICT_RULE = "route.line_by_district_rule"  # unit, district, category
REASON_NO_ZONE = "route.no_zone"  # category
REASON_NO_LOCATION = "route.no_location"  # category
REASON_UNKNOWN_CATEGORY = "route.unknown_category"  # category

#: Every reason key with the parameters it carries (the catalogues must offer exactly these placeholders).
REASON_PARAMS: Mapping[str, frozenset[str]] = {
    REASON_LOCAL_BY_LOCATION: frozenset({"zone", "category"}),
    REASON_LOCAL_BY_PLACE: frozenset({"zone", "category"}),
    REASON_LOCAL_BY_DISTRICT_RULE: frozenset({"zone", "district", "category"}),
    REASON_LINE_DEPARTMENT: frozenset({"unit", "category"}),
    REASON_LINE_BY_DISTRICT_RULE: frozenset({"unit", "district", "category"}),
    REASON_NO_ZONE: frozenset({"category"}),
    REASON_NO_LOCATION: frozenset({"category"}),
    REASON_UNKNOWN_CATEGORY: frozenset({"category"}),
}


@dataclass(frozen=True)
class Zone:
    """One polygon (or multipolygon) of a district or special zone, in WGS84 (x = longitude, y = latitude).

    ``approximate`` marks a hand-drawn outline (a park that is no administrative division): cards may say so.
    """

    unit: str
    priority: int
    approximate: bool
    geometry: BaseGeometry


@dataclass(frozen=True)
class CategoryRule:
    """Where a category goes: ``route`` is ``"local"`` or a unit key; ``routes`` overrides it per district."""

    key: str
    route: str
    routes: Mapping[str, str] = field(default_factory=dict)

    def route_in(self, district: str | None) -> str:
        if district is not None and district in self.routes:
            return self.routes[district]
        return self.route


@dataclass(frozen=True)
class Route:
    """The routing decision and why, as stored with the ticket."""

    unit: str | None  # None → the coordinators
    zone: str | None  # unit key of the highest-priority zone at the location (or the typed place's unit)
    district: str | None  # the district containing the location, for per-district rules
    kind: RouteKind
    reason_key: str
    reason_params: dict[str, str]  # unit keys and the category key; names are filled in by the renderer


class _Grid:
    """A regular grid over the zones' extent: per cell, the zones that surely cover it and those that may.

    Built once with bulk STR-tree queries. A lookup is then arithmetic plus, only in cells a border crosses, a
    prepared ``covers`` test on the few zones whose border it is. Cells are tested slightly enlarged (by
    ``_EPSILON`` degrees, far below any GPS accuracy and far above float rounding), so a point that rounding puts in
    the neighbouring cell is still answered exactly.
    """

    _EPSILON = 1e-9

    def __init__(self, tree: shapely.STRtree, geometries: Sequence[BaseGeometry], cells: int) -> None:
        self.west, self.south, self.east, self.north = shapely.total_bounds(geometries).tolist()
        width, height = max(self.east - self.west, 1e-12), max(self.north - self.south, 1e-12)
        # About cells × cells in all, split along the sides' proportions.
        self.nx = max(1, min(4 * cells, round(cells * (width / height) ** 0.5)))
        self.ny = max(1, min(4 * cells, round(cells * (height / width) ** 0.5)))
        self.fx, self.fy = self.nx / width, self.ny / height
        eps, w, h = self._EPSILON, 1 / self.fx, 1 / self.fy
        corners = [(self.west + ix * w, self.south + iy * h) for iy in range(self.ny) for ix in range(self.nx)]
        boxes = shapely.box(  # cell = iy * nx + ix
            [x - eps for x, _ in corners], [y - eps for _, y in corners],
            [x + w + eps for x, _ in corners], [y + h + eps for _, y in corners],
        )
        sure: list[list[int]] = [[] for _ in range(len(boxes))]
        maybe: list[list[int]] = [[] for _ in range(len(boxes))]
        for cell, rank in tree.query(boxes, predicate="covered_by").T.tolist():
            sure[cell].append(rank)
        for cell, rank in tree.query(boxes, predicate="intersects").T.tolist():
            maybe[cell].append(rank)
        interned: dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[tuple[int, ...], tuple[int, ...]]] = {}
        self.cells = []
        for s, m in zip(sure, maybe, strict=True):
            entry = (tuple(sorted(s)), tuple(sorted(set(m) - set(s))))
            self.cells.append(interned.setdefault(entry, entry))

    def cell(self, lat: float, lon: float) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """(sure ranks, maybe ranks) of the cell holding the point; None outside the grid."""
        if not (self.west <= lon <= self.east and self.south <= lat <= self.north):
            return None
        ix = min(int((lon - self.west) * self.fx), self.nx - 1)
        iy = min(int((lat - self.south) * self.fy), self.ny - 1)
        return self.cells[iy * self.nx + ix]


class Router:
    """Answers "which zones are here" and "who handles this category here" for one city.

    ``grid_cells``: resolution of the lookup grid (about grid_cells² cells over the zones' extent). 0 turns the
    grid off: every lookup then queries the STR-tree (slower per point, no build cost).
    """

    def __init__(
        self,
        zones: Sequence[Zone],
        rules: Mapping[str, CategoryRule],
        district_units: frozenset[str],
        *,
        grid_cells: int = 64,
    ) -> None:
        self._args = (tuple(zones), dict(rules), frozenset(district_units))
        self._grid_cells = grid_cells
        # Rank once: highest priority first, then smaller area, then unit key, then file order. Tree indices are
        # ranks, so sorting the hits of a query gives the answer order directly.
        ranked = sorted(enumerate(zones), key=lambda iz: (-iz[1].priority, iz[1].geometry.area, iz[1].unit, iz[0]))
        self._zones: tuple[Zone, ...] = tuple(z for _, z in ranked)
        geometries = [z.geometry for z in self._zones]
        for geometry in geometries:
            shapely.prepare(geometry)  # in place: later covers() tests use the prepared form
        self._geometries = geometries
        self._tree = shapely.STRtree(geometries)
        self._grid = _Grid(self._tree, geometries, grid_cells) if geometries and grid_cells > 0 else None
        self._rules = dict(rules)
        self._districts = frozenset(district_units)

    def __reduce__(self) -> tuple[Callable[..., Router], tuple[object, ...]]:
        # Rebuilt from its inputs: a pickled config (multiprocessing, caches) does not carry the index.
        return (_rebuild, (*self._args, self._grid_cells))

    @property
    def zones(self) -> tuple[Zone, ...]:
        """All zones in rank order (highest priority first)."""
        return self._zones

    def zones_at(self, lat: float, lon: float) -> list[Zone]:
        """Every zone covering the point (its border included), highest priority first; [] if none or invalid."""
        if not valid_coordinates(lat, lon):
            return []
        return [self._zones[i] for i in self._ranks_at(float(lat), float(lon))]

    def _ranks_at(self, lat: float, lon: float) -> Sequence[int]:
        if self._grid is None:
            if not self._geometries:
                return ()
            point = Point(lon, lat)
            candidates = self._tree.query(point).tolist()  # bounding boxes only: cheap
            return sorted(i for i in candidates if self._geometries[i].covers(point))
        cell = self._grid.cell(lat, lon)
        if cell is None:
            return ()
        sure, maybe = cell
        if not maybe:
            return sure
        point = Point(lon, lat)
        hits = [i for i in maybe if self._geometries[i].covers(point)]
        return sorted((*sure, *hits)) if hits else sure

    def district_at(self, lat: float, lon: float) -> str | None:
        """The highest-ranked district zone covering the point, if any."""
        return next((z.unit for z in self.zones_at(lat, lon) if z.unit in self._districts), None)

    def route(
        self, category: str, *, lat: float | None, lon: float | None, place_unit: str | None = None
    ) -> Route:
        """Route a case of ``category`` at a location and/or a typed place.

        ``place_unit`` is the configured unit of a typed place (pass the place's lat/lon too, so a place in a zone
        still finds the district around it); it takes precedence over the location's zone. A location needs both
        coordinates; an invalid one counts as no location.
        """
        located = lat is not None and lon is not None and valid_coordinates(lat, lon)
        zones = [self._zones[i] for i in self._ranks_at(float(lat), float(lon))] if located else []  # type: ignore[arg-type]
        zone = place_unit if place_unit is not None else (zones[0].unit if zones else None)
        if place_unit is not None and place_unit in self._districts:
            district: str | None = place_unit
        else:
            district = next((z.unit for z in zones if z.unit in self._districts), None)

        rule = self._rules.get(category)
        if rule is None:
            return Route(None, zone, district, "none", REASON_UNKNOWN_CATEGORY, {"category": category})

        target = rule.route_in(district)
        rule_district = district if district is not None and district in rule.routes else None
        if target != LOCAL:
            if rule_district is not None:
                params = {"unit": target, "district": rule_district, "category": category}
                return Route(target, zone, district, "line", REASON_LINE_BY_DISTRICT_RULE, params)
            return Route(target, zone, district, "line", REASON_LINE_DEPARTMENT, {"unit": target, "category": category})

        if zone is None:
            reason = REASON_NO_ZONE if located else REASON_NO_LOCATION
            return Route(None, None, district, "none", reason, {"category": category})
        if rule_district is not None:
            params = {"zone": zone, "district": rule_district, "category": category}
            return Route(zone, zone, district, "local", REASON_LOCAL_BY_DISTRICT_RULE, params)
        reason = REASON_LOCAL_BY_PLACE if place_unit is not None else REASON_LOCAL_BY_LOCATION
        return Route(zone, zone, district, "local", reason, {"zone": zone, "category": category})


def _rebuild(
    zones: Sequence[Zone], rules: Mapping[str, CategoryRule], district_units: frozenset[str], grid_cells: int
) -> Router:
    return Router(zones, rules, district_units, grid_cells=grid_cells)
