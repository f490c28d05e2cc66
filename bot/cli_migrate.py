"""`complaint-bot migrate-data --from sqlite:///PATH --to postgresql://…`: move a SQLite database into an empty
PostgreSQL one and verify it (storage/migrate_data.py says how). Prints one line per table (rows on each side and
the checksum); exits 1 if any table differs, 2 if it refuses (a non-empty target, a URL with a password, a source
that is not ours).

Wiring (in bot/cli.py): ``cli_migrate.register(sub)`` in ``_parser()`` and, in ``main()``,
``if args.command in cli_migrate.COMMANDS: return cli_migrate.run(args)``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlsplit

COMMANDS = ("migrate-data",)
EXIT_DIFFERS, EXIT_REFUSED = 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("migrate-data", help="copy a SQLite database into an empty PostgreSQL one, verified")
    p.add_argument("--from", dest="source", required=True, help="sqlite:///PATH of the SQLite database")
    p.add_argument("--to", dest="target", required=True,
                   help="postgresql://USER@HOST:PORT/DB (the password from PGPASSWORD or COMPLAINT_BOT_DB_PASSWORD)")


def _refuse(why: object) -> int:
    print(f"complaint-bot migrate-data: {why}", file=sys.stderr)
    return EXIT_REFUSED


def run(args: argparse.Namespace) -> int:
    from storage.backup import NotOurDatabase, inspect
    from storage.migrate_data import TargetNotEmpty, migrate, missing_migrations, report

    if not args.source.startswith("sqlite:///"):
        return _refuse(f"--from must be sqlite:///PATH, got {args.source!r}")
    source = Path(args.source.removeprefix("sqlite:///"))  # sqlite:///rel/path, sqlite:////abs/path
    target = urlsplit(args.target)
    if target.scheme not in ("postgresql", "postgres"):
        return _refuse(f"--to must be a postgresql:// URL, got {args.target!r}")
    if target.password is not None:
        return _refuse("--to must not contain a password: set PGPASSWORD or COMPLAINT_BOT_DB_PASSWORD")
    try:
        inspect(source, integrity=False)
    except NotOurDatabase as error:
        return _refuse(error)
    missing = missing_migrations(source)
    if missing:
        return _refuse(f"{source} lacks migrations {', '.join(missing)}: start the bot (or `complaint-bot "
                       "migrate`) on it once with this version first")
    try:
        checks = migrate(source, args.target, progress=lambda line: print(line, file=sys.stderr))
    except TargetNotEmpty as error:
        return _refuse(error)
    print(report(checks))
    bad = [c.table for c in checks if not c.ok]
    if bad:
        print(f"complaint-bot migrate-data: {len(bad)} tables differ: {', '.join(bad)}", file=sys.stderr)
        return EXIT_DIFFERS
    print(f"all {len(checks)} tables copied and verified")
    return 0
