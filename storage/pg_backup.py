"""Backups of a PostgreSQL database: ``pg_dump --format=custom`` and ``pg_restore``, with the refusals of the
SQLite ones (storage/backup.py): the backup never overwrites a file and is checked after (its table of contents
must hold our tables); a restore takes only such a file and refuses while a bot is connected (every bot connection
carries ``application_name = complaint-bot``, see storage/pg.py), then replaces the database's contents in one
transaction (``--clean --if-exists --single-transaction``).

The tools are PostgreSQL's own client programs (Debian's postgresql-client), found on PATH or in
/usr/lib/postgresql/*/bin; the password comes from the environment as for the bot.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from storage.backup import OUR_TABLES
from storage.pg import APPLICATION_NAME, PASSWORD_ENV


class NotOurDump(Exception):
    """The file is not a pg_dump archive of a complaint-bot database (or the tool failed: the message says)."""


class DatabaseInUse(Exception):
    """A bot is connected to the database."""


@dataclass(frozen=True)
class Done:
    database: str
    tables: int
    bytes: int = 0
    seconds: float = 0.0


def _tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if not found:
        raise NotOurDump(f"{name} not found (install Debian's postgresql-client)")
    return found


def _env() -> dict[str, str]:
    env = dict(os.environ)
    if env.get(PASSWORD_ENV) and not env.get("PGPASSWORD"):
        env["PGPASSWORD"] = env[PASSWORD_ENV]
    return env


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "?"


def _our_tables(archive: Path) -> int:
    listing = subprocess.run([_tool("pg_restore"), "--list", str(archive)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise NotOurDump(f"{archive}: not a pg_dump archive ({listing.stderr.strip().splitlines()[-1:]})")
    tables = {line.split()[-2] for line in listing.stdout.splitlines()
              if not line.startswith(";") and " TABLE " in line and " TABLE DATA " not in line}
    missing = OUR_TABLES - tables
    if missing:
        raise NotOurDump(f"{archive}: not a complaint-bot database (no table {', '.join(sorted(missing))})")
    return len(tables)


def dump(url: str, target: Path) -> Done:
    """pg_dump the database into the new file `target` (refused if it exists), then check its contents."""
    if target.exists():
        raise NotOurDump(f"{target} already exists; choose a new file")
    start = time.monotonic()
    partial = target.with_name(target.name + ".partial")
    run = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}", url],
                         capture_output=True, text=True, env=_env())
    if run.returncode != 0:
        partial.unlink(missing_ok=True)
        raise NotOurDump(f"pg_dump failed: {run.stderr.strip()}")
    try:
        tables = _our_tables(partial)
    except NotOurDump:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(target)
    return Done(_name(url), tables, target.stat().st_size, time.monotonic() - start)


def connected_bots(url: str) -> int:
    import psycopg

    from storage.pg import _connect_kwargs

    with psycopg.connect(url, **_connect_kwargs()) as conn:
        return int(conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND application_name = %s AND pid != pg_backend_pid()",
                                (APPLICATION_NAME,)).fetchone()[0])


def restore(url: str, source: Path) -> Done:
    """Replace the database's contents with the archive `source` (refused while a bot is connected)."""
    if not Path(source).is_file():
        raise NotOurDump(f"{source}: no such file")
    tables = _our_tables(Path(source))
    bots = connected_bots(url)
    if bots:
        raise DatabaseInUse(f"{_name(url)} is in use by {bots} bot connection(s)")
    run = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction", "--no-owner",
                          f"--dbname={url}", str(source)], capture_output=True, text=True, env=_env())
    if run.returncode != 0:
        raise NotOurDump(f"pg_restore failed (nothing was changed): {run.stderr.strip()}")
    return Done(_name(url), tables)
