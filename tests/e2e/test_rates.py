"""The rating's two questions end to end: one message edited in place (solved? then satisfied?), both answers
stored on the ticket, its event and its rating row; unsolved or dissatisfied reopens, anything else closes; a
reason can be added by a preset button or typed."""

from __future__ import annotations

import json

import pytest

from bot.callbacks import TicketButton, TicketOp
from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from storage import tickets
from tests.e2e.talk import eventually, plain, zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison, ticket_of
from tests.e2e.test_lifecycle_history import _answered

pytestmark = pytest.mark.backends  # run on SQLite and on PostgreSQL (tests/e2e/conftest.py)

def _buttons(message: dict) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def _answered_case(local: LocalSandbox, sb, description: str, answer: str):
    resident = await sb.person("周杰")
    unit = await liaison(local, "yingzhou_liaison")
    unit_chat = chat(local, "yingzhou_liaison")
    number = await file(resident, "房产物业", YINGZHOU, description)
    await unit.expect(f"工单 {format_number(number)}", chat=unit_chat)
    await unit.tap("签收", chat=unit_chat)
    await _answered(local, sb, resident, unit, unit_chat, answer)
    return resident, unit, unit_chat, number


async def _message(sb, chat_id: int, message_id: int) -> dict:
    return next(m for m in await sb.messages(chat_id) if m["message_id"] == message_id)


async def _rating_row(local: LocalSandbox, ticket_id: int) -> tuple:
    return tuple(await local.db.read(lambda c: c.execute(
        "SELECT round, user_id, solved, satisfaction, reason FROM ticket_ratings WHERE ticket_id = ?",
        (ticket_id,)).fetchone()))


async def _event_data(local: LocalSandbox, ticket_id: int, action: str) -> dict:
    row = await local.db.read(lambda c: c.execute(
        "SELECT data FROM events WHERE ticket_id = ? AND action = ? ORDER BY id DESC", (ticket_id, action)).fetchone())
    return json.loads(row[0])


async def test_partly_solved_and_dissatisfied_reopens_and_a_preset_reason_is_added(local: LocalSandbox, sb) -> None:
    resident, unit, unit_chat, number = await _answered_case(local, sb, "楼顶漏水，下雨天家里天花板滴水。",
                                                            "已安排维修队修补楼顶防水层。")
    answer = next(m for m in reversed(await resident.transcript()) if "修补楼顶" in (m.get("text") or ""))
    assert zh("rates.ask") in answer["text"]
    assert _buttons(answer) == [zh("rates.btn_solved"), zh("rates.btn_partly"), zh("rates.btn_unsolved")]

    await resident.tap(zh("rates.btn_partly"))
    asked = await resident.expect(plain(zh("rates.ask_satisfaction", solved=zh("rates.btn_partly"))))
    assert asked["message_id"] == answer["message_id"], "the same message, edited in place"
    assert "修补楼顶" in asked["text"] and zh("rates.ask") not in asked["text"]
    assert _buttons(asked) == [zh("rates.btn_satisfied"), zh("rates.btn_basic"), zh("rates.btn_dissatisfied")]
    await resident.tap(zh("rates.btn_dissatisfied"))
    await resident.expect(zh("notify.reopened", number=format_number(number), unit="颍州区"))
    await unit.expect(zh("card.recomplaint", count=1), chat=unit_chat)

    t = await ticket_of(local, number)
    assert (t.state, t.solved, t.satisfaction, t.rating, t.reopen_count) == (
        "reopened", "partly", "dissatisfied", "dissatisfied", 1)
    assert await _event_data(local, t.id, "reopened") == {"solved": "partly", "satisfaction": "dissatisfied"}
    assert await _rating_row(local, t.id) == (1, resident.id, "partly", "dissatisfied", None)

    # the same message now shows what was rated and offers the reasons
    async def reasons_shown() -> dict | None:
        shown = await _message(sb, resident.id, answer["message_id"])
        return shown if zh("rates.reason_too_slow") in _buttons(shown) else None

    shown = await eventually(reasons_shown, what="the reason buttons")
    assert plain(zh("rates.done", solved=zh("rates.btn_partly"), satisfaction=zh("rates.btn_dissatisfied"))) in \
        shown["text"]
    done = await resident.tap(zh("rates.reason_too_slow"))
    assert done["text"] == zh("rates.reason_added")
    assert (await _rating_row(local, t.id))[4] == zh("rates.reason_too_slow")
    events = await local.db.read(lambda c: tickets.events(c, t.id))
    assert [(e.action, e.reason, e.public) for e in events][-1] == ("rating_reason", zh("rates.reason_too_slow"),
                                                                    False)

    async def buttons_gone() -> bool:
        return not _buttons(await _message(sb, resident.id, answer["message_id"]))

    await eventually(buttons_gone, what="the spent reason buttons removed")
    # the unit handling the re-complaint hears why; the operators' timeline shows both answers
    await unit.expect(plain(zh("rates.unit_reason", number=format_number(number), reason=zh("rates.reason_too_slow"))),
                      chat=unit_chat)
    reopened = next(e for e in events if e.action == "reopened")
    assert reopened.reason == "部分解决 · 不满意"


