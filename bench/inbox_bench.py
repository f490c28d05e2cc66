"""The webhook inbox's own cost (storage/inbox.py), without Telegram or handlers: receipt (store), and a backlog
drained by claim + finish — the two database hops webhook mode adds per update (bot/webhook.py).

    python -m bench.inbox_bench                      # 20,000 updates over 500 chats
    python -m bench.inbox_bench --updates 5000 --chats 50

The backlog is what a restart after downtime meets (Telegram keeps a day of updates): every update pending at
once, so each claim must find its row without walking the queue. Writes bench/results/inbox.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import machine_info, percentile, write_json
from storage import inbox
from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _update(update_id: int, chat: int) -> str:
    return json.dumps({"update_id": update_id, "message": {"message_id": update_id, "date": 0, "text": "路灯坏了",
                                                         "chat": {"id": chat, "type": "private"}}})


async def bench(updates: int, chats: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="inbox-bench-") as tmp:
        db = await Database.open(Path(tmp) / "inbox.sqlite3")
        try:
            store_s: list[float] = []
            for i in range(updates):
                chat, payload = 1000 + i % chats, _update(i + 1, 1000 + i % chats)
                t = time.perf_counter()
                await db.write(lambda c, i=i, chat=chat, payload=payload: inbox.store(c, i + 1, chat, payload, now))
                store_s.append(time.perf_counter() - t)
            claim_s: list[float] = []
            began = time.perf_counter()
            while True:
                t = time.perf_counter()
                row = await db.write(lambda c: inbox.claim(c, "bench", now, now + timedelta(minutes=2)))
                if row is None:
                    break
                await db.write(lambda c, uid=row.update_id: inbox.finish(c, uid, "bench", now))
                claim_s.append(time.perf_counter() - t)
            drained = time.perf_counter() - began
            assert len(claim_s) == updates, (len(claim_s), updates)
            pruned = await db.write(lambda c: inbox.prune(c, now + timedelta(seconds=1)))
        finally:
            await db.close()
    return {
        "updates": updates, "chats": chats, "machine": machine_info(),
        "store_us_p50": percentile(store_s, 50) * 1e6, "store_us_p99": percentile(store_s, 99) * 1e6,
        "claim_finish_us_p50": percentile(claim_s, 50) * 1e6, "claim_finish_us_p99": percentile(claim_s, 99) * 1e6,
        "backlog_drained_per_s": updates / drained, "pruned": pruned,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.inbox_bench", description=__doc__.splitlines()[0])
    p.add_argument("--updates", type=int, default=20_000)
    p.add_argument("--chats", type=int, default=500)
    p.add_argument("--output", type=Path, default=RESULTS / "inbox.json")
    args = p.parse_args(argv)
    report = asyncio.run(bench(args.updates, args.chats))
    write_json(args.output, report)
    print(f"{report['updates']} updates over {report['chats']} chats\n"
          f"store (receipt)        p50 {report['store_us_p50']:.0f} µs  p99 {report['store_us_p99']:.0f} µs\n"
          f"claim + finish         p50 {report['claim_finish_us_p50']:.0f} µs  "
          f"p99 {report['claim_finish_us_p99']:.0f} µs\n"
          f"backlog drained        {report['backlog_drained_per_s']:.0f} updates/s (database only)\n"
          f"written: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
