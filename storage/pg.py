"""PostgreSQL behind the same `write(fn)` / `read(fn)` contract as storage/db.py's SQLite `Database`.

psycopg 3 with a synchronous `psycopg_pool.ConnectionPool`: a use-case's plain function runs in a worker thread
(an executor as large as the pool) on one pooled connection inside ``with conn.transaction()``, so it stays ONE
transaction and its repositories stay plain functions. Writes run at READ COMMITTED: every ticket change is
``UPDATE tickets … WHERE id = ? AND version = ?`` (storage/tickets.py `update`), and PostgreSQL re-checks that
predicate on the newest row version after waiting for a concurrent writer's lock, so the loser of a race updates
nothing and gets the same stale answer as on SQLite. A deadlock or serialisation failure (two use-cases touching
the same summary rows in opposite orders) is retried a few times: the function has no side effects outside its
transaction.

`PgConnection` gives the repositories the sqlite3 spelling they use: ``execute(sql, params)``, ``executemany``,
``executescript``, cursors with ``fetchone`` / ``fetchall`` / ``rowcount`` / iteration, rows with index and key
access. SQL is translated by storage/dialect.py (once per distinct string).

The password never comes from the URL (the config refuses one): libpq reads ``PGPASSWORD``, and
``COMPLAINT_BOT_DB_PASSWORD`` is passed on when set.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar, TypeVar

import psycopg
import psycopg.errors
from psycopg.adapt import Dumper, Loader
from psycopg_pool import ConnectionPool

from storage import dialect
from storage.dialect import is_postgresql

T = TypeVar("T")

__all__ = ["PgConnection", "PgDatabase", "is_postgresql", "migrate"]

PASSWORD_ENV = "COMPLAINT_BOT_DB_PASSWORD"
#: Every bot connection says who it is (a restore refuses while one is connected: storage/pg_backup.py).
APPLICATION_NAME = "complaint-bot"
POOL_SIZE = int(os.environ.get("COMPLAINT_BOT_DB_POOL", "8"))
RETRIES = 5
_RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


# -- rows and connections ------------------------------------------------------------------------------------------

class Row(tuple):
    """A result row: by position like a tuple, by column name like `sqlite3.Row`."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], Row]:
    if cursor.description is None:
        return tuple  # type: ignore[return-value]
    cls = _row_class(tuple(c.name for c in cursor.description))
    return cls


class _NumberLoader(Loader):
    """numeric (what sum() of integers gives) as int when whole, else float: what SQLite hands back."""

    def load(self, data: Any) -> Any:
        text = bytes(data).decode()
        try:
            return int(text)
        except ValueError:
            return float(text)


class _BoolAsIntDumper(Dumper):
    """A Python bool parameter is 1 or 0 (our flags are INTEGER columns, as in SQLite)."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


def _configure(conn: psycopg.Connection) -> None:
    conn.row_factory = _row_factory  # type: ignore[assignment]
    conn.adapters.register_loader("numeric", _NumberLoader)
    conn.adapters.register_dumper(bool, _BoolAsIntDumper)


def _params(params: Any) -> Any:
    return () if params is None else params


class PgCursor:
    """What a repository gets back from `execute`."""

    def __init__(self, cur: psycopg.Cursor) -> None:
        self._cur = cur

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur.description is not None else None

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall() if self._cur.description is not None else []

    def fetchmany(self, size: int = 1) -> list[Any]:
        return self._cur.fetchmany(size) if self._cur.description is not None else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cur) if self._cur.description is not None else iter(())

    def close(self) -> None:
        self._cur.close()

    @property
    def lastrowid(self) -> Any:
        raise AttributeError("lastrowid does not exist on PostgreSQL: use INSERT … RETURNING id")


class PgConnection:
    """The sqlite3.Connection methods our repositories use, over one psycopg connection."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Any = None) -> PgCursor:
        return PgCursor(self.raw.execute(dialect.postgresql(sql), _params(params)))  # type: ignore[arg-type]

    def executemany(self, sql: str, seq: Iterable[Any]) -> PgCursor:
        cur = self.raw.cursor()
        cur.executemany(dialect.postgresql(sql), list(seq))  # type: ignore[arg-type]
        return PgCursor(cur)

    def executescript(self, sql: str) -> None:
        self.raw.execute(sql)  # type: ignore[arg-type]  # no parameters: sent as it is, several statements


# -- migrations -----------------------------------------------------------------------------------------------------

