"""The city file (``city.toml``): units, categories, places, group chats, and :class:`City`, read by
:func:`load_city` (or by :func:`bot.config.load_config` through the deployment config's ``city`` key).

Also the key rules shared by every entry (short, lowercase, ASCII, unique within its array: keys travel in
callback data). The city's ``[zones]`` are read by :mod:`bot.config.zones`, its ``[calendar]`` by
:mod:`bot.config.calendar`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.calendar import CalendarConfig, _calendar
from bot.config.validation import _REQUIRED, FrozenMap, _read_toml, _show, _Table
from bot.config.zones import _zones
from bot.domain.calendar import WorkingCalendar
from bot.domain.deadlines import DeadlineClass
from bot.domain.geo import Bounds
from bot.domain.routing import CategoryRule, Router, Zone
from bot.domain.suggest import CategoryWords, Suggester
from bot.domain.whereabouts import Landmark, Whereabouts, whereabouts

UnitKind = Literal["district", "department", "zone"]
GroupRole = Literal["unit", "coordination", "supervision"]

#: The value of ``Category.route`` (or of a ``routes`` entry) meaning "the unit where it happened".
LOCAL = "local"

#: Keys of units, categories, places and groups. Short and ASCII because they travel in callback data.
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
KEY_MAX_LENGTH = 32


def _pick(lang: str, zh: str, en: str) -> str:
    """Chinese unless the (Telegram) language code is English: "en", "en-US", "EN"…"""
    return en if lang.lower().startswith("en") else zh


@dataclass(frozen=True)
class Unit:
    """A body that handles cases: a district (属地), a line department (行业部门) or a special zone (园区)."""

    key: str
    kind: UnitKind
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return _pick(lang, self.name_zh, self.name_en)


#: Open311's attribute datatypes (GeoReport v2 service definitions).
ATTRIBUTE_DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


@dataclass(frozen=True)
class Attribute:
    """An extra question a category asks an Open311 client (``[[categories.attributes]]``): ``values`` are the
    (key, name) choices of a list datatype."""

    code: str
    datatype: str
    description: str
    required: bool = False
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Category:
    """What a complaint is about, its deadline class and who handles it.

    ``route`` is ``"local"`` (the district or zone where it happened) or the key of a unit (a line department).
    ``routes`` overrides that per district: ``{district key: unit key or "local"}``.
    """

    key: str
    name_zh: str
    name_en: str
    deadline_class: DeadlineClass
    route: str
    routes: Mapping[str, str] = field(default_factory=FrozenMap)
    keywords: tuple[str, ...] = ()
    #: Words that make the category a likely suggestion for a description (not sensitivity triggers).
    suggest: tuple[str, ...] = ()
    #: Districts or zones where the category is more likely (a small push to its suggestion there).
    suggest_zones: tuple[str, ...] = ()
    #: For Open311's service list: a sentence on what the category covers, the group it is listed under, and
    #: the extra questions it asks (its service definition).
    description: str | None = None
    group: str | None = None
    attributes: tuple[Attribute, ...] = ()

    def name(self, lang: str) -> str:
        return _pick(lang, self.name_zh, self.name_en)

    def route_in(self, district: str | None) -> str:
        """The route for a case in ``district`` (a unit key, or None if unknown): a unit key or ``"local"``."""
        if district is not None and district in self.routes:
            return self.routes[district]
        return self.route


@dataclass(frozen=True)
class Place:
    """A well-known place a resident may type instead of sharing a location."""

    key: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]
    unit: str  # the district or zone it lies in
    lat: float
    lon: float

    def name(self, lang: str) -> str:
        return _pick(lang, self.name_zh, self.name_en)


@dataclass(frozen=True)
class Group:
    """A group chat the bot works in: a unit's liaison chat, the coordination or the supervision group."""

    key: str
    title: str
    role: GroupRole
    unit: str | None  # set iff role == "unit"


