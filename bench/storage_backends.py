"""Per-write latency of a small use-case on SQLite and on PostgreSQL (a quick script, not a test).

    PYTHONPATH=$PWD python3 bench/storage_backends.py [N]

The use-case is one transaction of a typical button press's size: upsert the user, draw a sequence number,
queue an outbox row. PostgreSQL is a throwaway local cluster (tests/pg_cluster.py: unix socket, fsync off) unless
COMPLAINT_BOT_TEST_PG names a server; SQLite is a file in WAL mode with synchronous=NORMAL (the bot's settings).
Prints median and p99 per write, sequential (one writer) and with 8 concurrent writers.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import outbox, sequences, users
from storage.db import Database
from tests.pg_cluster import Cluster

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def use_case(i: int):
    def tx(c):
        users.upsert(c, 1000 + i % 50, "zh", NOW)
        n = sequences.next_value(c, "bench")
        outbox.add(c, 1000 + i % 50, "message", {"text": f"#{n}"}, NOW)
    return tx


async def measure(target, n: int) -> dict[str, float]:
    db = await Database.open(target)
    for i in range(20):
        await db.write(use_case(i))  # warm up
    times = []
    for i in range(n):
        start = time.perf_counter()
        await db.write(use_case(i))
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    for batch in range(n // 8):
        await asyncio.gather(*(db.write(use_case(batch * 8 + k)) for k in range(8)))
    concurrent = (time.perf_counter() - start) / (n // 8 * 8)
    await db.close()
    times.sort()
    return {"median_ms": statistics.median(times) * 1e3, "p99_ms": times[int(len(times) * 0.99)] * 1e3,
            "per_write_8_concurrent_ms": concurrent * 1e3}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        lite = asyncio.run(measure(Path(tmp) / "bench.sqlite3", n))
    cluster = Cluster().start()
    try:
        pg = asyncio.run(measure(cluster.empty_database(), n))
    finally:
        cluster.stop()
    for name, got in (("sqlite", lite), ("postgresql", pg)):
        print(f"{name:<11} median {got['median_ms']:.3f} ms  p99 {got['p99_ms']:.3f} ms  "
              f"8 concurrent: {got['per_write_8_concurrent_ms']:.3f} ms/write")


if __name__ == "__main__":
    main()
