"""Merging duplicates (并单) end to end: a coordinator merges a case into an open ticket by typing its number (the
check digit is checked); a unit proposes a merge that a coordinator approves or declines. B's resident is told,
then hears A's answer with the rating buttons and may rate it; `/status B` says where it went."""

from __future__ import annotations

import pytest

from bot.callbacks import TicketButton, TicketOp
from bot.domain.numbers import format_number
from sandbox.client import Person
from sandbox.local import LocalSandbox
from storage import tickets
from tests.e2e.talk import eventually, first_line, number_in, plain, rate, zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison, ticket_of

pytestmark = pytest.mark.backends  # run on SQLite and on PostgreSQL (tests/e2e/conftest.py)

def _buttons(message: dict) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def _mistyped(number: str) -> str:
    """The number with its last (check) digit changed: nine digits that are no ticket's number."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


async def _unroutable(resident, description: str) -> str:
    """A case with no place: a local category cannot be routed, so it waits on the coordination card."""
    await resident.say("/new")
    await resident.tap("城市管理")
    await resident.expect(first_line("zh", "intake.ask_location"))
    await resident.say(zh("intake.btn_skip"))
    await resident.say(zh("intake.btn_no_photos"))
    await resident.say(description)
    await resident.tap(zh("intake.btn_confirm"))
    return number_in((await resident.expect("工单编号"))["text"])


async def test_a_coordinator_merges_a_duplicate_and_its_resident_rates_the_answer(local: LocalSandbox, sb) -> None:
    first, second = await sb.person("王芳"), await sb.person("李雷")
    unit, coordinator = await liaison(local, "yingzhou_liaison"), await liaison(local, "coordination")
    unit_chat, co_chat = chat(local, "yingzhou_liaison"), chat(local, "coordination")
    a = await file(first, "城市管理", YINGZHOU, "清河路口的垃圾桶满了三天没人清运，臭气熏天。")
    await unit.expect(f"工单 {format_number(a)}", chat=unit_chat)
    b = await _unroutable(second, "清河路那边垃圾好几天没人收了。")
    card = await coordinator.expect(f"待协调：工单 {format_number(b)}", chat=co_chat)
    assert zh("card.btn_merge") in _buttons(card)

    await coordinator.tap(zh("card.btn_merge"), chat=co_chat)
    await coordinator.expect(zh("merge.ask_number", number=format_number(b)), chat=co_chat)
    # a mistyped check digit, the ticket itself: refused, and the question still waits for the right number
    await coordinator.say(_mistyped(a), chat=co_chat)
    await coordinator.expect(zh("merge.deny_mistyped"), chat=co_chat)
    await coordinator.say(b, chat=co_chat)
    await coordinator.expect(zh("merge.deny_same"), chat=co_chat)
    # The retired card's edit (the outbox) and the reply (the handler) are not ordered between them: on
    # PostgreSQL the sender works beside the handler. A second cursor from here finds the edit either way.
    card_watch = Person(sb, coordinator.user, coordinator.token, await sb.seq())
    await coordinator.say(format_number(a), chat=co_chat)
    await coordinator.expect(zh("merge.done_merged"), chat=co_chat)

    told = await second.expect(plain(zh("merge.notify_merged", number=format_number(b), into=format_number(a),
                                         raw_into=a)))
    assert "王芳" not in told["text"]  # nothing of the other reporter
    retired = await card_watch.expect(plain(zh("merge.card_merged_into", number=format_number(a))), chat=co_chat)
    assert _buttons(retired) == []
    a_card = await unit.expect(zh("merge.card_followers", count=2), chat=unit_chat)
    assert _buttons(a_card) == ["签收", "退回", "建议并单"]
    tb, ta = await ticket_of(local, b), await ticket_of(local, a)
    assert (tb.state, tb.merged_into, tb.sign_due_at, tb.due_at) == ("merged", ta.id, None, None)
    events = await local.db.read(lambda c: (tickets.events(c, tb.id), tickets.events(c, ta.id)))
    assert [e.action for e in events[0]][-1] == "merged" and [e.action for e in events[1]][-1] == "merge_absorbed"

    # /status B: merged into A, no identity
    await second.say(f"/status {b}")
    status = await second.expect(f"工单 {format_number(b)}")
    assert plain(zh("merge.status_merged", into=format_number(a), raw_into=a)) in status["text"]
    assert zh("state.merged") in status["text"] and "王芳" not in status["text"]

    # the unit handles A: B's resident hears each step, then gets the answer with the rating buttons
    await unit.tap("签收", chat=unit_chat)
    await second.expect(zh("notify.accepted", number=format_number(a), unit="颍州区"))
    await unit.tap("办结", chat=unit_chat)
    await unit.expect(zh("ask.resolve_answer"), chat=unit_chat)
    await unit.say("已安排环卫车清运，并增加清运频次。", chat=unit_chat)
    await unit.expect(zh("done.resolved"), chat=unit_chat)
    for resident in (first, second):
        answer = await resident.expect("已安排环卫车清运")
        assert _buttons(answer) == [zh("rates.btn_solved"), zh("rates.btn_partly"), zh("rates.btn_unsolved")]
    # B's resident rates first and decides; A's reporter is then told it was rated
    await rate(second, "solved", "basic")
    await second.expect(zh("notify.closed", number=format_number(a)))
    late = await first.tap(zh("rates.btn_solved"))
    assert late["text"] == zh("deny.already_rated")
    ta = await ticket_of(local, a)
    assert (ta.state, ta.solved, ta.satisfaction, ta.rating) == ("closed", "solved", "basic", "satisfied")
    rated = [e for e in await local.db.read(lambda c: tickets.events(c, ta.id)) if e.action == "rated_satisfied"]
    assert [e.actor_id for e in rated] == [second.id]


async def test_a_units_proposal_is_approved_by_a_coordinator(local: LocalSandbox, sb) -> None:
    first, second = await sb.person("王芳"), await sb.person("李雷")
    unit, coordinator = await liaison(local, "yingzhou_liaison"), await liaison(local, "coordination")
    unit_chat, co_chat = chat(local, "yingzhou_liaison"), chat(local, "coordination")
    a = await file(first, "房产物业", YINGZHOU, "阳光小区3号楼电梯坏了一周，物业不修。")
    await unit.expect(f"工单 {format_number(a)}", chat=unit_chat)
    b = await file(second, "城市管理", YINGZHOU, "阳光小区电梯一直停运，老人下不了楼。")
    await unit.expect(f"工单 {format_number(b)}", chat=unit_chat)

    await unit.tap(zh("card.btn_propose_merge"), chat=unit_chat)  # on B's card, the newest
    await unit.expect(zh("merge.ask_number_unit", number=format_number(b)), chat=unit_chat)
    await unit.say(a, chat=unit_chat)
    await unit.expect(zh("merge.done_proposed"), chat=unit_chat)
    proposal = await coordinator.expect("并单建议", chat=co_chat)
    assert format_number(a) in proposal["text"] and format_number(b) in proposal["text"]
    assert "颍州区" in proposal["text"] and "李雷" not in proposal["text"]
    assert _buttons(proposal) == [zh("card.btn_approve_merge"), zh("card.btn_deny_merge")]
    assert (await ticket_of(local, b)).state == "dispatched"  # a proposal changes nothing yet

    answer = await coordinator.tap(zh("card.btn_approve_merge"), chat=co_chat)
    assert answer["text"] == zh("merge.done_approved")
    decided = await coordinator.expect(zh("merge.proposal_decided", decision=zh("card.btn_approve_merge")),
                                       chat=co_chat)
    assert _buttons(decided) == []
    await second.expect(plain(zh("merge.notify_merged", number=format_number(b), into=format_number(a),
                                 raw_into=a)))
    b_card = await unit.expect(plain(zh("merge.card_merged_into", number=format_number(a))), chat=unit_chat)
    assert _buttons(b_card) == [] and zh("state.merged") in b_card["text"]
    tb, ta = await ticket_of(local, b), await ticket_of(local, a)
    assert (tb.state, tb.merged_into) == ("merged", ta.id)
    actions = [e.action for e in await local.db.read(lambda c: tickets.events(c, tb.id))]
    assert actions[-2:] == ["merge_proposed", "merged"]
    # the approved proposal, pressed again (a forged or late press), changes nothing
    data = proposal["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    again = await sb.callback_answer(await sb.press(coordinator.id, co_chat, proposal["message_id"], data=data,
                                                    forge=True))
    assert again["text"] == zh("deny.stale")


async def test_a_declined_proposal_and_a_closed_target_change_nothing(local: LocalSandbox, sb) -> None:
    first, second = await sb.person("王芳"), await sb.person("李雷")
    unit, coordinator = await liaison(local, "yingzhou_liaison"), await liaison(local, "coordination")
    unit_chat, co_chat = chat(local, "yingzhou_liaison"), chat(local, "coordination")
    a = await file(first, "房产物业", YINGZHOU, "小区门口井盖松动，踩上去会翻。")
    await unit.expect(f"工单 {format_number(a)}", chat=unit_chat)
    b = await file(second, "城市管理", YINGZHOU, "小区大门外占道经营，堵住了消防通道。")
    await unit.expect(f"工单 {format_number(b)}", chat=unit_chat)
    await unit.tap(zh("card.btn_propose_merge"), chat=unit_chat)
    await unit.say(a, chat=unit_chat)
    await unit.expect(zh("merge.done_proposed"), chat=unit_chat)
    await coordinator.expect("并单建议", chat=co_chat)
    answer = await coordinator.tap(zh("card.btn_deny_merge"), chat=co_chat)
    assert answer["text"] == zh("merge.done_denied")
    await unit.expect(plain(zh("merge.unit_denied", number=format_number(b), into=format_number(a))),
                      chat=unit_chat)
    tb = await ticket_of(local, b)
    assert (tb.state, tb.merged_into) == ("dispatched", None)
    assert [e.action for e in await local.db.read(lambda c: tickets.events(c, tb.id))][-1] == "merge_denied"

    # A is closed meanwhile: it can no longer take a duplicate (pressed on B's card as it is now)
    ta = await ticket_of(local, a)
    await local.db.write(lambda c: tickets.update(c, ta.id, ta.version, ta.updated_at, state="closed"))
    card = next(m for m in reversed(await sb.messages(unit_chat)) if format_number(b) in (m.get("text") or ""))
    data = TicketButton(TicketOp.PROPOSE_MERGE, tb.id, tb.version).encode()
    await sb.callback_answer(await sb.press(unit.id, unit_chat, card["message_id"], data=data, forge=True))
    await unit.expect(zh("merge.ask_number_unit", number=format_number(b)), chat=unit_chat)
    await unit.say(format_number(a), chat=unit_chat)
    await unit.expect(zh("merge.deny_not_open", number=format_number(a)), chat=unit_chat)
    assert (await ticket_of(local, b)).version == tb.version


async def test_a_proposal_still_acts_after_the_unit_signs_for_the_case(local: LocalSandbox, sb) -> None:
    first, second = await sb.person("王芳"), await sb.person("李雷")
    unit, coordinator = await liaison(local, "yingzhou_liaison"), await liaison(local, "coordination")
    unit_chat, co_chat = chat(local, "yingzhou_liaison"), chat(local, "coordination")
    a = await file(first, "房产物业", YINGZHOU, "单元门禁坏了，谁都能进。")
    await unit.expect(f"工单 {format_number(a)}", chat=unit_chat)
    b = await file(second, "城市管理", YINGZHOU, "小区单元门锁坏了好几天。")
    await unit.expect(f"工单 {format_number(b)}", chat=unit_chat)
    await unit.tap(zh("card.btn_propose_merge"), chat=unit_chat)
    await unit.say(a, chat=unit_chat)
    await unit.expect(zh("merge.done_proposed"), chat=unit_chat)
    proposal = await coordinator.expect("并单建议", chat=co_chat)

    # the unit signs for B meanwhile (by the card as it is now): B's version moves on, the proposal follows it
    tb = await ticket_of(local, b)
    card = next(m for m in reversed(await sb.messages(unit_chat)) if format_number(b) in (m.get("text") or ""))
    data = TicketButton(TicketOp.ACCEPT, tb.id, tb.version).encode()
    await sb.callback_answer(await sb.press(unit.id, unit_chat, card["message_id"], data=data, forge=True))
    tb = await ticket_of(local, b)
    assert tb.state == "accepted"

    async def rearmed() -> bool:
        shown = next(m for m in await sb.messages(co_chat) if m["message_id"] == proposal["message_id"])
        versions = {TicketButton.decode(x["callback_data"]).version  # type: ignore[union-attr]
                    for row in shown.get("reply_markup", {}).get("inline_keyboard", []) for x in row}
        return versions == {tb.version}

    await eventually(rearmed, what="the proposal's buttons at B's new version")
    answer = await coordinator.tap(zh("card.btn_approve_merge"), chat=co_chat)
    assert answer["text"] == zh("merge.done_approved")
    assert (await ticket_of(local, b)).state == "merged"
