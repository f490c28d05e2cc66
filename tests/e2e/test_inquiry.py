"""Asking the reporter privately (询问群众), adding material (补充材料) and withdrawing (撤回), end to end.

Privacy is asserted on the raw Bot API messages the emulator holds: nothing the bot sent to the unit's group names
the reporter (id, username, first name), nothing it sent to the reporter names the liaison.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from bot.domain.numbers import format_number
from bot.reports.model import build_report
from bot.reports.text import render_text
from bot.texts import Texts
from sandbox.client import Person
from sandbox.local import LocalSandbox
from storage import tickets
from tests.e2e.talk import eventually, first_line, plain, zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison, ticket_of
from tests.images import jpeg

pytestmark = pytest.mark.backends  # run on SQLite and on PostgreSQL (tests/e2e/conftest.py)
STREET_LIGHTS = "市政设施"


async def named_liaison(local: LocalSandbox, sb, group: str) -> Person:
    """A second liaison of the group with a name and a username of their own (administrator of the group)."""
    user = await sb.create_user("张科长", username="zhang_kezhang", language_code="zh")
    await sb.set_member(chat(local, group), user["id"], "administrator")
    return Person(sb, user, None, await sb.seq())


async def signed_for(local: LocalSandbox, sb, resident: Person, description: str) -> tuple[str, Person, int]:
    """A street-light ticket in 颍州区, signed for by the group's named liaison: (number, liaison, group)."""
    number = await file(resident, STREET_LIGHTS, YINGZHOU, description, page2=True)
    group = chat(local, "yingzhou_liaison")
    officer = await named_liaison(local, sb, "yingzhou_liaison")
    await officer.expect(f"工单 {format_number(number)}", chat=group)
    await officer.tap("签收", chat=group)
    await resident.expect(zh("notify.accepted", number=format_number(number), unit="颍州区"))
    return number, officer, group


async def ask(officer: Person, group: int, question: str, asked: int = 1, answered: int = 0) -> None:
    """The liaison asks from the card; returns once the card says so (and so carries its new version)."""
    await officer.tap(zh("card.btn_ask_reporter"), chat=group)
    await officer.expect(zh("ask.inquiry_question"), chat=group)
    await officer.say(question, chat=group)
    await officer.expect(zh("card.inquiries", asked=asked, answered=answered), chat=group)
    await eventually(lambda: _said(officer, group, zh("done.inquiry_sent")), what="the liaison's confirmation")


async def _said(person: Person, chat_id: int, text: str) -> bool:
    return any(m.get("outgoing") and m.get("text") == text for m in await person.transcript(chat_id))


def _bot_messages(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m.get("outgoing")]


def _mentions(message: dict, person: Person) -> list[str]:
    """What of the person's identity a message (as raw JSON) carries."""
    raw = json.dumps(message, ensure_ascii=False)
    user = person.user
    found = [value for value in (user.get("first_name"), user.get("username")) if value and value in raw]
    if f'"id": {person.id},' in raw or f'"id": {person.id}}}' in raw or str(person.id) in (
            message.get("text", "") + message.get("caption", "")):
        found.append(str(person.id))
    return found


async def test_two_rounds_of_questions_and_answers_with_no_identity_either_way(local: LocalSandbox, sb) -> None:
    resident = await sb.person("王秀英", username="wang_xiuying")
    number, officer, group = await signed_for(local, sb, resident, "小区门口的路灯坏了三天了，晚上很黑。")
    shown = format_number(number)
    card_id = next(m["message_id"] for m in await sb.messages(group)
                   if m.get("outgoing") and f"工单 {shown}" in (m.get("text") or ""))

    # round 1: the answer button, then a typed answer
    await ask(officer, group, "请问是哪一根路灯杆？")
    q1 = await resident.expect("请问是哪一根路灯杆？")
    assert f"{shown}" in plain(q1["text"]) and "颍州区" in q1["text"]
    await resident.tap(zh("inquiry.btn_answer"))
    await resident.expect(zh("inquiry.answer_prompt"))
    await resident.say("靠近公交站的第三根。")
    await resident.expect(zh("inquiry.answer_sent"))
    a1 = await officer.expect("靠近公交站的第三根", chat=group)
    assert a1["reply_to_message"]["message_id"] == card_id
    assert "第 1 问" in a1["text"] and "请问是哪一根路灯杆" in a1["text"]

    # round 2: a photo sent as a reply to the question
    await ask(officer, group, "能拍一张灯杆编号的照片吗？", asked=2, answered=1)
    q2 = await resident.expect("能拍一张灯杆编号的照片吗？")
    await sb.send(resident.id, photo={"data_b64": base64.b64encode(jpeg()).decode()},
                  caption="编号在这里", reply_to_message_id=q2["message_id"])
    await resident.expect(zh("inquiry.answer_sent"))
    a2 = await officer.expect("编号在这里", chat=group)
    assert "photo" in a2 and a2["reply_to_message"]["message_id"] == card_id and "第 2 问" in a2["caption"]

    # a late reply to the first question still lands on the right round
    await sb.send(resident.id, text="另外，第三根灯杆旁边还有一根也不亮。", reply_to_message_id=q1["message_id"])
    await resident.expect(zh("inquiry.answer_sent"))
    late = await officer.expect("旁边还有一根也不亮", chat=group)
    assert "第 1 问" in late["text"] and late["reply_to_message"]["message_id"] == card_id

    # nobody saw the other
    for message in _bot_messages(await sb.messages(group)):
        assert not _mentions(message, resident), message
    for message in _bot_messages(await resident.transcript()):
        assert not _mentions(message, officer), message
        assert "联络员" not in json.dumps(message, ensure_ascii=False)

    # the timeline has the questions and answers; the public status does not
    t = await ticket_of(local, number)
    events = await local.db.read(lambda c: tickets.events(c, t.id))
    assert [e.action for e in events if e.action.startswith("reporter_")] == [
        "reporter_asked", "reporter_answered", "reporter_asked", "reporter_answered", "reporter_answered"]
    assert t.state == "accepted"
    supervisor = await liaison(local, "supervision")
    await supervisor.say(f"/ticket {number}", chat=chat(local, "supervision"))
    case = await supervisor.expect(f"工单 {shown}", chat=chat(local, "supervision"))
    assert "请问是哪一根路灯杆" in case["text"] and zh("event.reporter_answered") in case["text"]
    await resident.say(f"/status {number}")
    status = await resident.expect(f"工单 {shown}")
    assert "询问" not in status["text"] and "路灯杆" not in status["text"]


