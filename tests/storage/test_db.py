"""The database layer: pragmas, migrations, one-transaction writes that leave nothing half-written."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import outbox, sequences, users
from storage.db import Database, IntegrityError

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_connection_is_configured(db: Database) -> None:
    assert await db.read(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
    assert await db.read(lambda c: c.execute("PRAGMA foreign_keys").fetchone()[0]) == 1
    assert await db.read(lambda c: c.execute("PRAGMA busy_timeout").fetchone()[0]) == 5000


async def test_migrations_apply_once(tmp_path: Path) -> None:
    first = await Database.open(tmp_path / "m.sqlite3")
    applied = await first.read(lambda c: [r[0] for r in c.execute("SELECT name FROM schema_migrations")])
    await first.close()
    again = await Database.open(tmp_path / "m.sqlite3")
    assert await again.read(lambda c: [r[0] for r in c.execute("SELECT name FROM schema_migrations")]) == applied
    assert applied[0] == "0001_init"
    await again.close()


async def test_a_failing_write_leaves_nothing(db: Database) -> None:
    def half(c: sqlite3.Connection) -> None:
        users.upsert(c, 1, "zh", NOW)
        outbox.add(c, 1, "message", {"text": "x"}, NOW)
        raise RuntimeError("crash in the middle")

    with pytest.raises(RuntimeError):
        await db.write(half)
    assert await db.read(lambda c: c.execute("SELECT count(*) FROM users WHERE id > 0").fetchone()[0]) == 0
    assert await db.read(lambda c: c.execute("SELECT count(*) FROM outbox").fetchone()[0]) == 0


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError):
        await db.write(lambda c: c.execute(
            "INSERT INTO drafts(user_id, id, step, created_at, updated_at) "
            "VALUES (99, 'abcdef', 'category', 'x', 'x')"))


def test_a_process_killed_mid_transaction_leaves_nothing(tmp_path: Path) -> None:
    """kill -9 between the ticket's statements and COMMIT: after restart, no trace of it anywhere."""
    path = tmp_path / "k.sqlite3"
    script = textwrap.dedent(f"""
        import asyncio, os
        from storage.db import Database, IntegrityError
        async def main():
            db = await Database.open({str(path)!r})
            def tx(c):
                c.execute("INSERT INTO users(id, language, first_seen, last_seen) VALUES (1, 'zh', 'x', 'x')")
                c.execute("INSERT INTO tickets(number, state, category, reporter_id, description, location_source, "
                          "deadline_class, created_at, updated_at) VALUES ('123456789', 'registered', 'housing', 1, "
                          "'d', 'none', 'general', 'x', 'x')")
                c.execute("INSERT INTO events(ticket_id, at, actor_kind, action) VALUES (1, 'x', 'resident', 'r')")
                c.execute("INSERT INTO outbox(chat_id, kind, payload, created_at, not_before) "
                          "VALUES (1, 'message', '{{}}', 'x', 'x')")
                os._exit(9)  # the process dies before COMMIT
            await db.write(tx)
        asyncio.run(main())
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 9
    conn = sqlite3.connect(path)
    for table in ("users", "tickets", "events", "outbox"):  # id > 0: not the channels' stand-in reporters
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE id > 0").fetchone()[0] == 0, table
    conn.close()


async def test_sequences_count_up_inside_the_transaction(db: Database) -> None:
    assert [await db.write(lambda c: sequences.next_value(c, "tickets")) for _ in range(3)] == [1, 2, 3]
    assert await db.write(lambda c: sequences.next_value(c, "other")) == 1


async def test_outbox_due_rows_come_in_order_and_dedupe_keys_hold(db: Database) -> None:
    later = NOW + timedelta(minutes=5)
    await db.write(lambda c: outbox.add(c, 1, "message", {"text": "later"}, NOW, not_before=later))
    await db.write(lambda c: outbox.add(c, 1, "message", {"text": "now"}, NOW, dedupe_key="k"))
    assert not await db.write(lambda c: outbox.add(c, 1, "message", {"text": "twice"}, NOW, dedupe_key="k"))
    due = await db.read(lambda c: outbox.due(c, NOW))
    assert [r.payload["text"] for r in due] == ["now"]
    due = await db.read(lambda c: outbox.due(c, later))
    assert [r.payload["text"] for r in due] == ["now", "later"]


async def test_a_migrated_chat_takes_its_pending_rows_along(db: Database) -> None:
    await db.write(lambda c: outbox.add(c, -5, "message", {"text": "a"}, NOW))
    await db.write(lambda c: outbox.move_chat(c, -5, -1005, NOW))
    assert [r.chat_id for r in await db.read(lambda c: outbox.due(c, NOW))] == [-1005]


async def test_postgresql_migrations_apply_once_and_are_sqlites(pg_url: str) -> None:
    from storage.db import migration_scripts

    first = await Database.open(pg_url)  # the template was migrated already: nothing to apply
    applied = await first.read(lambda c: [r[0] for r in c.execute("SELECT name FROM schema_migrations ORDER BY name")])
    await first.close()
    again = await Database.open(pg_url)
    assert await again.read(lambda c: [r[0] for r in c.execute("SELECT name FROM schema_migrations "
                                                               "ORDER BY name")]) == applied
    await again.close()
    assert applied == [name for name, _ in migration_scripts()]


async def test_a_point_read_sees_what_was_committed_and_cannot_write(db: Database) -> None:
    """`read_point` (/status's path) reads committed rows on a connection of its own, and only reads."""
    now = datetime(2026, 3, 2, tzinfo=UTC)
    await db.write(lambda c: users.upsert(c, 4242, "en", now))
    assert (await db.read_point(lambda c: users.get(c, 4242))).language == "en"  # type: ignore[union-attr]
    await db.write(lambda c: users.upsert(c, 4242, "zh", now))
    assert (await db.read_point(lambda c: users.get(c, 4242))).language == "zh"  # type: ignore[union-attr]
    with pytest.raises(Exception, match=r"(?i)read.only|readonly"):
        await db.read_point(lambda c: users.upsert(c, 4343, "zh", now))
    assert await db.read(lambda c: users.get(c, 4343)) is None
