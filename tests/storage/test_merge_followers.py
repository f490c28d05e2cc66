"""Who follows and who rates a ticket after duplicates are merged into it (storage.tickets)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from bot.domain.lifecycle import TicketState
from bot.seed import TicketSeed, seed_tickets
from storage import tickets, users
from storage.db import Database

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def test_raters_follow_a_chain_of_merges_and_plain_followers_stay_followers(storage_target) -> None:
    db = await Database.open(storage_target)

    def tx(c: sqlite3.Connection) -> tuple[list[int], list[int], list[int]]:
        for user in (1, 2, 3, 4):
            users.upsert(c, user, "zh", NOW)
        seed_tickets(c, [TicketSeed(TicketState.DISPATCHED, "housing", "yingzhou", "general", NOW, reporter,
                                    due=NOW) for reporter in (1, 2, 3)])
        numbers = [r[0] for r in c.execute("SELECT number FROM tickets ORDER BY id")]
        a, b, c3 = (tickets.by_number(c, n) for n in numbers)
        assert a and b and c3
        for t in (a, b, c3):
            tickets.follow(c, t.id, t.reporter_id, NOW)
        tickets.follow(c, b.id, 4, NOW)  # someone who only follows B (the intake's "follow this one instead")
        tickets.follow(c, c3.id, 2, NOW)  # B's reporter already follows C
        assert tickets.move_followers(c, b, a.id, NOW) == 2  # B's reporter (a rater) and follower 4
        after_first = tickets.raters(c, a)
        assert tickets.move_followers(c, a, c3.id, NOW) == 2  # A's reporter; B's reporter already followed C
        return after_first, tickets.raters(c, c3), sorted(tickets.followers(c, c3.id))

    after_first, raters_c, followers_c = await db.write(tx)
    assert after_first == [1, 2]
    assert raters_c == [3, 1]  # user 2 already followed C before, as a follower: they keep how they did
    assert followers_c == [1, 2, 3, 4]
    await db.close()
