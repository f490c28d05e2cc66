"""`complaint-bot seed-demo`: fill a database with a realistic demo year (see bot.seed).

Wiring (in bot/cli.py): ``cli_seed.register(sub)`` in ``_parser()`` and, in ``main()`` inside the ``try``,
``if args.command == "seed-demo": return cli_seed.run(args)``. A bad config raises ConfigError for main().
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path

from bot.config import load_config

EXIT_USAGE = 2


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("seed-demo", help="fill a database with a year of realistic demo tickets")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--tickets", required=True, type=_positive, help="how many tickets (about 2,000 a day is real)")
    p.add_argument("--db", type=Path, help="database file (default: storage.database of the config)")
    p.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same data")
    p.add_argument("--year-end", type=date.fromisoformat, help="last day of the year (default: today)")
    p.add_argument("--force", action="store_true", help="add to a database that already has tickets")
    return p


def run(args: argparse.Namespace) -> int:
    from bot.seed import seed_demo
    from storage.bulk import is_empty

    config = load_config(args.config)
    if args.db is None and config.storage.is_postgresql:
        print("complaint-bot seed-demo: seeds a SQLite file (--db PATH); move it to PostgreSQL with "
              "`complaint-bot migrate-data`", file=sys.stderr)
        return EXIT_USAGE
    db_path: Path = args.db or config.storage.database  # type: ignore[assignment]
    if not args.force and not is_empty(db_path):
        print(f"complaint-bot seed-demo: {db_path} already holds tickets; use --force to add demo data to it",
              file=sys.stderr)
        return EXIT_USAGE
    year_end = args.year_end or datetime.now(config.city.timezone).date()
    stats = seed_demo(db_path, config.city, args.tickets, year_end, args.seed)
    print(f"{db_path}: {stats.tickets} tickets ({stats.first_day} … {stats.last_day}), {stats.events} events, "
          f"{stats.users} demo reporters; open {stats.open}, overdue {stats.overdue}, "
          f"re-complaints {stats.reopened}, bounced {stats.bounced}; {stats.seconds} s")
    return 0
