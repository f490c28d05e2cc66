"""Purging personal data from old closed tickets, with the bot running: the people go, the figures stay, /status
of a purged ticket still answers, open and recent tickets are untouched."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from bot.clock import FakeClock
from bot.domain.numbers import format_number
from bot.reports.model import build_report
from bot.workflow.purge import purge_personal_data
from sandbox.local import LocalSandbox
from storage import tickets
from storage.purge import PURGED_USER
from tests.e2e.talk import eventually, zh
from tests.e2e.test_handling import YINGZHOU, file, ticket_of
from tests.e2e.test_rates import _answered_case

REASON = "只换了一半，东边那几盏还是不亮。"
ANSWER = "已更换了损坏的路灯灯泡，联系了住户王女士。"


async def closed_case(local: LocalSandbox, sb, description: str):
    resident, _, _, number = await _answered_case(local, sb, description, ANSWER)
    await resident.tap(zh("rates.btn_partly"))
    await resident.tap(zh("rates.btn_basic"))
    await resident.expect(zh("notify.closed", number=format_number(number)))
    await resident.tap(zh("rates.btn_write_reason"))
    await resident.expect(zh("rates.ask_reason_text"))
    await resident.say(REASON)
    await resident.expect(zh("rates.reason_added"))
    return resident, number


def rows(c: sqlite3.Connection, ticket_id: int) -> dict[str, list[tuple]]:
    """Everything stored about one ticket."""
    return {table: [tuple(r) for r in c.execute(f"SELECT * FROM {table} WHERE ticket_id = ? ORDER BY rowid",
                                                (ticket_id,))]
            for table in ("events", "ticket_photos", "followers", "ticket_ratings", "outbox", "inquiries")} | {
        "ticket": [tuple(c.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone())]}


async def test_purge_forgets_the_reporter_of_an_old_closed_ticket_and_keeps_the_figures(
        local: LocalSandbox, sb, clock: FakeClock) -> None:
    old_resident, old_number = await closed_case(local, sb, "小区路灯一半不亮，晚上走路很黑，我家住3号楼。")
    clock.advance(timedelta(days=31))
    _, recent_number = await closed_case(local, sb, "楼道的灯也坏了，晚上上楼很危险，请尽快修。")
    open_resident = await sb.person("韩梅梅")
    open_number = await file(open_resident, "房产物业", YINGZHOU, "垃圾桶满了三天没人清理，味道很大。")
    await eventually(lambda: local.db.read(lambda c: not c.execute(
        "SELECT 1 FROM outbox WHERE status = 'pending'").fetchone()), what="the outbox delivered everything")
    old, recent, still_open = [await ticket_of(local, n) for n in (old_number, recent_number, open_number)]
    city, year = local.config.city, (date(2026, 1, 1), date(2026, 12, 31))
    figures_before = await build_report(local.db, city, *year, as_of=clock.now())
    before = {t.id: await local.db.read(lambda c, t=t: rows(c, t.id)) for t in (old, recent, still_open)}

    dry = await purge_personal_data(local.db, clock.now(), 30, dry_run=True)
    assert dry.tickets == 1 and dry.users == 1
    assert await local.db.read(lambda c: rows(c, old.id)) == before[old.id]  # a dry run changes nothing

    done = await purge_personal_data(local.db, clock.now(), 30)
    assert done == dry
    assert (await purge_personal_data(local.db, clock.now(), 30)).tickets == 0  # done once, never again

    # Open and recent tickets are untouched; the report's figures are the same.
    for t in (recent, still_open):
        assert await local.db.read(lambda c, t=t: rows(c, t.id)) == before[t.id]
    assert await build_report(local.db, city, *year, as_of=clock.now()) == figures_before

    purged = await ticket_of(local, old_number)
    assert purged.reporter_id == PURGED_USER and purged.description == "" and purged.answer is None
    assert (purged.state, purged.solved, purged.satisfaction, purged.rating, purged.unit, purged.category) == (
        old.state, old.solved, old.satisfaction, old.rating, old.unit, old.category)
    after = await local.db.read(lambda c: rows(c, old.id))
    assert after["ticket_photos"] == [] and after["followers"] == []
    everything = repr(after)
    for private in (str(old_resident.id), REASON, ANSWER, old.description):
        assert private not in everything, f"{private!r} survived the purge"
    events_before = await local.db.read(lambda c: [(e.action, e.from_state, e.to_state, e.at)
                                                   for e in tickets.events(c, old.id)])
    assert len(events_before) == len(before[old.id]["events"])  # the chain itself stays, step by step
    assert await local.db.read(lambda c: c.execute("SELECT count(*) FROM users WHERE id = ?",
                                                   (old_resident.id,)).fetchone()[0]) == 0
    assert await local.db.read(lambda c: c.execute("SELECT count(*) FROM users WHERE id = ?",
                                                   (open_resident.id,)).fetchone()[0]) == 1

    # /status of the purged ticket still answers, with its state and timeline.
    someone = await sb.person("路人")
    await someone.say(f"/status {old_number}")
    reply = await someone.expect(format_number(old_number))
    assert zh("state.closed") in reply["text"] and zh("event.registered") in reply["text"]
