"""What a crash can duplicate, made as small as the Bot API allows: a card delivered just before a kill (its
outbox row still pending, the message id never recorded) is sent again after the restart; the first copy is
untracked, and nothing would ever redraw its buttons. The first press on it retires those buttons."""

from __future__ import annotations

import sqlite3

from sandbox.local import LocalSandbox
from tests.e2e.talk import eventually, number_in, zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison


def _buttons(message: dict) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def _cards(local: LocalSandbox, chat_id: int, number: str) -> list[dict]:
    assert local.client is not None
    shown = f"{number[:3]} {number[3:6]} {number[6:]}"
    return [m for m in await local.client.messages(chat_id) if m.get("outgoing") and shown in m.get("text", "")
            and m.get("text", "").startswith("📋")]


async def test_a_card_sent_again_after_a_kill_leaves_no_live_buttons_on_the_first_copy(local: LocalSandbox,
                                                                                         sb) -> None:
    resident = await sb.person("李雷", language_code="zh")
    unit = await liaison(local, "yingzhou_liaison")
    group = chat(local, "yingzhou_liaison")
    number = await file(resident, "城市管理", YINGZHOU, "颍州区政府门口的路灯白天一直亮着，晚上却不亮。")
    first = await unit.expect(f"工单 {number[:3]} {number[3:6]} {number[6:]}", chat=group)
    assert "签收" in _buttons(first)

    # the kill: the card went out, but the transaction that records it as sent never committed
    await local.stop_bot()
    with sqlite3.connect(local.config.storage.database) as c:
        (row,) = c.execute("SELECT outbox_id FROM cards WHERE chat_id = ? AND kind = 'unit'", (group,)).fetchone()
        c.execute("UPDATE outbox SET status = 'pending', sent_at = NULL, sent_message_id = NULL WHERE id = ?", (row,))
        c.execute("UPDATE cards SET message_id = NULL WHERE outbox_id = ?", (row,))
    await local.start_bot()
    second = await unit.expect(f"工单 {number[:3]} {number[3:6]} {number[6:]}", chat=group)
    assert second["message_id"] != first["message_id"]
    assert len(await _cards(local, group, number)) == 2  # the duplicate the Bot API cannot prevent

    # the liaison presses the first (untracked) copy: the press counts, and that copy's buttons go
    query = await sb.press(unit.id, group, first["message_id"], button_text="签收")
    assert (await sb.callback_answer(query))["text"] == zh("done.accepted")
    await unit.expect(f"工单 {number[:3]} {number[3:6]} {number[6:]}", chat=group)  # an edit
    await resident.expect(number_in(first["text"])[:3])
    copies = {m["message_id"]: m for m in await _cards(local, group, number)}

    async def settled() -> bool:
        copies.update({m["message_id"]: m for m in await _cards(local, group, number)})
        return not _buttons(copies[first["message_id"]]) and "签收" not in _buttons(copies[second["message_id"]])

    await eventually(settled, what="the first copy's buttons retired, the tracked card redrawn")
    assert _buttons(copies[second["message_id"]]), "the tracked card keeps the buttons of the next step"
