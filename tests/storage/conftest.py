"""Storage fixtures: a migrated database, as a file opened the way the bot opens it (`db`) or as a bare in-memory
connection for repository functions (`migrated()`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()