@dataclass(frozen=True)
class City:
    name_zh: str
    name_en: str
    timezone: ZoneInfo
    bounds: Bounds
    units: tuple[Unit, ...]
    categories: tuple[Category, ...]
    places: tuple[Place, ...]
    groups: tuple[Group, ...]
    zones: tuple[Zone, ...] = ()  # jurisdiction polygons from the city's [zones] file, in WGS84
    calendar_config: CalendarConfig = field(default_factory=CalendarConfig)

    def name(self, lang: str) -> str:
        return _pick(lang, self.name_zh, self.name_en)

    def router(self) -> Router:
        """Routing by location and category for this city (built on first use, then shared)."""
        return self._router

    def whereabouts(self, lat: float, lon: float) -> Whereabouts:
        """The point's zone and nearest named place (keys), for saying where it is in words."""
        return whereabouts(lat, lon, self._router, self._landmarks)

    def suggester(self) -> Suggester:
        """Category suggestions for a description (built on first use, then shared; its segmenter loads on
        first use of its own)."""
        return self._suggester

    def calendar(self) -> WorkingCalendar:
        """Working days and hours of this city (built on first use, then shared)."""
        return self._calendar

    def unit(self, key: str) -> Unit:
        """The unit with this key; KeyError if there is none."""
        return self._units_by_key[key]

    def category(self, key: str) -> Category:
        """The category with this key; KeyError if there is none."""
        return self._categories_by_key[key]

    def place(self, key: str) -> Place:
        """The place with this key; KeyError if there is none."""
        return self._places_by_key[key]

    def group(self, key: str) -> Group:
        """The group with this key; KeyError if there is none."""
        return self._groups_by_key[key]

    def group_for_unit(self, unit: str) -> Group | None:
        """The liaison group of a unit, if the city file declares one."""
        return next((g for g in self.groups if g.role == "unit" and g.unit == unit), None)

    def group_with_role(self, role: Literal["coordination", "supervision"]) -> Group | None:
        """The coordination or supervision group, if the city file declares one (there is at most one)."""
        return next((g for g in self.groups if g.role == role), None)

    # Lookup tables, built on first use (cached_property writes to __dict__, which a frozen dataclass allows).
    @cached_property
    def _calendar(self) -> WorkingCalendar:
        return self.calendar_config.calendar(self.timezone)

    @cached_property
    def _units_by_key(self) -> dict[str, Unit]:
        return {u.key: u for u in self.units}

    @cached_property
    def _categories_by_key(self) -> dict[str, Category]:
        return {c.key: c for c in self.categories}

    @cached_property
    def _places_by_key(self) -> dict[str, Place]:
        return {p.key: p for p in self.places}

    @cached_property
    def _groups_by_key(self) -> dict[str, Group]:
        return {g.key: g for g in self.groups}

    @cached_property
    def _landmarks(self) -> tuple[Landmark, ...]:
        return tuple(Landmark(p.key, p.lat, p.lon) for p in self.places)

    @cached_property
    def _suggester(self) -> Suggester:
        return Suggester([CategoryWords(c.key, (c.name_zh, *c.suggest), c.suggest_zones) for c in self.categories])

    @cached_property
    def _router(self) -> Router:
        rules = {c.key: CategoryRule(key=c.key, route=c.route, routes=c.routes) for c in self.categories}
        return Router(self.zones, rules, frozenset(u.key for u in self.units if u.kind == "district"))


_CITY_KEYS = (
    "name_zh", "name_en", "timezone", "bounds", "units", "categories", "places", "groups", "zones", "calendar",
)
_UNIT_KEYS = ("key", "kind", "name_zh", "name_en")
_CATEGORY_KEYS = (
    "key", "name_zh", "name_en", "deadline_class", "route", "routes", "keywords", "suggest", "suggest_zones",
    "description", "group", "attributes",
)
_PLACE_KEYS = ("key", "name_zh", "name_en", "aliases", "unit", "lat", "lon")
_GROUP_KEYS = ("key", "title", "role", "unit")


def load_city(path: str | Path) -> City:
    """Load and validate a city file on its own; ConfigError on any problem."""
    shown = str(path)
    return _parse_city(_Table(shown, "", _read_toml(Path(path), shown)), Path(path).parent)


def _unique_key(item: _Table, seen: dict[str, str]) -> str:
    """The item's key: it must follow the key rules, and no earlier item of the same array may have it."""
    key = item._get("key", _REQUIRED)
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key) or len(key) > KEY_MAX_LENGTH:
        item.fail(
            "key",
            f"must be lowercase letters, digits and _ (starting with a letter, at most {KEY_MAX_LENGTH}),"
            f" got {_show(key)}",
        )
    if key in seen:
        item.fail("key", f"duplicate key {key!r} (already used by {seen[key]})")
    seen[key] = item.where
    return key


