"""A resident files a complaint end to end: real Application, real HTTP, the sandbox as Telegram."""

from __future__ import annotations

import pytest

from sandbox.client import Person
from sandbox.local import LocalSandbox
from storage import outbox, tickets
from tests.e2e.talk import PAGES, first_line, number_in, zh
from tests.images import jpeg

pytestmark = pytest.mark.backends  # run on SQLite and on PostgreSQL (tests/e2e/conftest.py)
STATION = (32.8906, 115.8149)  # near Fuyang railway station, inside the city
DESCRIPTION = "小区门口的路灯坏了两个星期，晚上一片漆黑，老人出门很危险。"


async def file_complaint(person: Person, *, category: str = "房产物业", point: tuple[float, float] = STATION,
                         description: str = DESCRIPTION) -> str:
    """Walk the whole intake in Chinese; returns the ticket number from the confirmation."""
    await person.say("/new")
    await person.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await person.tap(category)
    await person.expect(first_line("zh", "intake.ask_location"))
    await person.share_location(*point)
    ack = await person.expect(zh("intake.location_received"))
    assert first_line("zh", "intake.ask_photos", max=6) in ack["text"]  # one message: the ack and the next prompt
    await person.send_photo(jpeg())
    await person.expect(zh("intake.photo_received", count=1, max=6))
    await person.say(zh("intake.btn_done"))
    await person.expect(first_line("zh", "intake.ask_description", min=10, max=1500))
    await person.say(description)
    await person.expect(first_line("zh", "intake.summary"))
    await person.tap(zh("intake.btn_confirm"))
    confirmation = await person.expect(first_line("zh", "notice.registered", number="", raw_number="", category="",
                                                  dispatched=""))
    return number_in(confirmation["text"])


async def test_resident_files_a_complaint_and_gets_a_checked_number(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷", language_code="zh")
    number = await file_complaint(li)

    ticket = await local.db.read(lambda c: tickets.by_number(c, number))
    assert ticket is not None
    assert ticket.state == "dispatched" and ticket.unit == "yingzhou"  # routed by location at once
    assert ticket.category == "housing"
    assert ticket.reporter_id == li.id
    assert ticket.description == DESCRIPTION
    assert (ticket.lat, ticket.lon) == STATION
    assert ticket.location_source == "gps"
    assert await local.db.read(lambda c: tickets.photo_count(c, ticket.id)) == 1
    events = await local.db.read(lambda c: tickets.events(c, ticket.id))
    assert [(e.action, e.to_state, e.actor_kind) for e in events] == [
        ("registered", "registered", "resident"), ("dispatched", "dispatched", "system")]
    # One confirmation, saying where it went, through the outbox and recorded as sent.
    confirmation = [m for m in await li.transcript() if "工单编号" in (m.get("text") or "")]
    assert len(confirmation) == 1
    assert zh("notify.dispatched", number=f"{number[:3]} {number[3:6]} {number[6:]}", unit="颍州区") in (
        confirmation[0]["text"])
    rows = await local.db.read(lambda c: outbox.rows_for_chat(c, li.id))
    assert [(r["status"], r["ticket_id"]) for r in rows] == [("sent", ticket.id)]
    # The draft is gone: a new message is not taken as part of the finished complaint.
    assert await local.runner.services.intake.draft(li.id) is None


async def test_command_menu_is_set_in_chinese_and_english(sb) -> None:
    commands = await sb.commands()
    by_language = {entry.get("language_code") or "": [c["command"] for c in entry["commands"]] for entry in commands}
    assert by_language[""] == ["new", "status", "my", "cancel", "lang", "help"]
    assert by_language["en"] == ["new", "status", "my", "cancel", "lang", "help"]
