"""Hotline operators end to end (issue 12, item 1): an admin registers operators and binds their chat, an operator
files a caller's complaint with /call through the resident's own intake, the unit handles it, the operators' chat
gets the callback card (回访) and an operator records the caller's rating — or fails to reach the caller. The
caller's phone number reaches no unit chat, no coordination chat and no /status reply (asserted on the raw
payloads the emulator recorded)."""

from __future__ import annotations

import json

from bot.domain.numbers import format_number
from sandbox.client import Person
from sandbox.local import LocalSandbox
from storage import chats, contacts, tickets
from tests.e2e.conftest import ADMIN_ID
from tests.e2e.talk import first_line, number_in, zh

PHONE_TYPED, PHONE = "+86 138-1234-5678", "13812345678"
DIGITS = ("13812345678", "1234-5678", "1234 5678")  # however the number might leak


async def liaison(local: LocalSandbox, group: str) -> Person:
    assert local.client is not None
    return Person(local.client, local.liaisons[group], None, await local.client.seq())


def chat(local: LocalSandbox, group: str) -> int:
    return int(local.groups[group]["id"])


async def code_from(admin: Person, command: str, marker: str) -> str:
    await admin.say(command)
    reply = await admin.expect(marker)
    return reply["text"].split(marker)[1].split()[0]


async def operators_desk(local: LocalSandbox, sb) -> tuple[Person, Person, int]:
    """An admin binds the operators' group and registers an operator (both with one-time codes): (admin,
    operator, the operators' chat id)."""
    admin = Person(sb, await sb.create_user("管理员", id=ADMIN_ID), None, await sb.seq())
    operator = await sb.person("话务员小周")
    group = await sb.create_group("12345 话务员群", member_ids=[admin.id, operator.id], admin_ids=[admin.id])
    code = await code_from(admin, "/code operators", "/bind ")
    await admin.say(f"/bind {code}", chat=group["id"])
    await admin.expect(zh("admin.bound", target=zh("hotline.target_operators")), chat=group["id"])
    code = await code_from(admin, "/code operator", "/operator ")
    await operator.say(f"/operator {code}")
    await operator.expect(first_line("zh", "hotline.operator_registered"))
    return admin, operator, int(group["id"])


async def call(operator: Person, description: str, name: str | None = "张先生") -> tuple[str, dict]:
    """The operator files a caller's complaint: /call, the number, the name (or skip), then the resident's steps
    with a typed place. Returns (number, the phone step's reply)."""
    await operator.say("/call")
    await operator.expect(zh("hotline.ask_phone"))
    await operator.say(PHONE_TYPED)
    taken = await operator.expect(zh("hotline.phone_taken", phone=PHONE))
    assert zh("hotline.ask_name") in taken["text"]
    if name is None:
        await operator.say(zh("hotline.btn_skip_name"))
        await operator.expect(zh("hotline.name_skipped"))
    else:
        await operator.say(name)
        await operator.expect(zh("hotline.name_taken", name=name))
    await operator.tap("房产物业")
    await operator.expect(first_line("zh", "intake.ask_location"))
    await operator.say("阜阳火车站")
    await operator.expect(zh("intake.place_matched", place="阜阳站"))
    await operator.say(zh("intake.btn_no_photos"))
    await operator.say(description)
    summary = await operator.expect(first_line("zh", "intake.summary"))
    assert zh("hotline.summary_caller", phone=PHONE, name=name or zh("hotline.no_name")) in summary["text"]
    await operator.tap(zh("intake.btn_confirm"))
    registered = await operator.expect(first_line("zh", "hotline.registered"))
    return number_in(registered["text"]), taken


async def resolve(unit: Person, unit_chat: int, number: str, answer: str, sign: bool = True) -> None:
    if sign:
        await unit.expect(f"工单 {format_number(number)}", chat=unit_chat)
        await unit.tap("签收", chat=unit_chat)
    await unit.tap("办结", chat=unit_chat)
    await unit.expect(zh("ask.resolve_answer"), chat=unit_chat)
    await unit.say(answer, chat=unit_chat)
    await unit.expect(zh("done.resolved"), chat=unit_chat)


def raw(messages: list[dict]) -> str:
    """Every payload the emulator recorded for a chat, as sent (text, captions, buttons, edits)."""
    return json.dumps(messages, ensure_ascii=False)


