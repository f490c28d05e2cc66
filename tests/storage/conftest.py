"""Storage fixtures: a migrated database opened the way the bot opens it (`db`, once per backend: SQLite and
PostgreSQL), or a bare in-memory SQLite connection for repository functions (`migrated()`)."""

from __future__ import annotations

import sqlite3
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


@pytest.fixture
async def db(storage_target: Any):
    database = await Database.open(storage_target)
    yield database
    await database.close()
