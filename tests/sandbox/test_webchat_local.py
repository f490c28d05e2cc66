"""The web chat's world: the city map drawn from the example city, and the people ``complaint-bot sandbox``
puts in its chat list."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
from shapely.geometry import Point, Polygon

from bot.clock import FakeClock
from bot.config import load_config
from sandbox.local import RESIDENTS, LocalSandbox
from sandbox.webcity import city_map
from storage import chats
from tests.e2e.conftest import e2e_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_city_map_has_every_zone_labelled_inside_itself_and_the_park_drawn_last() -> None:
    city = load_config(ROOT / "config.example.toml").city
    drawn = city_map(city)
    assert {z["unit"] for z in drawn["zones"]} == {z.unit for z in city.zones}
    assert [z["priority"] for z in drawn["zones"]] == sorted(z["priority"] for z in drawn["zones"])
    assert drawn["zones"][-1]["unit"] == "fuhe_park"  # drawn over 颍州区, which it is carved out of
    for zone in drawn["zones"]:
        shapes = [Polygon(ring) for ring in zone["rings"]]
        assert any(s.contains(Point(zone["label"])) for s in shapes), zone["unit"]
        assert zone["name"]["zh"] and zone["name"]["en"]
    b = drawn["bounds"]
    assert all(b["south"] <= p["lat"] <= b["north"] and b["west"] <= p["lon"] <= b["east"] for p in drawn["places"])
    assert len(drawn["places"]) == len(city.places)
    assert len(json.dumps(drawn)) < 100_000  # simplified: the page loads it at once


async def test_the_sandbox_with_people_lists_every_role_and_registers_them(tmp_path: Path) -> None:
    config = e2e_config(tmp_path)
    async with LocalSandbox(config, clock=FakeClock(), people=True) as local, aiohttp.ClientSession() as http:
        async with http.get(f"{local.sandbox.url}/_control/directory") as resp:
            listed = (await resp.json())["chats"]
        kinds = [c["kind"] for c in listed]
        assert kinds.count("resident") == len(RESIDENTS)
        assert [c["language_code"] for c in listed if c["kind"] == "resident"].count("en") == 1
        assert kinds.count("unit") == len([g for g in config.city.groups if g.role == "unit"])
        assert {"coordination", "supervision", "social_supervisor", "admin"} <= set(kinds)
        assert local.admin is not None and local.social_supervisor is not None
        assert local.admin["id"] in local.config.admins
        assert local.social_supervisor["id"] in await local.db.read(chats.social_supervisors)  # type: ignore[union-attr]
        async with http.get(f"{local.sandbox.url}/_control/city") as resp:
            assert len((await resp.json())["zones"]) == len(config.city.zones)
        assert f"{local.sandbox.url}/" in local.welcome()


async def test_the_sandbox_without_people_adds_nobody(tmp_path: Path) -> None:
    async with LocalSandbox(e2e_config(tmp_path), clock=FakeClock()) as local:
        assert local.admin is None and local.residents == []
        assert {r["kind"] for r in local.sandbox.web.roles} == {"unit", "coordination", "supervision"}