def migration_scripts() -> list[tuple[str, str]]:
    """(name, sql) of every PostgreSQL migration, in order (storage/migrations/postgresql/)."""
    folder = resources.files("storage") / "migrations" / "postgresql"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(n.removesuffix(".sql"), (folder / n).read_text(encoding="utf-8")) for n in names]


def _migrate(conn: psycopg.Connection) -> list[str]:
    conn.autocommit = True
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = []
    for name, sql in migration_scripts():
        with conn.transaction():
            # One migrator at a time (several instances may start together); the lock ends with the transaction.
            conn.execute("SELECT pg_advisory_xact_lock(4242000011)")
            if conn.execute("SELECT 1 FROM schema_migrations WHERE name = %s", (name,)).fetchone():
                continue
            conn.execute(sql)  # type: ignore[arg-type]
            conn.execute("INSERT INTO schema_migrations(name, applied_at) VALUES (%s, %s)",
                         (name, datetime.now(UTC).isoformat()))
        applied.append(name)
    return applied


def _connect_kwargs() -> dict[str, Any]:
    kwargs: dict[str, Any] = {"autocommit": True}
    if os.environ.get(PASSWORD_ENV) and not os.environ.get("PGPASSWORD"):
        kwargs["password"] = os.environ[PASSWORD_ENV]
    return kwargs


def migrate(url: str) -> list[str]:
    """Apply the missing migrations to the database at `url` (synchronously); their names."""
    with psycopg.connect(url, **_connect_kwargs()) as conn:
        return _migrate(conn)


# -- the database ---------------------------------------------------------------------------------------------------

class PgDatabase:
    """An open PostgreSQL database: `write(fn)` for a use-case's transaction, `read(fn)` for queries."""

    path = None  # no file: callers that copy or lock a file ask `url`

    def __init__(self, url: str, pool: ConnectionPool, executor: ThreadPoolExecutor) -> None:
        self.url = url
        self._pool = pool
        self._executor = executor

    @classmethod
    async def open(cls, url: str, *, pool_size: int = POOL_SIZE) -> PgDatabase:
        await asyncio.to_thread(migrate, url)
        pool = ConnectionPool(url, min_size=1, max_size=pool_size,
                              kwargs={**_connect_kwargs(), "application_name": APPLICATION_NAME}, configure=_configure,
                              open=False, name="complaint-bot")
        await asyncio.to_thread(pool.open, True, 30)
        return cls(url, pool, ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="pg"))

    async def close(self) -> None:
        """Finish every transaction already handed over (as SQLite's connection thread does before it closes:
        an awaiting task cancelled at shutdown, say the sender recording a message as sent, still commits),
        then close the pool."""
        await asyncio.to_thread(self._executor.shutdown, True)
        await asyncio.to_thread(self._pool.close)

    def run_sync(self, fn: Callable[[PgConnection], T], *, write: bool = True) -> T:
        """`fn` as one transaction on a pooled connection, in the calling thread (retried on deadlock)."""
        for attempt in range(RETRIES):
            with self._pool.connection() as conn:
                try:
                    with conn.transaction():
                        if not write:  # one snapshot for the whole read, as a SQLite read transaction
                            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        return fn(PgConnection(conn))
                except _RETRYABLE:
                    if attempt == RETRIES - 1:
                        raise
            time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _handed_over(self, job: Callable[[], T]) -> T:
        # Once handed over, a transaction runs to its end even if the awaiting task is cancelled (a bot stopping
        # while the sender records a message as sent): what SQLite's connection thread does with its queue.
        future = asyncio.get_running_loop().run_in_executor(self._executor, job)
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        return await asyncio.shield(future)

    async def rolled_back(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(conn)` in a transaction that is then rolled back (a dry run); its result."""

        class _Undo(Exception):
            pass

        def job() -> T:
            result: list[T] = []

            def undone(c: PgConnection) -> None:
                result.append(fn(c))
                raise _Undo

            with contextlib.suppress(_Undo):
                self.run_sync(undone)
            return result[0]

        return await self._handed_over(job)

    async def write(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(conn)` as one transaction: committed if it returns, rolled back if it raises."""
        return await self._handed_over(lambda: self.run_sync(fn))

    async def read(self, fn: Callable[[Any], T]) -> T:
        """Run a query function in one read-only snapshot."""
        return await self._handed_over(lambda: self.run_sync(fn, write=False))

    async def read_point(self, fn: Callable[[Any], T]) -> T:
        """SQLite's fast path for point lookups; here every read goes over the pool anyway."""
        return await self.read(fn)