async def test_partly_solved_and_fairly_satisfied_closes_with_a_typed_reason(local: LocalSandbox, sb) -> None:
    resident, _, _, number = await _answered_case(local, sb, "小区路灯一半不亮，晚上走路很黑。",
                                                            "已更换了损坏的路灯灯泡。")
    await resident.tap(zh("rates.btn_partly"))
    await resident.tap(zh("rates.btn_basic"))
    await resident.expect(zh("notify.closed", number=format_number(number)))
    t = await ticket_of(local, number)
    assert (t.state, t.solved, t.satisfaction, t.rating) == ("closed", "partly", "basic", "satisfied")
    assert await _event_data(local, t.id, "rated_satisfied") == {"solved": "partly", "satisfaction": "basic"}

    await resident.tap(zh("rates.btn_write_reason"))
    await resident.expect(zh("rates.ask_reason_text"))
    await resident.say("只换了一半，东边那几盏还是不亮。")
    await resident.expect(zh("rates.reason_added"))
    assert (await _rating_row(local, t.id))[4] == "只换了一半，东边那几盏还是不亮。"
    last = (await local.db.read(lambda c: tickets.events(c, t.id)))[-1]
    assert (last.action, last.actor_kind, last.reason) == ("rating_reason", "resident",
                                                           "只换了一半，东边那几盏还是不亮。")
    # one reason per rating; the next message is the intake's again
    await resident.say("谢谢")
    await resident.expect(zh("suggest.describe_more", min=10))


async def test_solved_and_satisfied_closes_without_asking_why(local: LocalSandbox, sb) -> None:
    resident, _, _, number = await _answered_case(local, sb, "楼道堆满杂物，消防通道堵了。", "已督促清理楼道杂物。")
    answer = next(m for m in reversed(await resident.transcript()) if "清理楼道" in (m.get("text") or ""))
    await resident.tap(zh("rates.btn_solved"))
    await resident.tap(zh("rates.btn_satisfied"))
    await resident.expect(zh("notify.closed", number=format_number(number)))

    async def buttons_gone() -> bool:
        return not _buttons(await _message(sb, resident.id, answer["message_id"]))

    await eventually(buttons_gone, what="the rating buttons removed")
    t = await ticket_of(local, number)
    assert (t.state, t.solved, t.satisfaction, t.rating) == ("closed", "solved", "satisfied", "satisfied")


async def test_unsolved_reopens_even_when_satisfied(local: LocalSandbox, sb) -> None:
    resident, _, _, number = await _answered_case(local, sb, "下水道堵了，污水漫到路上。", "已联系疏通公司。")
    await resident.tap(zh("rates.btn_unsolved"))
    await resident.tap(zh("rates.btn_satisfied"))
    await resident.expect(zh("notify.reopened", number=format_number(number), unit="颍州区"))
    t = await ticket_of(local, number)
    assert (t.state, t.solved, t.satisfaction, t.rating) == ("reopened", "unsolved", "satisfied", "satisfied")


async def test_a_one_tap_button_on_an_older_answer_still_rates(local: LocalSandbox, sb) -> None:
    """Answers sent before the two questions carry 满意 / 不满意 buttons: a press still counts (no 'solved')."""
    resident, _, _, number = await _answered_case(local, sb, "小区喷泉池积水发臭。", "已抽干积水并清洗。")
    answer = next(m for m in reversed(await resident.transcript()) if "抽干积水" in (m.get("text") or ""))
    t = await ticket_of(local, number)
    old = TicketButton(TicketOp.DISSATISFIED, t.id, t.version).encode()
    pressed = await sb.callback_answer(await sb.press(resident.id, resident.id, answer["message_id"], data=old,
                                                      forge=True))
    assert pressed["text"] == zh("done.rated")
    t = await ticket_of(local, number)
    assert (t.state, t.solved, t.satisfaction, t.rating) == ("reopened", None, "dissatisfied", "dissatisfied")