def _parse_city(top: _Table, folder: Path) -> City:
    """``folder``: the city file's directory, against which a relative ``zones.file`` is resolved."""
    top.check_keys(_CITY_KEYS)
    name_zh = top.string("name_zh")
    name_en = top.string("name_en")
    timezone = _timezone(top)
    bounds = _bounds(top.table("bounds", required=True))
    units = _units(top)
    unit_by_key = {u.key: u for u in units}
    categories = _categories(top, unit_by_key)
    places = _places(top, unit_by_key, bounds)
    groups = _groups(top, unit_by_key)
    zones = _zones(top, folder, unit_by_key, bounds)
    calendar_config = _calendar(top.table("calendar"))
    return City(
        name_zh=name_zh,
        name_en=name_en,
        timezone=timezone,
        bounds=bounds,
        units=units,
        categories=categories,
        places=places,
        groups=groups,
        zones=zones,
        calendar_config=calendar_config,
    )


def _timezone(top: _Table) -> ZoneInfo:
    name = top.string("timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        top.fail("timezone", f'unknown time zone {_show(name)} (use an IANA name such as "Asia/Shanghai")')


def _bounds(table: _Table) -> Bounds:
    table.check_keys(("south", "west", "north", "east"))
    south, north = (table.number(k) for k in ("south", "north"))
    west, east = (table.number(k) for k in ("west", "east"))
    for key, value, limit in (("south", south, 90), ("north", north, 90), ("west", west, 180), ("east", east, 180)):
        if not -limit <= value <= limit:
            table.fail(key, f"must be between -{limit} and {limit}, got {value:g}")
    if south >= north:
        table.fail("south", f"must be less than north ({north:g}), got {south:g}")
    if west >= east:
        table.fail("west", f"must be less than east ({east:g}), got {west:g}")
    return Bounds(south=south, west=west, north=north, east=east)


def _units(top: _Table) -> tuple[Unit, ...]:
    seen: dict[str, str] = {}
    units = []
    for item in top.tables("units", required=True):
        item.check_keys(_UNIT_KEYS)
        units.append(
            Unit(
                key=_unique_key(item, seen),
                kind=item.choice("kind", get_args(UnitKind)),  # type: ignore[arg-type]
                name_zh=item.string("name_zh"),
                name_en=item.string("name_en"),
            )
        )
    return tuple(units)


def _categories(top: _Table, units: Mapping[str, Unit]) -> tuple[Category, ...]:
    items = top.tables("categories", required=True)
    if not items:
        top.fail("categories", "at least one category is required")
    has_district = any(u.kind == "district" for u in units.values())
    seen: dict[str, str] = {}
    categories = []
    for item in items:
        item.check_keys(_CATEGORY_KEYS)
        key = _unique_key(item, seen)
        name_zh = item.string("name_zh")
        name_en = item.string("name_en")
        deadline_class = DeadlineClass(item.choice("deadline_class", tuple(c.value for c in DeadlineClass)))
        route = _route(item, "route", units)
        if route == LOCAL and not has_district:
            item.fail("route", '"local" needs at least one unit of kind "district"')
        routes_table = item.table("routes")
        routes: dict[str, str] = {}
        for district in routes_table.data:
            unit = units.get(district)
            if unit is None or unit.kind != "district":
                what = "no unit has that key" if unit is None else f"that unit is a {unit.kind}"
                routes_table.fail(None, f"{district!r} is not a district ({what})")
            routes[district] = _route(routes_table, district, units)
        categories.append(
            Category(
                key=key,
                name_zh=name_zh,
                name_en=name_en,
                deadline_class=deadline_class,
                route=route,
                routes=FrozenMap(routes),
                keywords=item.strings("keywords", ()),
                suggest=_suggest_words(item),
                suggest_zones=_suggest_zones(item, units),
                description=item.string("description") if item.has("description") else None,
                group=item.string("group") if item.has("group") else None,
                attributes=_attributes(item),
            )
        )
    return tuple(categories)


def _attributes(category: _Table) -> tuple[Attribute, ...]:
    attributes: list[Attribute] = []
    seen: dict[str, str] = {}
    for item in category.tables("attributes"):
        item.check_keys(("code", "datatype", "description", "required", "values"))
        code = item.string("code")
        if not KEY_PATTERN.fullmatch(code) or len(code) > KEY_MAX_LENGTH:
            item.fail("code", f"must be lowercase letters, digits and _ (starting with a letter, at most "
                      f"{KEY_MAX_LENGTH}), got {_show(code)}")
        if code in seen:
            item.fail("code", f"duplicate code {code!r} (already used by {seen[code]})")
        seen[code] = item.where
        datatype = item.choice("datatype", ATTRIBUTE_DATATYPES)
        values = []
        for value in item.tables("values"):
            value.check_keys(("key", "name"))
            values.append((value.string("key"), value.string("name")))
        if datatype.endswith("valuelist") and not values:
            item.fail("values", f"a {datatype} needs its values ([[...values]] with key and name)")
        if values and not datatype.endswith("valuelist"):
            item.fail("values", f"only a singlevaluelist or multivaluelist has values, this is a {datatype}")
        if len({k for k, _ in values}) != len(values):
            item.fail("values", "two values have the same key")
        attributes.append(Attribute(code=code, datatype=datatype, description=item.string("description"),
                                    required=item.boolean("required", False), values=tuple(values)))
    return tuple(attributes)


def _suggest_words(item: _Table) -> tuple[str, ...]:
    words = item.strings("suggest", ())
    seen: set[str] = set()
    for word in words:
        if word.casefold() in seen:
            item.fail("suggest", f"{_show(word)} is listed twice")
        seen.add(word.casefold())
    return words


def _suggest_zones(item: _Table, units: Mapping[str, Unit]) -> tuple[str, ...]:
    zones = item.strings("suggest_zones", ())
    for key in zones:
        unit = units.get(key)
        if unit is None or unit.kind == "department":
            what = "no unit has that key" if unit is None else "that unit is a department"
            item.fail("suggest_zones", f"must list districts or zones, got {_show(key)} ({what})")
    return zones


def _route(table: _Table, key: str, units: Mapping[str, Unit]) -> str:
    value = table.string(key)
    if value != LOCAL and value not in units:
        close = difflib.get_close_matches(value, list(units), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        table.fail(key, f'must be "local" or the key of a unit, got {_show(value)}: no such unit{hint}')
    return value


def _places(top: _Table, units: Mapping[str, Unit], bounds: Bounds) -> tuple[Place, ...]:
    seen: dict[str, str] = {}
    names: dict[str, str] = {}  # casefolded name or alias -> key of the place that has it
    places = []
    for item in top.tables("places"):
        item.check_keys(_PLACE_KEYS)
        key = _unique_key(item, seen)
        name_zh = item.string("name_zh")
        name_en = item.string("name_en")
        aliases = item.strings("aliases", ())
        for field_name, label in (("name_zh", name_zh), ("name_en", name_en), *(("aliases", a) for a in aliases)):
            other = names.setdefault(label.casefold(), key)
            if other != key:
                item.fail(field_name, f"{_show(label)} is already a name or alias of place {other!r}")
        unit_key = item.string("unit")
        unit = units.get(unit_key)
        if unit is None or unit.kind == "department":
            what = "no unit has that key" if unit is None else "that unit is a department"
            item.fail("unit", f"must be the key of a district or zone, got {_show(unit_key)} ({what})")
        lat = item.number("lat")
        lon = item.number("lon")
        if not -90 <= lat <= 90:
            item.fail("lat", f"must be a latitude between -90 and 90, got {lat:g}")
        if not -180 <= lon <= 180:
            item.fail("lon", f"must be a longitude between -180 and 180, got {lon:g}")
        if not bounds.contains(lat, lon):
            outside = "lat" if not bounds.south <= lat <= bounds.north else "lon"
            item.fail(
                outside,
                f"({lat:g}, {lon:g}) lies outside the city's bounds (south {bounds.south:g}, west {bounds.west:g},"
                f" north {bounds.north:g}, east {bounds.east:g})",
            )
        places.append(
            Place(key=key, name_zh=name_zh, name_en=name_en, aliases=aliases, unit=unit_key, lat=lat, lon=lon)
        )
    return tuple(places)


def _groups(top: _Table, units: Mapping[str, Unit]) -> tuple[Group, ...]:
    seen: dict[str, str] = {}
    unit_taken: dict[str, str] = {}  # unit key -> where its group was declared
    role_taken: dict[str, str] = {}  # "coordination"/"supervision" -> where it was declared
    groups = []
    for item in top.tables("groups"):
        item.check_keys(_GROUP_KEYS)
        key = _unique_key(item, seen)
        title = item.string("title")
        role = item.choice("role", get_args(GroupRole))
        unit: str | None = None
        if role == "unit":
            unit = item.string("unit")
            if unit not in units:
                close = difflib.get_close_matches(unit, list(units), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                item.fail("unit", f"no unit has the key {_show(unit)}{hint}")
            if unit in unit_taken:
                item.fail("unit", f"unit {unit!r} already has a group ({unit_taken[unit]})")
            unit_taken[unit] = item.where
        else:
            if item.has("unit"):
                item.fail("unit", f'only a group with role "unit" has a unit; this one is {role}')
            if role in role_taken:
                item.fail("role", f"there can be only one {role} group (already {role_taken[role]})")
            role_taken[role] = item.where
        groups.append(Group(key=key, title=title, role=role, unit=unit))  # type: ignore[arg-type]
    return tuple(groups)

