"""storage.purge: who stays tied, and the foreign key that stops a stale read from deleting someone still needed."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.lifecycle import TicketState
from bot.seed import TicketSeed, seed_tickets
from bot.workflow.purge import TEXT_TO_REPORTER, purge_personal_data
from storage import purge, tickets, users
from storage.db import Database, IntegrityError
from storage.records import to_db

OLD = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)
NOW = OLD + timedelta(days=400)


def _setup(c: sqlite3.Connection) -> tuple[int, int]:
    """User 1 reported an old closed ticket and follows user 2's open one (a 'me too')."""
    for user in (1, 2):
        users.upsert(c, user, "zh", OLD)
    seed_tickets(c, [TicketSeed(TicketState.CLOSED, "housing", "yingzhou", "general", OLD, 1, closed_at=OLD),
                     TicketSeed(TicketState.DISPATCHED, "housing", "yingzhou", "general", OLD, 2, due=NOW)])
    old, open_ = (r[0] for r in c.execute("SELECT id FROM tickets ORDER BY id"))
    tickets.follow(c, old, 1, OLD)
    tickets.follow(c, open_, 1, OLD)
    return old, open_


async def test_a_follower_of_an_open_ticket_keeps_their_user_row(storage_target) -> None:
    db = await Database.open(storage_target)
    try:
        old, open_ = await db.write(_setup)
        assert await db.read(lambda c: purge.tied_elsewhere(c, [old])) == {1}
        done = await purge_personal_data(db, NOW, 30)
        assert (done.tickets, done.followers, done.users) == (1, 1, 0)
        assert await db.read(lambda c: tickets.followers(c, open_)) == [1]
    finally:
        await db.close()


async def test_a_stale_read_of_the_ties_cannot_delete_a_follower(storage_target) -> None:
    """The follow-and-rating scan runs before the batch's transaction; if it missed a follow made in between,
    the foreign key refuses the delete and the whole batch rolls back (the workflow reads it again)."""
    db = await Database.open(storage_target)
    try:
        old, _ = await db.write(_setup)
        with pytest.raises(IntegrityError):
            await db.write(lambda c: purge.purge(c, [old], TEXT_TO_REPORTER, to_db(NOW), elsewhere=set()))
        assert (await db.read(lambda c: tickets.get(c, old))).reporter_id == 1  # nothing of the batch stayed
    finally:
        await db.close()


async def test_a_dry_run_counts_what_a_purge_would_do_and_changes_nothing(storage_target) -> None:
    """On SQLite it purges a copy; on PostgreSQL it purges inside one transaction that is rolled back."""
    db = await Database.open(storage_target)
    try:
        old, _ = await db.write(_setup)
        dry = await purge_personal_data(db, NOW, 30, dry_run=True)
        assert (dry.tickets, dry.followers) == (1, 1)
        assert (await db.read(lambda c: tickets.get(c, old))).reporter_id == 1
        assert await db.read(lambda c: tickets.followers(c, old)) == [1]
        done = await purge_personal_data(db, NOW, 30)
        assert (done.tickets, done.followers, done.users) == (dry.tickets, dry.followers, dry.users)
    finally:
        await db.close()
