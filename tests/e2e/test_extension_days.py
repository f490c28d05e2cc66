"""An extension of any number of working days: the presets stay, "其他天数" asks for a typed number, and a bad
number (0, negative, over the maximum, not a number) is refused with a clear message while full-width digits work."""

from __future__ import annotations

from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from tests.e2e.talk import zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison, ticket_of

MAX = 30  # deadlines.max_extension_days of config.example.toml


async def test_seven_days_typed_after_bad_inputs_reach_the_coordinators(local: LocalSandbox, sb) -> None:
    resident = await sb.person("李雷")
    a, coordinator = await liaison(local, "yingzhou_liaison"), await liaison(local, "coordination")
    a_chat, co_chat = chat(local, "yingzhou_liaison"), chat(local, "coordination")
    number = await file(resident, "房产物业", YINGZHOU, "小区外墙瓷砖脱落，砸坏了停在下面的车。")
    await a.expect(f"工单 {format_number(number)}", chat=a_chat)
    await a.tap("签收", chat=a_chat)
    await a.expect(zh("card.due", due=""), chat=a_chat)
    await a.tap("申请延期", chat=a_chat)
    picker = await a.expect(zh("ask.ext_days"), chat=a_chat)
    assert [b["text"] for row in picker["reply_markup"]["inline_keyboard"] for b in row] == [
        "2", "5", "10", zh("ext.btn_other")]
    await a.tap(zh("ext.btn_other"), chat=a_chat)
    await a.expect(zh("ext.ask_days", max=MAX), chat=a_chat)

    for typed, key in (("0", "ext.too_small"), ("-3", "ext.too_small"), ("31", "ext.too_large"),
                       ("七天", "ext.not_a_number"), ("7.5", "ext.not_a_number")):
        await a.say(typed, chat=a_chat)
        await a.expect(zh(key, text=typed, max=MAX), chat=a_chat)
    assert (await ticket_of(local, number)).state == "accepted", "nothing was requested by a bad number"

    await a.say("７", chat=a_chat)  # a full-width digit from a Chinese keyboard
    await a.expect(zh("ask.ext_reason", days=7), chat=a_chat)
    await a.say("需要协调供电公司停电施工。", chat=a_chat)
    await a.expect(zh("done.extension_requested"), chat=a_chat)
    card = await coordinator.expect("延期申请", chat=co_chat)
    assert "7 个工作日" in card["text"] and "供电公司" in card["text"]
    t = await ticket_of(local, number)
    due_before = t.due_at
    await coordinator.tap("批准延期", chat=co_chat)
    t = await ticket_of(local, number)
    assert t.due_at > due_before
    days = await local.db.read(lambda c: c.execute(
        "SELECT days, state FROM extensions WHERE ticket_id = ?", (t.id,)).fetchone())
    assert (days["days"], days["state"]) == (7, "approved")
