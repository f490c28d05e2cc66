"""`complaint-bot purge-personal-data`: forget the people behind tickets closed more than DAYS ago, keeping the
figures (bot/workflow/purge.py; what is kept and what goes: storage/purge.py). Safe while the bot runs.

Wiring (in bot/cli.py): ``cli_purge.register(sub)`` in ``_parser()`` and, in ``main()`` inside the ``try``,
``if args.command == "purge-personal-data": return cli_purge.run(args)``. A bad config raises ConfigError.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

from bot.config import load_config


def _days(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("purge-personal-data",
                              help="remove reporters' identities and texts from tickets closed DAYS ago or more")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--older-than", required=True, type=_days, metavar="DAYS", help="closed more than DAYS days ago")
    p.add_argument("--dry-run", action="store_true", help="count what would be removed, change nothing")


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_purge(args))


async def _purge(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.workflow.purge import purge_personal_data
    from storage.db import Database

    config = load_config(args.config)
    db = await Database.open(config.storage.database)
    try:
        def progress(done) -> None:  # type: ignore[no-untyped-def]
            print(f"… {done.tickets} tickets", file=sys.stderr, flush=True)

        counts = await purge_personal_data(db, SystemClock().now(), args.older_than, dry_run=args.dry_run,
                                           keep_users=config.admins, progress=progress)
    finally:
        await db.close()
    what = ", ".join(f"{v} {k}" for k, v in dataclasses.asdict(counts).items())
    verb = "would purge" if args.dry_run else "purged"
    print(f"{verb} tickets closed more than {args.older_than} days ago: {what}")
    return 0