async def test_an_operator_files_for_a_caller_and_records_the_callers_rating(local: LocalSandbox, sb) -> None:
    _, operator, desk = await operators_desk(local, sb)
    unit, unit_chat = await liaison(local, "yingdong_liaison"), chat(local, "yingdong_liaison")

    # a service number is refused, naming the accepted forms; the caller's number is normalised
    await operator.say("/call")
    await operator.expect(zh("hotline.ask_phone"))
    await operator.say("12345")
    await operator.expect(first_line("zh", "hotline.phone_service"))
    await operator.say("/cancel")
    await operator.expect(zh("intake.cancelled"))
    number, _ = await call(operator, "火车站出站口的电梯停了三天，老人拖着行李只能走楼梯。")
    shown = format_number(number)

    t = await local.db.read(lambda c: tickets.by_number(c, number))
    assert (t.channel, t.reporter_id, t.unit) == ("hotline", -1, "yingdong")
    contact = await local.db.read(lambda c: contacts.get(c, t.id))
    assert (contact.phone, contact.name) == (PHONE, "张先生")
    assert await local.db.read(lambda c: tickets.followers(c, t.id)) == []  # the operator follows nothing
    events = await local.db.read(lambda c: tickets.events(c, t.id))
    assert (events[0].action, events[0].actor_kind, events[0].actor_id) == ("registered", "operator", operator.id)

    # the unit signs for it and answers; the operators' chat gets the callback card with the caller
    await resolve(unit, unit_chat, number, "电梯已更换电机，恢复运行。")
    card = await operator.expect(f"工单 {shown}", chat=desk)
    assert zh("hotline.callback_title", number=shown) in card["text"]
    for words in ("电梯已更换电机", PHONE, "张先生", zh("rates.ask")):
        assert words in card["text"], words
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == [zh("rates.btn_solved"), zh("rates.btn_partly"), zh("rates.btn_unsolved"),
                      zh("hotline.btn_not_reached")]

    # someone in the operators' chat who is no registered operator may not press it
    before = await local.db.read(lambda c: tickets.by_number(c, number))
    stranger = await sb.person("实习生")
    await sb.set_member(desk, stranger.id)
    answer = await sb.callback_answer(await sb.press(stranger.id, desk, card["message_id"],
                                                     button_text=zh("rates.btn_solved")))
    assert answer["text"] == zh("hotline.not_operator") and answer["show_alert"]
    answer = await sb.callback_answer(await sb.press(stranger.id, desk, card["message_id"],
                                                     button_text=zh("hotline.btn_not_reached")))
    assert answer["text"] == zh("hotline.not_operator")
    after = await local.db.read(lambda c: tickets.by_number(c, number))
    assert (after.state, after.version) == ("resolved", before.version)

    # the operator records the caller's answers with the resident's two questions: closed as satisfied
    await operator.tap(zh("rates.btn_solved"), chat=desk)
    done = await operator.tap(zh("rates.btn_satisfied"), chat=desk)
    assert done["text"] == zh("done.rated")
    redrawn = await operator.expect(zh("hotline.callback_rated", solved=zh("rates.btn_solved"),
                                       satisfaction=zh("rates.btn_satisfied")), chat=desk)
    assert not redrawn.get("reply_markup", {}).get("inline_keyboard")
    t = await local.db.read(lambda c: tickets.by_number(c, number))
    assert (t.state, t.rating, t.solved, t.satisfaction) == ("closed", "satisfied", "solved", "satisfied")
    rated = (await local.db.read(lambda c: tickets.events(c, t.id)))[-1]
    assert (rated.action, rated.actor_kind, rated.actor_id) == ("rated_satisfied", "operator", operator.id)

    # /ticket: the operator sees the caller in private; the coordinators' /ticket does not show it
    await operator.say(f"/ticket {number}")
    await operator.expect(zh("hotline.caller_line", phone=PHONE, name="张先生"))
    coordinator, co_chat = await liaison(local, "coordination"), chat(local, "coordination")
    await coordinator.say(f"/ticket {number}", chat=co_chat)
    await coordinator.expect("全过程", chat=co_chat)

    # anyone's /status, the unit's chat and the coordinators' chat: no trace of the phone number
    resident = await sb.person("路人甲")
    await resident.say(f"/status {number}")
    await resident.expect(f"工单 {shown}")
    for chat_id in (unit_chat, co_chat, resident.private, chat(local, "supervision")):
        payloads = raw(await sb.messages(chat_id))
        assert not any(d in payloads for d in DIGITS), chat_id
        assert "张先生" not in payloads, chat_id

    # repeat callers: /caller lists the number's tickets
    await operator.say(f"/caller {PHONE_TYPED}")
    listing = await operator.expect(zh("hotline.caller_header", phone=PHONE, count=1))
    assert shown in listing["text"] and "房产物业" in listing["text"]
    # which a non-operator cannot do
    await resident.say(f"/caller {PHONE}")
    await resident.expect(zh("hotline.not_operator"))
    await resident.say("/call")
    await resident.expect(zh("hotline.not_operator"))


