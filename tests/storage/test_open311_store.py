"""storage.open311: a request's extras, the public lists, and the purge that forgets the extras with the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.lifecycle import TicketState
from bot.seed import TicketSeed, seed_tickets
from bot.workflow.purge import purge_personal_data
from storage import contacts, tickets
from storage import open311 as store
from storage.db import Database

OLD = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)
NOW = OLD + timedelta(days=400)


async def test_purging_an_old_ticket_forgets_its_request_extras_and_contact(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "o.sqlite3")
    try:
        def setup(c) -> int:
            seed_tickets(c, [TicketSeed(TicketState.CLOSED, "housing", "yingzhou", "general", OLD, -2,
                                        closed_at=OLD)])
            (ticket_id,) = c.execute("SELECT id FROM tickets").fetchone()
            contacts.put(c, contacts.Contact(ticket_id, name="王芳", phone="13912345678"))
            store.put(c, store.RequestExtras(ticket_id, "app", {"facility": "road"}, "https://x.cn/1.jpg",
                                             "人民路 3 号", None), OLD)
            return ticket_id

        ticket_id = await db.write(setup)
        assert (await db.read(lambda c: store.get(c, ticket_id))).media_url == "https://x.cn/1.jpg"
        await purge_personal_data(db, NOW, 30)
        assert await db.read(lambda c: store.get(c, ticket_id)) is None
        assert await db.read(lambda c: contacts.get(c, ticket_id)) is None
        assert (await db.read(lambda c: tickets.get(c, ticket_id))).state == "closed"  # the figures stay
    finally:
        await db.close()


async def test_search_is_newest_first_and_bounded(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "o.sqlite3")
    try:
        await db.write(lambda c: seed_tickets(c, [
            TicketSeed(TicketState.DISPATCHED, "housing", "yingzhou", "general", OLD + timedelta(hours=i), -2,
                       due=NOW) for i in range(5)]))
        found = await db.read(lambda c: store.search(c, limit=3))
        assert [t.created_at for t in found] == [OLD + timedelta(hours=h) for h in (4, 3, 2)]
        found = await db.read(lambda c: store.search(c, since=OLD + timedelta(hours=1),
                                                     until=OLD + timedelta(hours=2)))
        assert len(found) == 2
        assert await db.read(lambda c: store.search(c, states=["closed"])) == []
    finally:
        await db.close()
