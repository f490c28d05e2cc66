"""An operator's call (代录) against a real database, without Telegram: the caller steps, the confirmation as
one transaction (ticket, contact, no follower), no daily limit, a restart resumes the call, strangers refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.intake import Step
from bot.domain.phones import BadPhone
from bot.texts import Texts
from bot.workflow import Intake, Refused, WorkflowDeps
from storage import chats, contacts, outbox, tickets
from storage.db import Database
from tests.e2e.conftest import e2e_config

OPERATOR, STRANGER = 601, 602


@pytest.fixture
async def intake(tmp_path: Path):
    db = await Database.open(tmp_path / "w.sqlite3")
    config = e2e_config(tmp_path)
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, tickets_per_day=1))
    deps = WorkflowDeps(db=db, config=config, clock=FakeClock(), texts=Texts())
    await db.write(lambda c: chats.add_operator(c, OPERATOR, deps.clock.now()))
    yield Intake(deps)
    await db.close()


async def at_summary(intake: Intake, phone: str = "0558-2345678 转 12", name: str | None = " 王  阿姨 ") -> None:
    draft, resumed = await intake.begin_call(OPERATOR, "zh")
    assert (draft.step, draft.is_call, resumed) == (Step.CALLER_PHONE, True, False)
    await intake.set_caller_phone(OPERATOR, phone)
    await intake.set_caller_name(OPERATOR, name)
    await intake.choose_category(OPERATOR, "housing")
    await intake.set_place(OPERATOR, intake.d.config.city.places[0].key)
    await intake.photos_done(OPERATOR)
    await intake.set_description(OPERATOR, "来电反映楼上漏水已经三天了，物业不管。")


async def test_a_call_files_the_callers_ticket_with_its_contact_and_no_follower(intake: Intake) -> None:
    await at_summary(intake)
    ticket = await intake.confirm(OPERATOR, "zh")
    assert (ticket.channel, ticket.reporter_id) == ("hotline", -1)
    contact = await intake.d.db.read(lambda c: contacts.get(c, ticket.id))
    assert (contact.phone, contact.name) == ("0558-2345678-12", "王 阿姨")
    assert await intake.d.db.read(lambda c: tickets.followers(c, ticket.id)) == []
    (row,) = await intake.d.db.read(lambda c: outbox.due(c, intake.d.clock.now()))
    assert row.chat_id == OPERATOR and ticket.number[:3] in row.payload["text"]
    assert await intake.draft(OPERATOR) is None


async def test_the_daily_limit_does_not_apply_to_operators(intake: Intake) -> None:
    for _ in range(3):  # the limit is 1 a day
        await at_summary(intake)
        await intake.confirm(OPERATOR, "zh")
    assert len(await intake.d.db.read(lambda c: contacts.tickets_of_phone(c, "0558-2345678-12"))) == 3
    _, found = await intake.caller_tickets(OPERATOR, "0558 2345678 ext 12")
    assert len(found) == 3 and [t.id for t in found] == sorted((t.id for t in found), reverse=True)  # newest first


async def test_a_restart_resumes_the_call_where_it_was(intake: Intake) -> None:
    await intake.begin_call(OPERATOR, "zh")
    await intake.set_caller_phone(OPERATOR, "13912345678")
    fresh = Intake(intake.d)  # a restarted bot: nothing in memory
    draft, resumed = await fresh.begin_call(OPERATOR, "zh")
    assert (resumed, draft.step, draft.caller_phone) == (True, Step.CALLER_NAME, "13912345678")
    assert (await fresh.draft(OPERATOR)).is_call


async def test_a_bad_number_writes_nothing_and_the_open_cases_are_named(intake: Intake) -> None:
    await at_summary(intake, phone="13912345678")
    first = await intake.confirm(OPERATOR, "zh")
    await intake.begin_call(OPERATOR, "zh")
    with pytest.raises(BadPhone):
        await intake.set_caller_phone(OPERATOR, "12345")
    assert (await intake.draft(OPERATOR)).step == Step.CALLER_PHONE
    taken = await intake.set_caller_phone(OPERATOR, "139 1234 5678")
    assert [t.id for t in taken.open_tickets] == [first.id]


async def test_a_failure_while_confirming_a_call_leaves_no_ticket_and_no_contact(intake: Intake,
                                                                                 monkeypatch) -> None:
    await at_summary(intake)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "add", broken)
    with pytest.raises(RuntimeError):
        await intake.confirm(OPERATOR, "zh")
    counts = await intake.d.db.read(lambda c: [c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                                               for t in ("tickets", "ticket_contacts", "events")])
    assert counts == [0, 0, 0]
    assert (await intake.draft(OPERATOR)).step == Step.SUMMARY


async def test_only_operators_call_or_look_up_callers(intake: Intake) -> None:
    with pytest.raises(Refused) as refused:
        await intake.begin_call(STRANGER, "zh")
    assert refused.value.key == "hotline.not_operator"
    with pytest.raises(Refused):
        await intake.caller_tickets(STRANGER, "13912345678")
    # an operator whose registration was undone mid-call cannot file it
    await at_summary(intake)
    await intake.d.db.write(lambda c: chats.remove_operator(c, OPERATOR))
    with pytest.raises(Refused):
        await intake.confirm(OPERATOR, "zh")
