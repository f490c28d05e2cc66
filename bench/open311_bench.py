"""The Open311 API's cost over real HTTP (loopback): POST requests filed per second, and the time of the largest
answers — GET requests of 1,000 tickets and servicerequestupdates of a busy day — in JSON and XML.

    python -m bench.open311_bench                 # 20,000 seeded tickets, 200 POSTs, 10 rounds of each GET
    python -m bench.open311_bench --tickets 5000 --posts 50 --rounds 3

The tickets are seeded through the lifecycle (bot.seed.seed_tickets) over the last 90 days, so GET requests
without filters answers its maximum of 1,000. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import platform
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.api.server import ApiServer, key_digest
from bot.clock import FakeClock
from bot.config import Open311Client, load_config
from bot.domain.lifecycle import TicketState
from bot.seed import TicketSeed, seed_tickets
from bot.services import Services
from storage.db import Database

REPO = Path(__file__).resolve().parent.parent
KEY = "bench-key"
STATES = (TicketState.DISPATCHED, TicketState.ACCEPTED, TicketState.RESOLVED, TicketState.CLOSED)


async def run(tickets: int, posts: int, rounds: int, seed: int) -> dict:
    cfg = load_config(REPO / "config.example.toml")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = dataclasses.replace(
            cfg, storage=dataclasses.replace(cfg.storage, database=Path(tmp) / "bench.sqlite3"),
            open311=dataclasses.replace(cfg.open311, enabled=True, requests_per_minute=10**6,
                                        clients=(Open311Client("bench", key_digest(KEY)),)))
        clock = FakeClock()
        db = await Database.open(cfg.storage.database)
        rng = random.Random(seed)
        now = clock.now()
        seeds = [TicketSeed(rng.choice(STATES), "housing", "yingzhou", "general",
                            now - timedelta(minutes=rng.randrange(90 * 24 * 60)), -2, due=now + timedelta(days=3),
                            closed_at=now - timedelta(minutes=1)) for _ in range(tickets)]
        await db.write(lambda c: seed_tickets(c, seeds))
        services = Services.build(cfg, db, clock)
        out: dict = {"tickets": tickets, "python": platform.python_version()}
        async with TestClient(TestServer(ApiServer(services).make_app())) as http:
            form = {"api_key": KEY, "service_code": "municipal", "lat": "32.883", "long": "115.812",
                    "attribute[facility]": "road", "description": "路面塌了一个坑，车辆经过很危险。"}
            start = time.perf_counter()
            for _ in range(posts):
                async with http.post("/open311/v2/requests.json", data=form) as r:
                    assert r.status == 200, await r.text()
            out["posts_per_s"] = round(posts / (time.perf_counter() - start), 1)
            for path, params in (("requests", {}), ("servicerequestupdates",
                                                   {"start_date": (now - timedelta(days=3)).isoformat()})):
                for fmt in ("json", "xml"):
                    times, size, rows = [], 0, 0
                    for _ in range(rounds):
                        start = time.perf_counter()
                        async with http.get(f"/open311/v2/{path}.{fmt}", params=params) as r:
                            body = await r.read()
                        times.append(time.perf_counter() - start)
                        size = len(body)
                        rows = len(json.loads(body)) if fmt == "json" else body.count(b"<service_request_id>")
                    out[f"{path}.{fmt}"] = {"median_ms": round(statistics.median(times) * 1000, 1), "rows": rows,
                                            "bytes": size}
        await db.close()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=20_000)
    p.add_argument("--posts", type=int, default=200)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    print(json.dumps(asyncio.run(run(args.tickets, args.posts, args.rounds, args.seed)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
