"""Who runs the once-only jobs (the sweep, the morning digests, the scheduled reports, the outbox sender).

With several bot processes sharing one database, each of these must run in exactly one of them, and move to
another when that one dies. A job asks `try_acquire(name)` on every tick: the holder keeps it (cheap), a
follower tries again each time, so a failover happens within one interval of the job. `held(name)` answers
without asking the database.

- `SoleProcess`: SQLite. One process owns the database file (storage/running.py's flock refuses a second bot),
  so that process always leads.
- `AdvisoryLockLeadership`: PostgreSQL, ``pg_try_advisory_lock`` on a connection of its own, held while the
  session lives (the server drops it when the process dies, ``kill -9`` included). Tested against a throwaway
  PostgreSQL (tests/storage/test_leadership_pg.py).
- `PostgresLeadership`: what `build_application` uses on PostgreSQL: an `AdvisoryLockLeadership` on a dedicated
  autocommit connection opened at the first ask and opened again at the next tick after it broke.

Every change of leadership is logged at INFO ("leadership: this process now runs sweep" / "... no longer runs"):
job names only, nothing about anyone.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: The names the bot leads by; each is acquired separately, so they may (rarely) live in different processes.
JOBS = ("sweep", "digests", "reports", "outbox")


class Leadership(Protocol):
    async def try_acquire(self, name: str) -> bool:
        """Lead `name` if nobody else does; True while this process leads it."""
        ...

    def held(self, name: str) -> bool:
        """Whether this process led `name` at its last `try_acquire`."""
        ...

    async def release_all(self) -> None:
        """Give everything up (at stop), so a follower takes over at its next tick instead of after a timeout."""
        ...


class SoleProcess:
    """One process per database: it leads everything, always."""

    async def try_acquire(self, name: str) -> bool:
        return True

    def held(self, name: str) -> bool:
        return True

    async def release_all(self) -> None:
        return None


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a job name (the same in every process and release)."""
    return int.from_bytes(hashlib.blake2b(f"complaint-bot:{name}".encode(), digest_size=8).digest(), "big",
                          signed=True)


#: Runs one statement on the leadership's own connection and returns the first column of the first row.
Query = Callable[[str, tuple[Any, ...]], Awaitable[Any]]


class AdvisoryLockLeadership:
    """PostgreSQL session advisory locks, one key per job name, on a dedicated connection (`query`).

    The connection must be used for nothing else and never returned to a pool: the locks belong to its session.
    If it breaks, every lock is gone with it (the server releases them), so the process stops leading at once;
    the caller reconnects and the next `try_acquire` competes again."""

    def __init__(self, query: Query) -> None:
        self._query = query
        self._held: set[str] = set()

    async def try_acquire(self, name: str) -> bool:
        try:
            if name in self._held:
                # A session lock stays ours while the session lives: the connection is never re-opened behind
                # our back, so a working connection means the same session. A broken one: we lead nothing.
                await self._query("SELECT 1", ())
                return True
            got = bool(await self._query("SELECT pg_try_advisory_lock(%s)", (lock_key(name),)))
        except Exception:  # the connection broke: whatever we held went with it
            log.exception("leadership: cannot ask for %s", name)
            self.lost()
            return False
        if got:
            log.info("leadership: this process now runs %s", name)
            self._held.add(name)
        return got

    def held(self, name: str) -> bool:
        return name in self._held

    def lost(self) -> None:
        """The connection was lost: nothing is held any more."""
        for name in sorted(self._held):
            log.info("leadership: this process no longer runs %s (its database session ended)", name)
        self._held.clear()

    async def release_all(self) -> None:
        for name in sorted(self._held):
            try:
                await self._query("SELECT pg_advisory_unlock(%s)", (lock_key(name),))
            except Exception:  # the session is gone, and the lock with it
                log.warning("leadership: could not release %s (the session ended, so it is free anyway)", name)
            else:
                log.info("leadership: this process no longer runs %s (released at stop)", name)
        self._held.clear()


def on_psycopg(conn: Any) -> Query:
    """A `Query` on one psycopg ``AsyncConnection`` in autocommit mode (a lock taken inside a transaction that
    is rolled back would still be held: session locks ignore transactions, so autocommit keeps it simple)."""

    async def query(sql: str, params: tuple[Any, ...]) -> Any:
        async with conn.cursor() as cur:
            await cur.execute(sql, params)
            row = await cur.fetchone()
            return row[0] if row else None

    return query


class PostgresLeadership:
    """`AdvisoryLockLeadership` on a connection of its own to `url`, opened at the first `try_acquire` (so the
    synchronous `build_application` can create it) and opened again at the next tick after it broke; while it
    is down this process leads nothing (a follower elsewhere takes over at its next tick)."""

    def __init__(self, url: str, connect: Callable[[str], Awaitable[Any]] | None = None) -> None:
        self.url = url
        self._connect = connect or _psycopg_connect
        self._conn: Any = None
        self._locks: AdvisoryLockLeadership | None = None

    async def _ready(self) -> AdvisoryLockLeadership | None:
        if self._conn is not None and _broken(self._conn):
            await self._drop()
        if self._locks is None:
            try:
                self._conn = await self._connect(self.url)
            except Exception as error:  # the database is away: lead nothing, ask again at the next tick
                log.warning("leadership: cannot connect to the database (%s)", type(error).__name__)
                return None
            self._locks = AdvisoryLockLeadership(on_psycopg(self._conn))
        return self._locks

    async def _drop(self) -> None:
        if self._locks is not None:
            self._locks.lost()
        conn, self._conn, self._locks = self._conn, None, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # already broken
                log.debug("leadership: closing a broken connection failed", exc_info=True)

    async def try_acquire(self, name: str) -> bool:
        locks = await self._ready()
        if locks is None:
            return False
        got = await locks.try_acquire(name)
        if not got and _broken(self._conn):
            await self._drop()  # broken: a fresh session competes at the next tick
        return got

    def held(self, name: str) -> bool:
        return self._locks is not None and self._locks.held(name)

    async def release_all(self) -> None:
        if self._locks is not None:
            await self._locks.release_all()
        await self._drop()


async def _psycopg_connect(url: str) -> Any:
    import psycopg

    from storage.pg import APPLICATION_NAME, _connect_kwargs

    return await psycopg.AsyncConnection.connect(url, **{**_connect_kwargs(), "autocommit": True},
                                                 application_name=APPLICATION_NAME)  # restore sees it


def _broken(conn: Any) -> bool:
    return bool(getattr(conn, "broken", False) or getattr(conn, "closed", False))
