"""Storage fixtures: a migrated database opened the way the bot opens it (`db`, once per backend: SQLite and
PostgreSQL), or a bare in-memory SQLite connection for repository functions (`migrated()`)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from storage.db import Database, migration_scripts


def migrated() -> sqlite3.Connection:
    """An in-memory connection with every migration applied (no WAL, no foreign-key pragma: plain SQL)."""
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    for _, sql in migration_scripts():
        conn.executescript(sql)
    return conn


@contextlib.contextmanager
def rolled_back(url: str) -> Iterator[Any]:
    """A bare PostgreSQL connection (the repositories' spelling) inside a transaction that is rolled back."""
    import psycopg

    from storage.pg import PgConnection, _configure

    with psycopg.connect(url) as raw:
        _configure(raw)
        try:
            yield PgConnection(raw)
        finally:
            raw.rollback()


@pytest.fixture
async def db(storage_target: Any):
    database = await Database.open(storage_target)
    yield database
    await database.close()
