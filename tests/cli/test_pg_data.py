"""Moving data onto PostgreSQL and backing it up there: `migrate-data` (copy, verification, refusals) and
`backup` / `restore` through pg_dump and pg_restore."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from bot.cli import main
from bot.seed import seed_demo
from storage import drafts, outbox, tickets, users
from storage.db import Database
from storage.migrate_data import sqlite_tables, verify
from storage.records import Photo
from tests.cli.test_cli import config_text
from tests.e2e.conftest import e2e_config

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
JPEG = bytes(range(256)) * 4


def _sqlite_with_everything(tmp_path: Path) -> Path:
    """A seeded year (tickets, events, ratings, summaries) plus a photo's bytes, a draft and a pending message."""
    path = tmp_path / "old.sqlite3"
    seed_demo(path, e2e_config(tmp_path).city, 400, date(2026, 5, 31), seed=5)

    async def extra() -> None:
        db = await Database.open(path)

        def tx(c) -> None:
            first = c.execute("SELECT id FROM tickets ORDER BY id LIMIT 1").fetchone()[0]
            tickets.add_photo(c, first, Photo(1, "document", None, None, JPEG, 32, 32), "report")
            users.upsert(c, 777, "en", NOW)
            drafts.create(c, 777, "dr4ft1", "category", NOW)
            drafts.add_photo(c, 777, Photo(1, "photo", "f1", "u1", None, 640, 480))
            outbox.add(c, 777, "message", {"text": "还没发出 100%"}, NOW, dedupe_key="k1")

        await db.write(tx)
        await db.close()

    asyncio.run(extra())
    return path


def test_migrate_data_copies_every_table_and_verifies_it(tmp_path: Path, pg_empty_url: str, capsys) -> None:
    source = _sqlite_with_everything(tmp_path)
    assert main(["migrate-data", "--from", f"sqlite:///{source}", "--to", pg_empty_url]) == 0
    out = capsys.readouterr().out
    assert "DIFFERS" not in out and "tables copied and verified" in out
    lite = sqlite3.connect(source)
    for table in ("tickets", "events", "ticket_photos", "outbox", "drafts", "draft_photos", "ticket_day_summary"):
        count = lite.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert count > 0 and f"{table} " in out
        assert any(line.split()[:3] == [table, str(count), str(count)] for line in out.splitlines()), table
    with psycopg.connect(pg_empty_url) as conn:
        assert conn.execute("SELECT data FROM ticket_photos WHERE data IS NOT NULL").fetchone()[0] == JPEG
        # identities restart after the copied ids: a new row gets the next one
        top = lite.execute("SELECT max(id) FROM events").fetchone()[0]
        new = conn.execute("INSERT INTO events(ticket_id, at, actor_kind, action) "
                           "SELECT id, 'x', 'system', 'test' FROM tickets LIMIT 1 RETURNING id").fetchone()[0]
        assert new == top + 1
        conn.rollback()
        # the verification sees a changed row
        conn.execute("UPDATE tickets SET description = description || '!' WHERE id = (SELECT min(id) FROM tickets)")
        checks = {c.table: c for c in verify(lite, conn, sqlite_tables(lite))}
        assert not checks["tickets"].ok and checks["events"].ok
        conn.rollback()


def test_migrate_data_refuses_a_target_with_data_and_a_password_in_the_url(
        tmp_path: Path, pg_url: str, capsys) -> None:
    source = _sqlite_with_everything(tmp_path)

    async def one_user() -> None:
        db = await Database.open(pg_url)
        await db.write(lambda c: users.upsert(c, 5, "zh", NOW))
        await db.close()

    asyncio.run(one_user())
    assert main(["migrate-data", "--from", f"sqlite:///{source}", "--to", pg_url]) == 2
    assert "not empty" in capsys.readouterr().err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
    assert main(["migrate-data", "--from", f"sqlite:///{source}",
                 "--to", "postgresql://bot:secret@localhost/x"]) == 2
    assert "must not contain a password" in capsys.readouterr().err


def test_backup_and_restore_on_postgresql(tmp_path: Path, pg_url: str, capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path, storage=pg_url), encoding="utf-8")

    async def write(user_id: int) -> None:
        db = await Database.open(pg_url)
        await db.write(lambda c: users.upsert(c, user_id, "zh", NOW))
        await db.close()

    def user_ids() -> list[int]:
        with psycopg.connect(pg_url) as conn:
            return [r[0] for r in conn.execute("SELECT id FROM users WHERE id > 0 ORDER BY id")]

    asyncio.run(write(1))
    dump = tmp_path / "copy.pgdump"
    assert main(["backup", "--config", str(config), "--to", str(dump)]) == 0
    assert "pg_dump" in capsys.readouterr().out and dump.stat().st_size > 0
    assert main(["backup", "--config", str(config), "--to", str(dump)]) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err
    asyncio.run(write(2))
    assert user_ids() == [1, 2]

    stranger = tmp_path / "stranger.pgdump"
    stranger.write_bytes(b"not a dump")
    assert main(["restore", "--config", str(config), "--from", str(stranger)]) == 2
    assert "not a pg_dump archive" in capsys.readouterr().err
    assert user_ids() == [1, 2]

    async def restore_while_a_bot_is_connected() -> int:
        db = await Database.open(pg_url)
        try:
            await db.read(lambda c: users.get(c, 1))
            return await asyncio.to_thread(main, ["restore", "--config", str(config), "--from", str(dump)])
        finally:
            await db.close()

    assert asyncio.run(restore_while_a_bot_is_connected()) == 2
    assert "in use" in capsys.readouterr().err
    assert main(["restore", "--config", str(config), "--from", str(dump)]) == 0
    assert user_ids() == [1]
