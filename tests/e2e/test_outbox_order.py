"""The outbox keeps each chat's rows in order under Telegram's errors: a failed row holds back its chat's later rows
(not other chats', not behind a row scheduled for later), a card ends showing its ticket's last state, and a
message's buttons can be dropped through the outbox."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.callbacks import TicketButton, TicketOp
from bot.clock import FakeClock
from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from storage import chats, outbox
from tests.e2e.talk import eventually, plain, rate, zh
from tests.e2e.test_handling import HEFEI_AVENUE, chat, file, liaison, ticket_of


async def rows(local: LocalSandbox, chat_id: int) -> list[dict]:
    return await local.db.read(lambda c: outbox.rows_for_chat(c, chat_id))


def buttons(message: dict) -> list[list[str]]:
    return [[b["text"] for b in row] for row in message.get("reply_markup", {}).get("inline_keyboard", [])]


def payload_buttons(payload: dict) -> list[list[str]]:
    return [[b["text"] for b in row] for row in (payload.get("reply_markup") or {}).get("inline_keyboard", [])]


async def message(sb, chat_id: int, message_id: int) -> dict:
    return next(m for m in await sb.messages(chat_id) if m["message_id"] == message_id)


async def texts_in(sb, chat_id: int) -> list[str]:
    return [m.get("text") or "" for m in await sb.messages(chat_id) if m.get("outgoing")]


# -- a card's edits, through the real flow ------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["429", "500"])
async def test_a_card_ends_showing_the_final_state_when_an_earlier_edit_was_refused(
        local: LocalSandbox, sb, clock: FakeClock, fault: str) -> None:
    resident = await sb.person("王芳")
    park = await liaison(local, "fuhe_park_liaison")
    park_chat = chat(local, "fuhe_park_liaison")
    number = await file(resident, "市政设施", HEFEI_AVENUE, "合肥大道上的路灯白天一直亮着，晚上反而不亮。", page2=True)
    card = await park.expect(f"工单 {format_number(number)}", chat=park_chat)

    # Signing for it queues an edit of the card, which Telegram refuses once.
    await sb.fault(fault, method="editMessageText", chat_id=park_chat, retry_after=30)
    await park.tap("签收", chat=park_chat)
    refused = (await eventually(lambda: _edits_with_error(local, park_chat), what="the refused edit"))[0]
    assert refused["status"] == "pending"
    # not redrawn yet
    assert buttons(await message(sb, park_chat, card["message_id"])) == [["签收", "退回"], ["建议并单"]]

    # The liaison resolves it (pressing what the redrawn card would offer) and the resident is satisfied: two
    # more edits of the same card queue up behind the refused one.
    t = await ticket_of(local, number)
    data = TicketButton(TicketOp.RESOLVE, t.id, t.version).encode()
    await sb.callback_answer(await sb.press(park.id, park_chat, card["message_id"], data=data, forge=True))
    await park.expect(zh("ask.resolve_answer"), chat=park_chat)
    await park.say("路灯控制器已更换，今晚恢复正常。", chat=park_chat)
    await park.expect(zh("done.resolved"), chat=park_chat)
    await resident.expect("已办结您的工单")
    await rate(resident)
    await resident.expect(zh("notify.closed", number=format_number(number)))
    assert (await ticket_of(local, number)).state == "closed"
    edits = [r for r in await rows(local, park_chat) if r["kind"] == "edit_card"]
    assert len(edits) == 3 and all(r["status"] == "pending" for r in edits)

    # Time passes: the refused edit is due again, but newer ones replace it; the last one is what the card shows.
    clock.advance(31)
    edits = await eventually(lambda: _settled_edits(local, park_chat), what="the edits settled")
    last = edits[-1]
    assert [r["status"] for r in edits] == ["superseded", "superseded", "sent"]
    assert [r["last_error"] for r in edits[:2]] == [f"superseded by row {last['id']}"] * 2
    shown = await message(sb, park_chat, card["message_id"])
    final = outbox_payload(last)
    assert shown["text"] == plain(final["text"])
    assert buttons(shown) == payload_buttons(final)
    assert not buttons(shown)  # a closed ticket's card has nothing left to press
    assert edits[0]["attempts"] == (0 if fault == "429" else 1)
    # the card's bookkeeping still points at the one card message
    t = await ticket_of(local, number)
    message_id, card_row = await local.db.read(lambda c: chats.card_message(c, t.id, "unit", park_chat))
    assert message_id == card["message_id"]
    assert next(r for r in await rows(local, park_chat) if r["id"] == card_row)["kind"] == "card"


def outbox_payload(row: dict) -> dict:
    return json.loads(row["payload"])


async def _edits_with_error(local: LocalSandbox, chat_id: int) -> list[dict]:
    return [r for r in await rows(local, chat_id) if r["kind"] == "edit_card" and r["last_error"]]


async def _settled_edits(local: LocalSandbox, chat_id: int) -> list[dict]:
    edits = [r for r in await rows(local, chat_id) if r["kind"] == "edit_card"]
    return edits if edits and all(r["status"] != "pending" for r in edits) else []


# -- edits of a card that is itself still retrying (they name it by its outbox row) ------------------------------

async def test_edits_of_a_card_still_retrying_wait_for_it_and_only_the_newest_is_sent(
        local: LocalSandbox, sb, clock: FakeClock) -> None:
    resident = await sb.person("王芳")
    park = await liaison(local, "fuhe_park_liaison")
    park_chat = chat(local, "fuhe_park_liaison")
    await sb.fault("429", method="sendMessage", chat_id=park_chat, retry_after=20)
    number = await file(resident, "市政设施", HEFEI_AVENUE, "合肥大道上的路灯白天一直亮着，晚上反而不亮。", page2=True)
    t = await ticket_of(local, number)
    message_id, card_row = await local.db.read(lambda c: chats.card_message(c, t.id, "unit", park_chat))
    assert message_id is None and card_row is not None
    await eventually(lambda: _row_error(local, card_row, "429"), what="the card refused")
    (pin,) = [m for m in await sb.messages(park_chat) if m.get("outgoing")]  # the map pin went before it

    # The liaison signs for it and resolves it (as if from the card): both edits name the card by its row.
    data = TicketButton(TicketOp.ACCEPT, t.id, t.version).encode()
    await sb.callback_answer(await sb.press(park.id, park_chat, pin["message_id"], data=data, forge=True))
    t = await ticket_of(local, number)
    data = TicketButton(TicketOp.RESOLVE, t.id, t.version).encode()
    await sb.callback_answer(await sb.press(park.id, park_chat, pin["message_id"], data=data, forge=True))
    await park.expect(zh("ask.resolve_answer"), chat=park_chat)
    await park.say("路灯控制器已更换，今晚恢复正常。", chat=park_chat)
    await park.expect(zh("done.resolved"), chat=park_chat)
    edits = [r for r in await rows(local, park_chat) if r["kind"] == "edit_card"]
    assert [outbox_payload(r).get("card_row") for r in edits] == [card_row, card_row]
    assert all(r["status"] == "pending" and r["attempts"] == 0 for r in edits)  # held back, never tried

    clock.advance(21)
    edits = await eventually(lambda: _settled_edits(local, park_chat), what="the edits settled")
    assert [r["status"] for r in edits] == ["superseded", "sent"]
    assert edits[0]["last_error"] == f"superseded by row {edits[1]['id']}"
    card = next(r for r in await rows(local, park_chat) if r["id"] == card_row)
    assert card["status"] == "sent"
    shown = await message(sb, park_chat, card["sent_message_id"])
    assert shown["text"] == plain(outbox_payload(edits[1])["text"])
    assert buttons(shown) == payload_buttons(outbox_payload(edits[1]))
    assert (await ticket_of(local, number)).state == "resolved"
    assert await local.db.read(lambda c: chats.card_message(c, t.id, "unit", park_chat)) == (
        card["sent_message_id"], card_row)


async def _row_error(local: LocalSandbox, row_id: int, needle: str) -> bool:
    found = await local.db.read(lambda c: c.execute("SELECT last_error FROM outbox WHERE id = ?",
                                                    (row_id,)).fetchone())
    return bool(found and found[0] and needle in found[0])


async def _none_pending(local: LocalSandbox, chat_id: int) -> list[dict]:
    found = await rows(local, chat_id)
    return found if found and all(r["status"] != "pending" for r in found) else []


# -- a failed row holds back its chat, and only its chat ---------------------------------------------------------

async def test_a_failed_row_holds_back_its_chats_later_rows_only(local: LocalSandbox, sb, clock: FakeClock) -> None:
    a, b = chat(local, "coordination"), chat(local, "supervision")
    now = clock.now()
    await sb.fault("429", method="sendMessage", chat_id=a, retry_after=30)

    def queue(c) -> None:
        outbox.add(c, a, "message", {"text": "早上的汇总"}, now, not_before=now + timedelta(hours=10))  # quiet hours
        outbox.add(c, a, "message", {"text": "A 第一条"}, now)
        outbox.add(c, a, "message", {"text": "A 第二条"}, now)
        outbox.add(c, b, "message", {"text": "B 第一条"}, now)

    await local.db.write(queue)
    local.runner.outbox.kick()
    await eventually(lambda: _has_text(sb, b, "B 第一条"), what="the other chat's row")
    digest, first, second = await eventually(lambda: _first_refused(local, a), what="the refused row")
    assert "429" in first["last_error"] and first["status"] == "pending"
    assert (second["status"], second["attempts"], second["last_error"]) == ("pending", 0, None)
    assert (digest["status"], digest["last_error"]) == ("pending", None)

    # Another pass happens (the other chat gets a new row through) and A's second row still waits.
    await local.db.write(lambda c: outbox.add(c, b, "message", {"text": "B 第二条"}, now))
    local.runner.outbox.kick()
    await eventually(lambda: _has_text(sb, b, "B 第二条"), what="the other chat's second row")
    assert await texts_in(sb, a) == []
    assert [r["status"] for r in await rows(local, a)] == ["pending", "pending", "pending"]

    clock.advance(31)
    await eventually(lambda: _has_text(sb, a, "A 第二条"), what="A's rows")
    assert await texts_in(sb, a) == ["A 第一条", "A 第二条"]  # in order
    assert [r["status"] for r in await rows(local, a)] == ["pending", "sent", "sent"]  # the digest keeps its hour


async def test_a_5xx_holds_back_the_chat_until_the_back_off_is_over(local: LocalSandbox, sb, clock: FakeClock
                                                                      ) -> None:
    a = chat(local, "coordination")
    now = clock.now()
    await sb.fault("500", method="sendMessage", chat_id=a)
    await local.db.write(lambda c: [outbox.add(c, a, "message", {"text": t}, now) for t in ("一", "二", "三")])
    local.runner.outbox.kick()
    found = await eventually(lambda: _first_refused(local, a), what="the 5xx")
    assert [r["status"] for r in found] == ["pending"] * 3 and found[0]["attempts"] == 1
    assert await texts_in(sb, a) == []
    clock.advance(1.5)
    await eventually(lambda: _has_text(sb, a, "三"), what="all three")
    assert await texts_in(sb, a) == ["一", "二", "三"]


async def _has_text(sb, chat_id: int, text: str) -> bool:
    return text in await texts_in(sb, chat_id)


async def _first_refused(local: LocalSandbox, chat_id: int) -> list[dict]:
    found = await rows(local, chat_id)
    return found if any(r["last_error"] for r in found) else []


# -- dropping a message's buttons through the outbox ------------------------------------------------------------

async def test_drop_buttons_by_source_row_removes_the_keyboard(local: LocalSandbox, sb, clock: FakeClock) -> None:
    li = await sb.person("李雷")
    await li.say("/help")
    await li.expect("/new")
    now = clock.now()
    markup = {"inline_keyboard": [[{"text": "满意", "callback_data": "a"}, {"text": "不满意", "callback_data": "b"}]]}
    await sb.fault("429", method="sendMessage", chat_id=li.id, retry_after=10)

    def queue(c) -> int | None:
        outbox.add(c, li.id, "message", {"text": "请评价", "reply_markup": markup}, now, dedupe_key="rate:1")
        source = outbox.row_id_by_dedupe_key(c, "rate:1")
        assert source is not None
        outbox.add(c, li.id, "drop_buttons", {"source_row": source}, now)
        return source

    source = await local.db.write(queue)
    local.runner.outbox.kick()
    await eventually(lambda: _row_error(local, source, "429"), what="the message refused")
    clock.advance(11)
    found = await eventually(lambda: _none_pending(local, li.id), what="the message and the drop")
    assert [(r["kind"], r["status"]) for r in found] == [("message", "sent"), ("drop_buttons", "sent")]
    shown = await message(sb, li.id, found[0]["sent_message_id"])
    assert shown["text"] == "请评价" and not buttons(shown)

    # Dropping them again (by message id) is "not modified": done, not dead.
    await local.db.write(lambda c: outbox.add(c, li.id, "drop_buttons", {"message_id": shown["message_id"]}, now))
    local.runner.outbox.kick()
    found = await eventually(lambda: _none_pending(local, li.id), what="the second drop")
    assert found[-1]["status"] == "sent"


async def test_drop_buttons_of_a_message_that_was_never_sent_gives_up_visibly(local: LocalSandbox, sb,
                                                                               clock: FakeClock) -> None:
    now = clock.now()

    def queue(c) -> None:
        source = outbox.add(c, -999_999, "message", {"text": "nobody is there"}, now)
        outbox.add(c, -999_999, "drop_buttons", {"source_row": source}, now)

    await local.db.write(queue)
    local.runner.outbox.kick()
    found = await eventually(lambda: _none_pending(local, -999_999), what="both given up")
    assert [r["status"] for r in found] == ["dead", "dead"]
    assert found[1]["last_error"] == "the message this edits was never sent"