async def test_a_question_to_a_resident_who_blocked_the_bot_tells_the_unit(local: LocalSandbox, sb) -> None:
    resident = await sb.person("赵强")
    number, officer, group = await signed_for(local, sb, resident, "楼下的路灯一直闪，晚上影响睡觉。")
    shown = format_number(number)
    await resident.block()
    await ask(officer, group, "请问是几号楼？")
    notice = await officer.expect(zh("inquiry.undeliverable", number=shown, round=1), chat=group)
    assert notice["reply_to_message"]["text"].startswith(f"📋 工单 {shown}")
    # now the bot knows: a second question is refused at the button
    answer = await officer.tap(zh("card.btn_ask_reporter"), chat=group)
    assert answer["text"] == zh("deny.reporter_unreachable", number=shown)


async def test_a_photo_added_from_my_reaches_the_card(local: LocalSandbox, sb) -> None:
    resident = await sb.person("孙丽")
    number = await file(resident, STREET_LIGHTS, YINGZHOU, "人行道上的井盖松动了，踩上去会响。", page2=True)
    shown = format_number(number)
    unit = await liaison(local, "yingzhou_liaison")
    group = chat(local, "yingzhou_liaison")
    await unit.expect(f"工单 {shown}", chat=group)

    await resident.say("/my")
    listing = await resident.expect(zh("my.header"))
    labels = [b["text"] for row in listing["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == [zh("my.btn_add_material", number=shown), zh("my.btn_withdraw", number=shown)]
    await resident.tap(zh("my.btn_add_material", number=shown))
    await resident.expect(first_line("zh", "material.prompt", number=shown, max=local.config.intake.max_photos))
    await resident.send_photo(jpeg(), caption="井盖的位置")
    await resident.expect(first_line("zh", "material.added", number=shown, photos=1,
                                     max=local.config.intake.max_photos))
    card = await unit.expect(zh("card.photos", count=1), chat=group)  # redrawn, then the picture under it
    relayed = await unit.expect("井盖的位置", chat=group)
    assert "photo" in relayed and plain(Texts().get("zh", "material.to_card", number=shown, note="井盖的位置")) in \
        relayed["caption"]
    assert relayed["reply_to_message"]["message_id"] == card["message_id"]
    assert [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row] == ["签收", "退回", "建议并单"]
    await resident.say("晚上路过的人很多，请尽快。")
    await unit.expect("晚上路过的人很多", chat=group)
    await resident.tap(zh("material.btn_done"))
    await resident.say("这句不是补充材料")
    await resident.expect(zh("suggest.describe_more", min=local.config.intake.description_min_chars))

    t = await ticket_of(local, number)
    events = await local.db.read(lambda c: tickets.events(c, t.id, public_only=True))
    assert [e.action for e in events].count("material_added") == 2
    assert await local.db.read(lambda c: tickets.photo_count_of_kind(c, t.id, "material")) == 1


async def test_withdrawn_before_sign_for_is_final_and_the_report_counts_it_apart(local: LocalSandbox, sb,
                                                                                 clock) -> None:
    resident = await sb.person("周敏")
    number = await file(resident, STREET_LIGHTS, YINGZHOU, "广场边上的路灯不亮了，已经一个星期。", page2=True)
    shown = format_number(number)
    unit = await liaison(local, "yingzhou_liaison")
    group = chat(local, "yingzhou_liaison")
    await unit.expect(f"工单 {shown}", chat=group)

    await resident.say("/my")
    await resident.expect(zh("my.header"))
    await resident.tap(zh("my.btn_withdraw", number=shown))
    await resident.expect(zh("withdraw.ask_reason", number=shown))
    answer = await resident.tap(zh("withdraw.reason_solved"))
    assert answer["text"] == zh("withdraw.done", number=shown)
    await resident.expect(zh("notify.withdrawn", number=shown))

    card = await unit.expect(zh("state.withdrawn"), chat=group)
    assert f"工单 {shown}" in card["text"] and not card.get("reply_markup", {}).get("inline_keyboard")
    await unit.expect(first_line("zh", "withdraw.to_card", number=shown, unit="颍州区"), chat=group)
    t = await ticket_of(local, number)
    assert (t.state, t.sign_due_at, t.due_at) == ("withdrawn", None, None)
    events = await local.db.read(lambda c: tickets.events(c, t.id))
    assert (events[-1].action, events[-1].reason) == ("withdrawn", zh("withdraw.reason_solved"))

    # the report: not received by the unit, on a line of its own
    day = t.created_at.astimezone(local.config.city.timezone).date()
    report = await build_report(local.db, local.config.city, day, day, as_of=clock.now() + timedelta(days=30))
    unit_figures = next(u for u in report.units if u.key == "yingzhou")
    assert (report.total.received, report.total.withdrawn) == (0, 1)
    assert (unit_figures.received, unit_figures.withdrawn, unit_figures.on_time_rate) == (0, 1, None)
    text = "\n".join(render_text(report, "zh", Texts()))
    assert plain(Texts().get("zh", "report.withdrawn", withdrawn=1)) in plain(text)


async def test_a_withdrawal_after_sign_for_is_refused_politely(local: LocalSandbox, sb) -> None:
    resident = await sb.person("吴刚")
    number = await file(resident, STREET_LIGHTS, YINGZHOU, "桥头的路灯歪了，随时可能倒下来。", page2=True)
    shown = format_number(number)
    unit = await liaison(local, "yingzhou_liaison")
    group = chat(local, "yingzhou_liaison")
    await unit.expect(f"工单 {shown}", chat=group)
    await resident.say("/my")
    await resident.expect(zh("my.header"))  # listed while it could still be withdrawn

    await unit.tap("签收", chat=group)
    await resident.expect(zh("notify.accepted", number=shown, unit="颍州区"))
    answer = await resident.tap(zh("my.btn_withdraw", number=shown))
    assert answer["text"] == zh("deny.withdraw_signed", number=shown, state=zh("state.accepted"))
    assert (await ticket_of(local, number)).state == "accepted"
    # a fresh /my offers only material now
    await resident.say("/my")
    listing = await resident.expect(zh("my.header"))
    assert [b["text"] for row in listing["reply_markup"]["inline_keyboard"] for b in row] == [
        zh("my.btn_add_material", number=shown)]


async def test_a_typed_withdrawal_reason_and_an_answer_that_came_too_late(local: LocalSandbox, sb) -> None:
    resident = await sb.person("郑洁")
    # a ticket withdrawn with a typed reason, while still dispatched
    first = await file(resident, STREET_LIGHTS, YINGZHOU, "菜市场门口的路灯灯罩掉了。", page2=True)
    await resident.say("/my")
    await resident.expect(zh("my.header"))
    await resident.tap(zh("my.btn_withdraw", number=format_number(first)))
    await resident.expect(zh("withdraw.ask_reason", number=format_number(first)))
    await resident.say("物业已经修好了")
    await resident.expect(zh("withdraw.done", number=format_number(first)))
    t = await ticket_of(local, first)
    events = await local.db.read(lambda c: tickets.events(c, t.id))
    assert (t.state, events[-1].reason) == ("withdrawn", "物业已经修好了")

    # a question answered only after the unit resolved the case: refused, the unit hears nothing more
    number, officer, group = await signed_for(local, sb, resident, "学校后门的路灯不亮，孩子放学很危险。")
    shown = format_number(number)
    await ask(officer, group, "请问是哪个学校？")
    question = await resident.expect("请问是哪个学校？")
    await officer.tap("办结", chat=group)
    await officer.expect(zh("ask.resolve_answer"), chat=group)
    await officer.say("已更换灯泡。", chat=group)
    await officer.expect(zh("done.resolved"), chat=group)
    await resident.expect("已更换灯泡")
    await sb.send(resident.id, text="是实验小学。", reply_to_message_id=question["message_id"])
    await resident.expect(zh("deny.inquiry_over", number=shown))
    assert not [m for m in await sb.messages(group) if "实验小学" in (m.get("text") or "") and m.get("outgoing")]
