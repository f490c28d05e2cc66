"""``complaint-bot inbox``: what the webhook inbox holds (README "Webhook mode": what to watch).

Prints the rows by state, how long the oldest pending update has waited, and the latest failed ones. Exit status
1 when the oldest pending update has waited longer than ``--max-wait-s``: processing falls behind (or no bot
runs). Usable from cron or a monitoring check, while the bot runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.config import load_config
from storage import inbox
from storage.db import Database


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("inbox", help="the webhook inbox: rows by state, the oldest pending, failures")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--max-wait-s", type=float, default=60.0,
                   help="exit 1 when the oldest pending update has waited longer (default 60)")
    p.add_argument("--failed", type=int, default=5, help="how many failed updates to show (default 5)")


def run(args: argparse.Namespace, out: TextIO | None = None, now: datetime | None = None) -> int:
    out = out or sys.stdout
    config = load_config(args.config)
    counts, oldest, failures = asyncio.run(_read(config.storage.database, args.failed))
    now = now or datetime.now(UTC)
    waited = (now - oldest).total_seconds() if oldest else 0.0
    states = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("pending", "done", "failed"))
    print(f"inbox of {config.storage.database}: {states}", file=out)
    if oldest is not None:
        print(f"oldest pending update received {waited:.0f} s ago", file=out)
    for row in failures:
        print(f"failed: update {row['update_id']} (chat {row['chat_id']}) at {row['processed_at']}: "
              f"{row['last_error']}", file=out)
    if waited > args.max_wait_s:
        print(f"BEHIND: an update has waited more than {args.max_wait_s:g} s (is the bot running?)", file=out)
        return 1
    return 0


async def _read(path: Path, failed: int) -> tuple[dict[str, int], datetime | None, list[Any]]:
    db = await Database.open(path)
    try:
        return await db.read(lambda c: (inbox.counts(c), inbox.oldest_pending(c), inbox.failed(c, failed)))
    finally:
        await db.close()
