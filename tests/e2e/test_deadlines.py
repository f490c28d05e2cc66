"""Deadlines with a moved clock: reminders before, notices after, escalation, quiet hours, digests within
Telegram's limits, auto-close, the morning digest — each exactly once, across restarts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.numbers import format_number, number_for_sequence
from sandbox.client import Person
from sandbox.local import LocalSandbox
from storage import tickets
from storage.records import to_db
from tests.e2e.conftest import e2e_config
from tests.e2e.talk import eventually, first_line, zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison

pytestmark = pytest.mark.backends  # run on SQLite and on PostgreSQL (tests/e2e/conftest.py)
SHANGHAI = timedelta(hours=8)


def local_time(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in Shanghai as an aware UTC instant (2 March 2026 is a Monday, a working day)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) - SHANGHAI


async def mentions(sb, chat_id: int, needle: str) -> list[dict]:
    return [m for m in await sb.messages(chat_id) if m.get("outgoing") and needle in (m.get("text") or "")]


async def test_reminder_then_overdue_and_escalation_exactly_once_across_restarts(local: LocalSandbox, sb,
                                                                                 clock: FakeClock) -> None:
    clock.set(local_time(2, 10))  # Monday 10:00: the sign-for deadline is 4 working hours later, 16:30
    resident = await sb.person("李雷")
    number = await file(resident, "房产物业", YINGZHOU, "小区电梯坏了一个星期，物业一直不修。")
    shown = format_number(number)
    t = await local.db.read(lambda c: tickets.by_number(c, number))
    assert t.sign_due_at == local_time(2, 16, 30)
    unit_chat, sup_chat = chat(local, "yingzhou_liaison"), chat(local, "supervision")
    a = await liaison(local, "yingzhou_liaison")
    await a.expect(f"工单 {shown}", chat=unit_chat)

    sweeper = local.runner.services.sweeper
    await sweeper.sweep()  # 10:00: 4 working hours left, no 7h reminder for a card that just arrived
    clock.set(local_time(2, 14, 31))  # 2 working hours before 16:30
    result = await sweeper.sweep()
    assert result.reminders == 1
    reminder = await a.expect(first_line("zh", "remind.soon_header", count=1), chat=unit_chat)
    assert shown in reminder["text"] and "签收期限" in reminder["text"]

    await local.restart_bot()  # start-up runs a catch-up sweep: nothing is sent again
    assert (await sweeper_of(local).sweep()).reminders == 0

    clock.set(local_time(2, 16, 31))
    result = await sweeper_of(local).sweep()
    assert (result.overdue, result.escalated) == (1, 1)
    notice = await a.expect(first_line("zh", "remind.overdue_header", count=1), chat=unit_chat)
    assert shown in notice["text"]
    supervisor = await liaison(local, "supervision")
    escalation = await supervisor.expect(first_line("zh", "remind.escalation_header", count=1), chat=sup_chat)
    assert shown in escalation["text"] and "颍州区" in escalation["text"]

    await local.restart_bot()
    clock.advance(120)
    assert (await sweeper_of(local).sweep()).overdue == 0
    await eventually(lambda: _outbox_idle(local), what="the outbox to drain")
    assert len(await mentions(sb, unit_chat, shown)) == 3  # the card, one reminder, one overdue notice
    assert len(await mentions(sb, sup_chat, shown)) == 1


def sweeper_of(local: LocalSandbox):
    return local.runner.services.sweeper


async def _outbox_idle(local: LocalSandbox) -> bool:
    pending = await local.db.read(lambda c: c.execute(
        "SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])
    return pending == 0


async def test_quiet_hours_hold_a_night_notice_until_morning(local: LocalSandbox, sb, clock: FakeClock) -> None:
    clock.set(local_time(2, 10))
    resident = await sb.person("李雷")
    number = await file(resident, "房产物业", YINGZHOU, "小区电梯坏了一个星期，物业一直不修。")
    unit_chat = chat(local, "yingzhou_liaison")
    a = await liaison(local, "yingzhou_liaison")
    await a.expect(f"工单 {format_number(number)}", chat=unit_chat)

    clock.set(local_time(2, 23, 0))  # the bot was down all afternoon; the catch-up sweep runs at 23:00
    result = await sweeper_of(local).sweep()
    assert (result.overdue, result.reminders) == (1, 0)  # a passed deadline gets no "before" reminder
    row = await local.db.read(lambda c: c.execute(
        "SELECT not_before FROM outbox WHERE chat_id = ? AND status = 'pending'", (unit_chat,)).fetchone())
    assert row[0] == to_db(local_time(3, 8, 0)), "held for the morning"
    local.runner.outbox.kick()
    assert not await mentions(sb, unit_chat, "已超期")

    clock.set(local_time(3, 8, 1))
    local.runner.outbox.kick()
    notice = await a.expect(first_line("zh", "remind.overdue_header", count=1), chat=unit_chat)
    assert format_number(number) in notice["text"]


async def test_500_reminders_for_5_groups_arrive_as_digests_without_a_429(tmp_path: Path, clock: FakeClock) -> None:
    cfg = e2e_config(tmp_path)
    cfg = dataclasses.replace(cfg, telegram=dataclasses.replace(cfg.telegram, rate_limiter=True))
    clock.set(local_time(2, 10))
    async with LocalSandbox(cfg, clock=clock) as local:
        await local.client.flood(enabled=True, global_per_s=30, group_per_min=20)
        units = ["yingzhou", "yingquan", "yingdong", "taihe", "funan"]
        due = local_time(2, 16, 30)
        await local.db.write(lambda c: _many_tickets(c, units, 100, due, clock.now()))
        clock.set(local_time(2, 14, 31))
        result = await sweeper_of(local).sweep()
        assert (result.reminders, result.chats) == (500, 5)
        assert result.messages <= 15, "digests, not a message per ticket"
        await eventually(lambda: _outbox_idle(local), timeout=30, what="the digests to be delivered")
        stats = await local.client.stats()
        assert stats["flood_429"] == 0
        for unit in units:
            group = chat(local, f"{unit}_liaison")
            texts = [m["text"] for m in await local.client.messages(group) if m.get("outgoing")]
            listed = sum(t.count("• ") for t in texts)
            assert listed == 100, (unit, listed)
            assert all(len(t) <= 4096 for t in texts)


def _many_tickets(c, units: list[str], per_unit: int, sign_due: datetime, now: datetime) -> None:
    from storage import users

    users.upsert(c, 1, "zh", now)
    seq = 100_000
    for unit in units:
        for _ in range(per_unit):
            seq += 1
            t = tickets.insert(c, tickets.NewTicket(
                number=number_for_sequence(seq), state="dispatched", category="housing", reporter_id=1,
                description="测试工单", lat=None, lon=None, location_source="none", place_key=None,
                place_text=None, district=unit, deadline_class="general"), now)
            tickets.update(c, t.id, t.version, now, unit=unit, sign_due_at=sign_due, dispatched_at=now)


async def test_an_unrated_answer_is_closed_after_the_configured_days(local: LocalSandbox, sb,
                                                                      clock: FakeClock) -> None:
    clock.set(local_time(2, 10))
    resident = await sb.person("李雷")
    number = await file(resident, "房产物业", YINGZHOU, "小区电梯坏了一个星期，物业一直不修。")
    unit_chat = chat(local, "yingzhou_liaison")
    a = await liaison(local, "yingzhou_liaison")
    await a.expect(f"工单 {format_number(number)}", chat=unit_chat)
    await a.tap("签收", chat=unit_chat)
    await a.tap("办结", chat=unit_chat)
    await a.expect(zh("ask.resolve_answer"), chat=unit_chat)
    await a.say("电梯已修好并通过检验。", chat=unit_chat)
    await resident.expect("电梯已修好")
    clock.advance(timedelta(days=local.config.handling.auto_close_days, minutes=1))
    assert (await sweeper_of(local).sweep()).auto_closed == 1
    await resident.expect(zh("notify.closed", number=format_number(number)))
    t = await local.db.read(lambda c: tickets.by_number(c, number))
    assert t.state == "closed"
    events = await local.db.read(lambda c: tickets.events(c, t.id))
    assert events[-1].action == "auto_closed"


async def test_the_morning_digest_lists_open_cases_once_a_day(local: LocalSandbox, sb, clock: FakeClock) -> None:
    clock.set(local_time(2, 10))
    resident = await sb.person("李雷")
    first = await file(resident, "房产物业", YINGZHOU, "小区电梯坏了一个星期，物业一直不修。")
    second = await file(resident, "城市管理", YINGZHOU, "路边占道经营，行人只能走机动车道。")
    a = await liaison(local, "yingzhou_liaison")
    clock.set(local_time(3, 8, 30))
    assert await sweeper_of(local).morning_digest() >= 1
    await local.restart_bot()
    assert await sweeper_of(local).morning_digest() == 0  # the same morning: nothing twice
    digest = await a.expect("今日在办工单", chat=chat(local, "yingzhou_liaison"))
    assert format_number(first) in digest["text"] and format_number(second) in digest["text"]
    clock.set(local_time(7, 8, 30))  # a Saturday: no digest
    assert await sweeper_of(local).morning_digest() == 0


async def test_the_scheduler_jobs_are_installed(local: LocalSandbox) -> None:
    names = {job.name for job in local.runner.app.job_queue.jobs()}
    assert {"sweep", "morning-digest"} <= names



def _with_calendar(local: LocalSandbox, fallback: str, declare_2027: bool):
    """The sandbox's config with the city's calendar policy changed (what editing city.toml and restarting does)."""
    city = local.base_config.city  # as loaded from the example, 2027 declared
    years = tuple(y for y in city.calendar_config.years if declare_2027 or y.year != 2027)
    calendar = dataclasses.replace(city.calendar_config, fallback=fallback, years=years)
    return dataclasses.replace(local.config, city=dataclasses.replace(city, calendar_config=calendar))


async def _accepted_on_december_30(local: LocalSandbox, sb, clock: FakeClock) -> str:
    clock.set(datetime(2026, 12, 30, 2, 0, tzinfo=UTC))  # Wednesday 10:00 in Shanghai
    resident = await sb.person("李雷")
    number = await file(resident, "房产物业", YINGZHOU, "小区电梯坏了一个星期，物业一直不修。")
    a = await liaison(local, "yingzhou_liaison")
    unit_chat = chat(local, "yingzhou_liaison")
    await a.expect(f"工单 {format_number(number)}", chat=unit_chat)
    await a.tap("签收", chat=unit_chat)
    await a.expect(zh("card.state", state=zh("state.accepted")), chat=unit_chat)
    return number


async def _restart_with_calendar(local: LocalSandbox, fallback: str, declare_2027: bool) -> Person:
    """Restart the bot on a changed calendar policy; returns the supervision group's member."""
    local.config = _with_calendar(local, fallback, declare_2027)
    await local.restart_bot()
    return await liaison(local, "supervision")


