"""A unit's group becomes a supergroup while a case's card is in it. Message ids of the old group mean nothing in
the supergroup, so the card's next redraw must not edit whatever message bears that id there: the pending edit is
given up with the reason, and the case's card is posted afresh in the supergroup, with the buttons of its state."""

from __future__ import annotations

from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from storage import chats, outbox
from tests.e2e.talk import eventually, zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison


async def test_a_card_left_in_the_old_group_is_posted_again_in_the_supergroup(local: LocalSandbox, sb) -> None:
    resident = await sb.person("李雷")
    a, a_chat = await liaison(local, "yingzhou_liaison"), chat(local, "yingzhou_liaison")
    number = await file(resident, "房产物业", YINGZHOU, "小区外墙瓷砖脱落，砸坏了停在下面的车。")
    shown = format_number(number)
    await a.expect(f"工单 {shown}", chat=a_chat)
    migrated = await sb.migrate(a_chat)
    new_chat = migrated.get("new_chat_id") or migrated.get("id") or migrated["migrate_to_chat_id"]


    async def reposted() -> list[dict]:
        return [m for m in await sb.messages(new_chat)
                if f"工单 {shown}" in (m.get("text") or "") and m.get("reply_markup")]

    # the group's service message told the bot: the card is posted again in the supergroup, with its buttons
    (card,) = await eventually(reposted, what="the card posted again in the supergroup")
    assert [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row][:2] == ["签收", "退回"]
    t_id = (await local.db.read(lambda c: c.execute("SELECT id FROM tickets WHERE number = ?",
                                                        (number,)).fetchone()))[0]
    tracked = await eventually(lambda: local.db.read(lambda c: chats.card_message(c, t_id, "unit", new_chat)[0]),
                               what="the new card tracked")
    assert tracked == card["message_id"]

    # the liaison signs for it there; the resident hears it; the redraw edits the new card, not a message of the
    # old group's numbering
    await a.tap("签收", chat=new_chat)
    await resident.expect(zh("notify.accepted", number=shown, unit="颍州区"))
    redrawn = await a.expect(zh("card.due", due=""), chat=new_chat)
    assert redrawn["message_id"] == card["message_id"]
    assert not await local.db.read(lambda c: [r for r in outbox.rows_for_chat(c, new_chat) if r["status"] == "dead"])