async def test_a_dissatisfied_caller_reopens_it_and_an_unreachable_one_closes_it(local: LocalSandbox, sb) -> None:
    _, operator, desk = await operators_desk(local, sb)
    unit, unit_chat = await liaison(local, "yingdong_liaison"), chat(local, "yingdong_liaison")
    first, _ = await call(operator, "火车站广场的路灯坏了一排，晚上很黑。", name=None)
    # the same caller again: their open case is named before anything is filed
    await operator.say("/call")
    await operator.expect(zh("hotline.ask_phone"))
    await operator.say(PHONE)
    taken = await operator.expect(zh("hotline.phone_taken", phone=PHONE))
    assert zh("hotline.open_cases", count=1, lines="").strip() in taken["text"]
    assert format_number(first) in taken["text"]
    await operator.say("/cancel")
    await operator.expect(zh("intake.cancelled"))
    t = await local.db.read(lambda c: tickets.by_number(c, first))
    assert await local.db.read(lambda c: contacts.get(c, t.id)) == contacts.Contact(t.id, None, PHONE)

    # dissatisfied: re-opened at the same unit, as a resident's rating would
    await resolve(unit, unit_chat, first, "已报修。")
    await operator.expect(zh("hotline.callback_title", number=format_number(first)), chat=desk)
    await operator.tap(zh("rates.btn_unsolved"), chat=desk)
    await operator.tap(zh("rates.btn_dissatisfied"), chat=desk)
    await unit.expect(zh("card.recomplaint", count=1), chat=unit_chat)
    t = await local.db.read(lambda c: tickets.by_number(c, first))
    assert (t.state, t.reopen_count, t.rating) == ("reopened", 1, "dissatisfied")

    # answered again: a fresh callback card; three calls nobody answers close it as unreachable
    await resolve(unit, unit_chat, first, "路灯已全部更换。", sign=False)  # a re-opened case may be answered
    await operator.expect("路灯已全部更换", chat=desk)
    for tries in (1, 2):
        answer = await operator.tap(zh("hotline.btn_not_reached"), chat=desk)
        assert answer["text"] == zh("hotline.not_reached_done", tries=tries, max=3)
        await operator.expect(zh("hotline.callback_tries", tries=tries, max=3), chat=desk)
    answer = await operator.tap(zh("hotline.btn_not_reached"), chat=desk)
    assert answer["text"] == zh("hotline.unreachable_done", tries=3)
    closed = await operator.expect(zh("hotline.callback_unreachable", tries=3), chat=desk)
    assert not closed.get("reply_markup", {}).get("inline_keyboard")
    t = await local.db.read(lambda c: tickets.by_number(c, first))
    assert t.state == "closed" and t.closed_at is not None  # its rating is still the first round's
    events = await local.db.read(lambda c: tickets.events(c, t.id))
    assert [e.action for e in events[-3:]] == ["callback_not_reached", "callback_not_reached", "caller_unreachable"]
    assert events[-1].reason == zh("hotline.unreachable_reason", tries=3)
    assert await local.db.read(lambda c: chats.is_operator(c, operator.id))
    payloads = raw(await sb.messages(unit_chat))
    assert not any(d in payloads for d in DIGITS)


async def test_operators_are_listed_and_undone_like_the_other_bindings(local: LocalSandbox, sb) -> None:
    admin, operator, desk = await operators_desk(local, sb)
    await admin.say("/bindings")
    listing = await admin.expect("已绑定的工作群")
    assert zh("hotline.target_operators") in listing["text"] and "12345 话务员群" in listing["text"]
    assert zh("hotline.bindings_operators", ids=operator.id) in listing["text"]
    # a code is for one purpose: an operator's code binds no chat, a binding code registers nobody
    code = await code_from(admin, "/code operator", "/operator ")
    other = await sb.create_group("别的群", member_ids=[admin.id])
    await admin.say(f"/bind {code}", chat=other["id"])
    await admin.expect(zh("admin.code_invalid"), chat=other["id"])
    # undo: the operator is no longer one, the chat no longer the operators'
    await admin.say(f"/unoperator {operator.id}")
    await admin.expect(zh("hotline.operator_removed", user_id=operator.id))
    await operator.say("/call")
    await operator.expect(zh("hotline.not_operator"))
    await admin.say(f"/unbind {desk}")
    await admin.expect(zh("admin.unbound", chat_id=desk))
    assert await local.db.read(lambda c: chats.chat_for(c, "operators")) is None
    await admin.say(f"/unoperator {operator.id}")
    await admin.expect(zh("hotline.not_an_operator", user_id=operator.id))


async def test_a_call_survives_a_restart_and_the_operators_messages_stay_the_calls(local: LocalSandbox,
                                                                                   sb) -> None:
    _, operator, _ = await operators_desk(local, sb)
    await operator.say(f"/call {PHONE_TYPED}")  # the number may follow the command
    await operator.expect(zh("hotline.phone_taken", phone=PHONE))
    await local.restart_bot()
    await operator.say("李女士")  # after the restart, the call's next step still takes it
    await operator.expect(zh("hotline.name_taken", name="李女士"))
    await operator.say("/new")  # a complaint of the operator's own would have to wait: the call resumes
    await operator.expect(zh("intake.resumed"))
    draft = await local.runner.services.intake.draft(operator.id)
    assert (draft.is_call, draft.caller_phone, draft.caller_name, draft.step) == (True, PHONE, "李女士", "category")