async def test_a_deadline_into_an_undeclared_2027_is_provisional_then_recomputed(local: LocalSandbox, sb,
                                                                                  clock: FakeClock) -> None:
    supervisor = await _restart_with_calendar(local, "weekends-only", declare_2027=False)
    number = await _accepted_on_december_30(local, sb, clock)
    t = await local.db.read(lambda c: tickets.by_number(c, number))
    assert t.deadline_provisional and t.due_at == datetime(2027, 1, 6, 9, 30, tzinfo=UTC)  # weekends only
    warning = await supervisor.expect("2027", chat=chat(local, "supervision"))
    assert format_number(number) in warning["text"]
    someone = await sb.person("Tom", language_code="en")
    await someone.say(f"/status {number}")
    status = await someone.expect(f"Ticket {format_number(number)}")
    assert "provisional" in status["text"]

    await _restart_with_calendar(local, "weekends-only", declare_2027=True)  # the year is declared
    t = await local.db.read(lambda c: tickets.by_number(c, number))
    assert not t.deadline_provisional
    assert t.due_at == datetime(2027, 1, 7, 9, 30, tzinfo=UTC)  # 1 January is a holiday after all
    await supervisor.expect(zh("calendar.recomputed", count=1), chat=chat(local, "supervision"))


async def test_without_the_fallback_an_undeclared_year_names_itself(local: LocalSandbox, sb,
                                                                    clock: FakeClock) -> None:
    supervisor = await _restart_with_calendar(local, "error", declare_2027=False)
    number = await _accepted_on_december_30(local, sb, clock)
    t = await local.db.read(lambda c: tickets.by_number(c, number))
    assert t.state == "accepted" and t.due_at is None  # no silent guess
    warning = await supervisor.expect("不知道 2027 年", chat=chat(local, "supervision"))
    assert format_number(number) in warning["text"]


