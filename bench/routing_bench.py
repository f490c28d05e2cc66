"""Routing throughput: random points in the example city's bounds, Router versus a naive loop over every polygon.

    python -m bench.routing_bench                    # 100,000 points, naive baseline on the first 10,000
    python -m bench.routing_bench --points 20000 --naive-points 2000 --seed 7

The Router (bot.domain.routing) looks points up in a grid built once with an STR-tree and tests prepared
geometries only in cells a border crosses; "tree only" is the same Router without the grid (an STR-tree query per
point). The baseline does what the issue warns against: for every point, ``contains`` on every zone
polygon (unprepared copies), then picks the highest priority. Both must give the same answer for every point of
the subset (a mismatch is reported and makes the exit code 1). Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point

from bot.config import load_config
from bot.domain.routing import Router, Zone

REPO = Path(__file__).resolve().parent.parent
CATEGORY = "municipal"  # routed "local" everywhere in the example: every lookup needs the zones


def _points(n: int, seed: int, bounds: Any) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(rng.uniform(bounds.south, bounds.north), rng.uniform(bounds.west, bounds.east)) for _ in range(n)]


def _naive_unit(zones: list[tuple[Zone, Any]], lat: float, lon: float) -> str | None:
    point = Point(lon, lat)
    best: tuple[int, float, str] | None = None
    for zone, geometry in zones:
        if geometry.contains(point):
            rank = (-zone.priority, geometry.area, zone.unit)
            if best is None or rank < best:
                best = rank
    return best[2] if best else None


def _timed(fn: Any, points: list[tuple[float, float]]) -> tuple[list[Any], float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    answers = [fn(lat, lon) for lat, lon in points]
    return answers, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, default=REPO / "config.example.toml")
    p.add_argument("--points", type=int, default=100_000)
    p.add_argument("--naive-points", type=int, default=10_000, help="subset for the naive baseline")
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "routing.json")
    args = p.parse_args(argv)

    build = time.perf_counter()
    city = load_config(args.config).city
    router = city.router()
    build_s = time.perf_counter() - build
    points = _points(args.points, args.seed, city.bounds)
    subset = points[: args.naive_points]
    # Unprepared copies: the Router prepares the zones' own geometries in place.
    naive_zones = [(z, shapely.from_wkb(shapely.to_wkb(z.geometry))) for z in city.zones]

    _timed(lambda lat, lon: router.route(CATEGORY, lat=lat, lon=lon), points[:1000])  # warm-up
    routes, route_s, route_cpu = _timed(lambda lat, lon: router.route(CATEGORY, lat=lat, lon=lon), points)
    _, zones_s, _ = _timed(router.zones_at, points)
    tree_only = Router(city.zones, {}, frozenset(), grid_cells=0)  # every lookup queries the STR-tree
    _, tree_s, _ = _timed(tree_only.zones_at, points)
    naive, naive_s, naive_cpu = _timed(lambda lat, lon: _naive_unit(naive_zones, lat, lon), subset)

    # Points exactly on a border may legitimately differ (contains vs covers); random floats practically never are.
    mismatches = [i for i, unit in enumerate(naive) if routes[i].unit != unit]
    per_s = {
        "router_route": args.points / route_s,
        "router_zones_at": args.points / zones_s,
        "router_zones_at_tree_only": args.points / tree_s,
        "naive_loop": len(subset) / naive_s,
    }
    result = {
        "benchmark": "routing",
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "shapely": shapely.__version__,
            "geos": shapely.geos_version_string,
        },
        "parameters": {
            "config": str(args.config),
            "points": args.points,
            "naive_points": len(subset),
            "seed": args.seed,
            "category": CATEGORY,
            "bounds": [city.bounds.south, city.bounds.west, city.bounds.north, city.bounds.east],
            "zones": len(city.zones),
            "vertices": int(sum(shapely.get_coordinates(z.geometry).shape[0] for z in city.zones)),
        },
        "router_build_and_config_load_s": build_s,
        "lookups_per_s": per_s,
        "cpu_us_per_lookup": {
            "router_route": route_cpu / args.points * 1e6,
            "naive_loop": naive_cpu / len(subset) * 1e6,
        },
        "ratio_route_to_naive": per_s["router_route"] / per_s["naive_loop"],
        "ratio_zones_at_to_naive": per_s["router_zones_at"] / per_s["naive_loop"],
        "answers": dict(Counter(r.unit or "(coordinators)" for r in routes).most_common()),
        "mismatches_with_naive": len(mismatches),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    print(f"{len(city.zones)} zones, {result['parameters']['vertices']} vertices; seed {args.seed}")
    print(f"Router.route    {per_s['router_route']:>12,.0f} lookups/s  ({args.points:,} points)")
    print(f"Router.zones_at {per_s['router_zones_at']:>12,.0f} lookups/s  ({args.points:,} points)")
    print(f"  (tree only)   {per_s['router_zones_at_tree_only']:>12,.0f} lookups/s  (no grid: an STR-tree query each)")
    print(f"naive loop      {per_s['naive_loop']:>12,.0f} lookups/s  ({len(subset):,} points)")
    print(f"ratio Router.route / naive: {result['ratio_route_to_naive']:.1f}x (route also applies the category rule)")
    print(f"ratio Router.zones_at / naive: {result['ratio_zones_at_to_naive']:.1f}x (the same question)")
    print(f"answers: {result['answers']}")
    print(f"mismatches with the naive loop: {len(mismatches)}; results in {args.output}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
