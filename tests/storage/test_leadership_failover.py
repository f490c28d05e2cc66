"""Leadership as the bot wires it (bot/app.py `default_leadership`): `PostgresLeadership` on PostgreSQL, one
advisory lock per job on a connection of its own; when the leader's session dies (kill -9 ends it the same way
as `pg_terminate_backend`) a follower leads at its next ask, and the change is logged at INFO."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
import pytest

from bot.app import default_leadership
from storage.db import Database
from storage.leadership import PostgresLeadership, SoleProcess


async def test_a_follower_takes_over_when_the_leaders_session_dies(pg_url: str,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="storage.leadership")
    first, second = PostgresLeadership(pg_url), PostgresLeadership(pg_url)
    try:
        assert await first.try_acquire("sweep")
        assert not await second.try_acquire("sweep")  # one lock per job: the second follows ...
        assert await second.try_acquire("outbox")  # ... and may lead another job
        assert await first.try_acquire("sweep") and not await second.try_acquire("sweep")  # every tick, the same
        assert "leadership: this process now runs sweep" in caplog.text

        pid = first._conn.info.backend_pid
        with psycopg.connect(pg_url, autocommit=True) as admin:  # the leader's process dies: its session ends
            held = admin.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s",
                                 (pid,)).fetchone()[0]
            assert held == 1
            # with a timeout it returns once the backend is gone (and its locks with it), not when signalled
            assert admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone()[0]
        caplog.clear()
        assert await second.try_acquire("sweep")  # the follower's next tick
        assert not await first.try_acquire("sweep")  # the old leader notices, reconnects, follows
        assert not first.held("sweep") and second.held("sweep")
        assert "no longer runs sweep" in caplog.text
        assert await first.try_acquire("digests")  # its fresh session competes normally
    finally:
        await first.release_all()
        await second.release_all()
    third = PostgresLeadership(pg_url)
    try:
        assert await third.try_acquire("sweep") and await third.try_acquire("outbox")  # released at stop
    finally:
        await third.release_all()


async def test_an_unreachable_database_leads_nothing_and_asks_again() -> None:
    calls = []

    async def refuse(url: str):
        calls.append(url)
        raise OSError("connection refused")

    leadership = PostgresLeadership("postgresql://nobody@127.0.0.1:1/x", connect=refuse)
    assert not await leadership.try_acquire("sweep") and not leadership.held("sweep")
    assert not await leadership.try_acquire("sweep")
    assert len(calls) == 2  # a fresh try at every tick


async def test_the_bot_picks_its_leadership_by_backend(pg_url: str, tmp_path: Path) -> None:
    pg = await Database.open(pg_url)
    lite = await Database.open(tmp_path / "t.sqlite3")
    try:
        assert isinstance(default_leadership(pg), PostgresLeadership)
        assert isinstance(default_leadership(lite), SoleProcess)
    finally:
        await pg.close()
        await lite.close()
