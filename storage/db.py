"""The one place a database connection is opened and configured.

All access goes through one aiosqlite connection. A use-case hands `Database.write` a plain function of a
`sqlite3.Connection`; that function runs on the connection's own thread between ``BEGIN IMMEDIATE`` and
``COMMIT`` in a single hop (one await, not one per statement), so a use-case is atomic and nothing else can
interleave with it. A crash at any instant leaves either all of it or none of it.

`Database.open` also takes a ``postgresql://`` URL and then returns storage/pg.py's `PgDatabase`, which keeps the
same `write(fn)` / `read(fn)` contract over a connection pool. `IntegrityError` is the one name to catch a
constraint violation by, on either backend.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TypeVar

import aiosqlite

T = TypeVar("T")


def _integrity_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite works without it
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError)


#: A constraint violation (unique, foreign key, not null) on either backend: ``except IntegrityError``.
IntegrityError = _integrity_errors()

BUSY_TIMEOUT_MS = 5000


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous=NORMAL")


def migration_scripts() -> list[tuple[str, str]]:
    """(name, sql) of every numbered migration, in order."""
    folder = resources.files("storage") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(n.removesuffix(".sql"), (folder / n).read_text(encoding="utf-8")) for n in names]


def _migrate(conn: sqlite3.Connection) -> list[str]:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
    applied = []
    for name, sql in migration_scripts():
        if name in done:
            continue
        # executescript commits first; run the script and its log row inside one explicit transaction.
        conn.executescript(
            "BEGIN IMMEDIATE;\n" + sql + "\nINSERT INTO schema_migrations(name, applied_at) VALUES ("
            + _sql_literal(name) + ", " + _sql_literal(datetime.now(UTC).isoformat()) + ");\nCOMMIT;"
        )
        applied.append(name)
    return applied


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Database:
    """An open database: `write(fn)` for a use-case's transaction, `read(fn)` for queries."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._point: sqlite3.Connection | None = None  # read_point's own read-only connection, opened on first use

    path: Path | None

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """The SQLite file at `path`, or the PostgreSQL database of a ``postgresql://`` URL; migrated."""
        from storage.dialect import is_postgresql

        if is_postgresql(path):
            from storage.pg import PgDatabase

            return await PgDatabase.open(str(path))  # type: ignore[return-value]
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None, check_same_thread=False)
        db = cls(conn, path)
        await db._run(_configure)
        await db._run(_migrate)
        return db

    async def close(self) -> None:
        if self._point is not None:
            self._point.close()
            self._point = None
        await self._conn.close()

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        # aiosqlite has no public "run this function on your thread"; `_execute` is exactly that, and the
        # version range is pinned in pyproject.toml. The raw connection is only touched on that thread.
        return await self._conn._execute(lambda: fn(self._conn._conn))

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` as one transaction: committed if it returns, rolled back if it raises."""

        def transaction(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._run(transaction)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a query function; reads see only committed data (writes never stay open across hops)."""
        return await self._run(fn)

    async def read_point(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a few lookups by unique or primary key (``/status``) right here, on a read-only connection of their
        own, in one read transaction: committed data only, one snapshot. The hop to the writer's thread costs
        ~0.7 ms, ten times the lookups themselves (bench/status_bench.py); these block the event loop for about
        0.1 ms. Only for point lookups: anything that scans goes through `read`."""
        if str(self.path) == ":memory:":
            return await self.read(fn)
        if self._point is None:
            self._point = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                                          check_same_thread=False)
            self._point.row_factory = sqlite3.Row
            self._point.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn = self._point
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")
