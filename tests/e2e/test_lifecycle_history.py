"""The history a case shows is the history it had: every event's from-state is the state the ticket was in, and
the operators' /ticket view of a long case arrives whole, split into valid messages."""

from __future__ import annotations

import itertools

from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from storage import tickets
from tests.e2e.talk import eventually, rate, zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison, ticket_of


async def _answered(local: LocalSandbox, sb, resident, unit, unit_chat: int, answer: str) -> None:
    await unit.tap("办结", chat=unit_chat)
    await unit.expect(zh("ask.resolve_answer"), chat=unit_chat)
    await unit.say(answer, chat=unit_chat)
    await unit.expect(zh("done.resolved"), chat=unit_chat)
    await resident.expect(answer)


async def test_signing_for_a_reopened_ticket_records_from_reopened(local: LocalSandbox, sb) -> None:
    resident = await sb.person("张伟")
    unit = await liaison(local, "yingzhou_liaison")
    coordinator = await liaison(local, "coordination")
    unit_chat, co_chat = chat(local, "yingzhou_liaison"), chat(local, "coordination")
    number = await file(resident, "房产物业", YINGZHOU, "小区楼道的灯坏了一个月，物业一直不修。")
    shown = format_number(number)
    await unit.expect(f"工单 {shown}", chat=unit_chat)
    await unit.tap("签收", chat=unit_chat)
    await resident.expect(zh("notify.accepted", number=shown, unit="颍州区"))
    await _answered(local, sb, resident, unit, unit_chat, "已联系物业更换灯泡。")
    await rate(resident, "unsolved", "dissatisfied")
    await resident.expect(zh("notify.reopened", number=shown, unit="颍州区"))
    await unit.expect(zh("card.recomplaint", count=1), chat=unit_chat)

    await unit.tap("签收", chat=unit_chat)  # the re-complaint's card: sign for it anew
    await resident.expect(zh("notify.accepted", number=shown, unit="颍州区"))
    t = await ticket_of(local, number)
    events = await local.db.read(lambda c: tickets.events(c, t.id))
    accepted = [e for e in events if e.action == "accepted"]
    assert [(e.from_state, e.to_state) for e in accepted] == [("dispatched", "accepted"), ("reopened", "accepted")]
    for earlier, later in itertools.pairwise(events):  # the states chain: each from is the last to
        if later.from_state and earlier.to_state:
            assert later.from_state == earlier.to_state, (earlier.action, later.action)

    await coordinator.say(f"/ticket {number}", chat=co_chat)
    case = await coordinator.expect("全过程", chat=co_chat)
    assert zh("ops.change", from_state=zh("state.reopened"), to_state=zh("state.accepted")) in case["text"]


async def test_a_long_case_reaches_the_operators_in_valid_parts(local: LocalSandbox, sb) -> None:
    resident = await sb.person("赵敏")
    unit = await liaison(local, "yingzhou_liaison")
    coordinator = await liaison(local, "coordination")
    unit_chat, co_chat = chat(local, "yingzhou_liaison"), chat(local, "coordination")
    number = await file(resident, "房产物业", YINGZHOU, "楼下<烧烤摊> & 噪音 \"每天\" 到凌晨，" * 30)
    shown = format_number(number)
    await unit.expect(f"工单 {shown}", chat=unit_chat)
    await unit.tap("签收", chat=unit_chat)
    for round_ in range(6):  # many rounds of answers and re-complaints, each with a long answer full of entities
        await _answered(local, sb, resident, unit, unit_chat, f"第{round_}次答复：<已处理> & \"已劝离\"。" * 25)
        await rate(resident, "unsolved", "dissatisfied")
        await resident.expect(zh("notify.reopened", number=shown, unit="颍州区"))
        await unit.expect(zh("card.recomplaint", count=round_ + 1), chat=unit_chat)  # the fresh card is there
    before = len(await sb.messages(co_chat))
    await coordinator.say(f"/ticket {number}", chat=co_chat)

    async def whole_case() -> list[dict]:
        parts = [m for m in (await sb.messages(co_chat))[before:] if m.get("outgoing")]
        return parts if "第5次答复" in "\n".join(m.get("text", "") for m in parts) else []

    parts = await eventually(whole_case, what="the last answer in the case view")
    assert len(parts) >= 2, "the timeline needed more than one message"
    assert all(len(m["text"]) <= 4096 for m in parts)
    assert "全过程" in parts[0]["text"]
    continued = zh("ops.case_continued", number=shown).replace("<b>", "").replace("</b>", "")
    assert all(m["text"].startswith(continued) for m in parts[1:])
    assert '<已处理> & "已劝离"' in parts[-1]["text"]  # entities arrive as text: every part's HTML parsed


async def test_rating_buttons_go_even_when_the_direct_edit_is_lost(local: LocalSandbox, sb, clock) -> None:
    resident = await sb.person("孙丽")
    unit = await liaison(local, "yingzhou_liaison")
    unit_chat = chat(local, "yingzhou_liaison")
    number = await file(resident, "房产物业", YINGZHOU, "电梯经常停运，老人上下楼很困难。")
    await unit.expect(f"工单 {format_number(number)}", chat=unit_chat)
    await unit.tap("签收", chat=unit_chat)
    await _answered(local, sb, resident, unit, unit_chat, "已督促物业维修电梯。")
    answer = next(m for m in reversed(await resident.transcript()) if "已督促物业维修电梯" in (m.get("text") or ""))
    await resident.tap(zh("rates.btn_solved"))  # the message now asks the second question

    async def second_question() -> str | None:
        shown = next(m for m in await sb.messages(resident.id) if m["message_id"] == answer["message_id"])
        return next((b["callback_data"] for row in shown.get("reply_markup", {}).get("inline_keyboard", [])
                     for b in row if b["text"] == zh("rates.btn_satisfied")), None)

    satisfied = await eventually(second_question, what="the satisfaction buttons")
    # the handler's own edit fails, and so does the outbox's first try
    await sb.fault("500", method="editMessageText", chat_id=resident.id, count=1)
    await sb.fault("500", method="editMessageReplyMarkup", chat_id=resident.id, count=1)
    await resident.tap(zh("rates.btn_satisfied"))
    await resident.expect(zh("notify.closed", number=format_number(number)))

    async def buttons_gone() -> bool:
        clock.advance(5)  # past the outbox's back-off
        shown = next(m for m in await sb.messages(resident.id) if m["message_id"] == answer["message_id"])
        return not shown.get("reply_markup", {}).get("inline_keyboard")

    await eventually(buttons_gone, what="the rating buttons removed by the outbox")
    late = await sb.callback_answer(await sb.press(resident.id, resident.id, answer["message_id"], data=satisfied,
                                                   forge=True))
    assert late["text"] == zh("deny.already_rated")
    t = await ticket_of(local, number)
    assert (t.state, t.rating) == ("closed", "satisfied")