async def test_report_in_the_supervision_group_brings_text_chart_and_ledger(local: LocalSandbox, sb,
                                                                             clock: FakeClock) -> None:
    import io

    from openpyxl import load_workbook
    from PIL import Image

    clock.set(local_time(2, 10))
    resident = await sb.person("李雷")
    await file(resident, "房产物业", YINGZHOU, "小区电梯坏了一个星期，物业一直不修。")
    await file(resident, "城市管理", YINGZHOU, "路边占道经营，行人只能走机动车道。")
    clock.set(local_time(4, 9))
    supervisor = await liaison(local, "supervision")
    sup_chat = chat(local, "supervision")
    await supervisor.say("/report 2026-03-01 2026-03-03", chat=sup_chat)
    await supervisor.expect(zh("report.generating", start="2026-03-01", end="2026-03-03"), chat=sup_chat)
    text = await supervisor.expect("诉求办理情况报告", chat=sup_chat, timeout=30)
    assert "颍州区" in text["text"]

    async def files() -> list[dict]:
        found = [m for m in await sb.messages(sup_chat) if m.get("outgoing") and ("photo" in m or "document" in m)]
        return found if len(found) >= 2 else []

    chart, ledger = sorted(await eventually(files, timeout=30, what="chart and ledger"), key=lambda m: "document" in m)
    token = local.token
    async with __import__("aiohttp").ClientSession() as http:
        async def download(file_id: str) -> bytes:
            async with http.get(f"{local.sandbox.bot_base_url}{token}/getFile", params={"file_id": file_id}) as r:
                path = (await r.json())["result"]["file_path"]
            async with http.get(f"{local.sandbox.file_base_url}{token}/{path}") as r:
                return await r.read()

        png = await download(chart["photo"][-1]["file_id"])
        xlsx = await download(ledger["document"]["file_id"])
    assert Image.open(io.BytesIO(png)).size[0] >= 800
    book = load_workbook(io.BytesIO(xlsx), read_only=True)
    rows = list(book["台账"].iter_rows(values_only=True))
    assert len(rows) == 1 + 2  # header and the two tickets
    await supervisor.say("/report yesterday", chat=sup_chat)
    await supervisor.expect(zh("report.usage"), chat=sup_chat)
    a = await liaison(local, "yingzhou_liaison")
    await a.say("/report", chat=chat(local, "yingzhou_liaison"))
    await a.expect(zh("report.only_supervision"), chat=chat(local, "yingzhou_liaison"))
