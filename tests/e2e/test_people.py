"""People: /ticket names the staff who acted (as Telegram called them then), never a resident; /lang switches a
resident's language for everything the bot sends them afterwards."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from storage import people
from tests.e2e.talk import PAGES, en, first_line, zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison


async def test_ticket_names_who_acted_with_the_name_of_the_time(local: LocalSandbox, sb) -> None:
    resident = await sb.person("王<秘密>芳")
    a, coordinator = await liaison(local, "yingzhou_liaison"), await liaison(local, "coordination")
    a_chat, co_chat = chat(local, "yingzhou_liaison"), chat(local, "coordination")
    number = await file(resident, "房产物业", YINGZHOU, "小区电梯坏了一个星期，物业一直不修。")
    await a.expect(f"工单 {format_number(number)}", chat=a_chat)
    await a.tap("签收", chat=a_chat)
    await resident.expect(zh("notify.accepted", number=format_number(number), unit="颍州区"))
    # the liaison changes their name in Telegram, then answers the case under the new one
    local.sandbox.state.users[a.id]["first_name"] = "张<三>"
    local.clock.advance(timedelta(minutes=5))
    await a.tap("办结", chat=a_chat)
    await a.expect(zh("ask.resolve_answer"), chat=a_chat)
    await a.say("电梯已修复并通过检验。", chat=a_chat)
    await a.expect(zh("done.resolved"), chat=a_chat)

    await coordinator.say(f"/ticket {number}", chat=co_chat)
    case = await coordinator.expect("全过程", chat=co_chat)
    lines = case["text"].splitlines()
    accepted = next(line for line in lines if "签收" in line and "联络员" in line)
    resolved = next(line for line in lines if "办结" in line and "联络员" in line)
    assert zh("who.unit_named", unit="颍州区", name="联络员-颍州区", actor=a.id) in accepted, accepted
    assert zh("who.unit_named", unit="颍州区", name="张<三>", actor=a.id) in resolved, resolved
    assert "王" not in case["text"] and "秘密" not in case["text"], "a resident's name is never shown"
    assert zh("ops.who_resident") in case["text"]
    # residents' names are not even stored; the liaison's two names are
    names = await local.db.read(lambda c: people.names_of(c, [resident.id, a.id]))
    assert resident.id not in names
    assert [name for _, name in names[a.id]] == ["联络员-颍州区", "张<三>"]


async def test_lang_switches_a_resident_to_english_for_replies_and_notices(local: LocalSandbox, sb) -> None:
    resident = await sb.person("Li", language_code="zh")
    await resident.say("/lang")
    await resident.expect(first_line("zh", "lang.ask", current="中文"))
    answer = await resident.tap("English")
    assert answer["text"] == en("lang.chosen")
    await resident.say("/start")
    await resident.expect(en("start.welcome", city="Fuyang").splitlines()[0])
    # a notice written by a use-case (the outbox) goes out in English too
    a = await liaison(local, "yingzhou_liaison")
    await resident.say("/new")
    await resident.expect(first_line("en", "intake.ask_category", page=1, pages=PAGES))
    await resident.tap("Housing and property management")
    await resident.expect(first_line("en", "intake.ask_location"))
    await resident.share_location(*YINGZHOU)
    await resident.say(en("intake.btn_no_photos"))
    await resident.say("The lift in our building has been broken for a week.")
    await resident.tap(en("intake.btn_confirm"))
    await resident.expect("Ticket number")
    await a.tap("签收", chat=chat(local, "yingzhou_liaison"))
    notice = await resident.expect("signed for")
    assert "签收" not in notice["text"]
    # and back to Chinese, which sticks although Telegram still says "zh" either way
    await resident.say("/lang")
    await resident.expect(first_line("en", "lang.ask", current="English"))
    await resident.tap("中文")
    await resident.say("/help")
    await resident.expect(zh("help.text", max_photos=6).splitlines()[0])
