"""`complaint-bot backup` and `complaint-bot restore`: a copy of the database taken while the bot runs, and
putting one back while it does not (storage/backup.py says how the copy is made, storage/running.py how a
running bot is detected).

Wiring (in bot/cli.py): ``cli_backup.register(sub)`` in ``_parser()`` and, in ``main()`` inside the ``try``,
``if args.command in cli_backup.COMMANDS: return cli_backup.run(args)``. A bad config raises ConfigError.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import load_config

COMMANDS = ("backup", "restore")
EXIT_REFUSED = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("backup", help="copy the database (safe while the bot runs), checked after")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--to", required=True, type=Path, help="the new file (must not exist yet)")
    r = subparsers.add_parser("restore", help="replace the database with a backup (the bot must be stopped)")
    r.add_argument("--config", required=True, type=Path)
    r.add_argument("--from", dest="source", required=True, type=Path, help="a file made by `backup`")


def _refuse(command: str, why: object) -> int:
    print(f"complaint-bot {command}: {why}", file=sys.stderr)
    return EXIT_REFUSED


def run(args: argparse.Namespace) -> int:
    from storage.backup import NotOurDatabase, copy, inspect, replace_with
    from storage.running import DatabaseInUse, RunningLock

    storage = load_config(args.config).storage
    if storage.is_postgresql:
        return _run_postgresql(args, str(storage.database))
    database = Path(storage.database)
    if args.command == "backup":
        target: Path = args.to
        if target.exists():
            return _refuse("backup", f"{target} already exists; choose a new file")
        try:
            inspect(database, integrity=False)  # ours? (the copy is checked in full)
            seconds = copy(database, target)
            got = inspect(target)
        except NotOurDatabase as error:
            return _refuse("backup", error)
        print(f"backup of {database} written to {target}: {got.tickets} tickets, {got.events} events, "
              f"{got.pending_outbox} pending outbox rows, {got.bytes / 1e6:.1f} MB in {seconds:.2f} s; "
              f"integrity check ok")
        return 0
    source: Path = args.source
    try:
        inspect(source, integrity=False)  # refuse a stranger at once; the copy is checked in full before use
    except NotOurDatabase as error:
        return _refuse("restore", f"refused: {error}")
    try:
        with RunningLock(database):  # held while restoring, so no bot can start on a half-restored file
            kept = replace_with(database, source)
            got = inspect(database, integrity=False)  # the checked copy, renamed
    except DatabaseInUse as error:
        return _refuse("restore", f"refused: {error}; stop it first")
    except NotOurDatabase as error:
        return _refuse("restore", f"refused: {error}")
    print(f"restored {database} from {source}: {got.tickets} tickets, {got.events} events, "
          f"{got.pending_outbox} pending outbox rows; integrity check ok"
          + (f"; the previous file is kept as {kept}" if kept else ""))
    return 0


def _run_postgresql(args: argparse.Namespace, url: str) -> int:
    """The same two commands on PostgreSQL: pg_dump (custom format) and pg_restore (storage/pg_backup.py)."""
    from storage.pg_backup import DatabaseInUse, NotOurDump, dump, restore

    if args.command == "backup":
        target: Path = args.to
        if target.exists():
            return _refuse("backup", f"{target} already exists; choose a new file")
        try:
            got = dump(url, target)
        except NotOurDump as error:
            return _refuse("backup", error)
        print(f"backup of {got.database} written to {target}: {got.tables} tables, {got.bytes / 1e6:.1f} MB in "
              f"{got.seconds:.2f} s (pg_dump, custom format); its table of contents checked")
        return 0
    try:
        got = restore(url, args.source)
    except DatabaseInUse as error:
        return _refuse("restore", f"refused: {error}; stop it first")
    except NotOurDump as error:
        return _refuse("restore", f"refused: {error}")
    print(f"restored {got.database} from {args.source}: {got.tables} tables (pg_restore)")
    return 0
