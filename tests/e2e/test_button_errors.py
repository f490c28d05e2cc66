"""A refused press and a bug are told apart: a forged unit key is a stale button; a KeyError inside a use-case is
a failure that is logged and answered as one, never passed off as the user's stale press."""

from __future__ import annotations

import logging

import pytest

from bot.callbacks import TicketButton, TicketOp
from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from tests.e2e.talk import zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison, ticket_of


async def test_a_forged_unit_key_is_a_stale_button(local: LocalSandbox, sb) -> None:
    resident = await sb.person("周杰")
    unit = await liaison(local, "yingzhou_liaison")
    coordinator = await liaison(local, "coordination")
    unit_chat, co_chat = chat(local, "yingzhou_liaison"), chat(local, "coordination")
    number = await file(resident, "房产物业", YINGZHOU, "小区门口的井盖丢了，很危险。")
    await unit.expect(f"工单 {format_number(number)}", chat=unit_chat)
    await unit.tap("退回", chat=unit_chat)
    await unit.tap(zh("ask.reason_not_ours"), chat=unit_chat)
    card = await coordinator.expect(f"{format_number(number)}", chat=co_chat)
    t = await ticket_of(local, number)
    forged = TicketButton(TicketOp.REDISPATCH_TO, t.id, t.version, "atlantis").encode()
    answer = await sb.callback_answer(await sb.press(coordinator.id, co_chat, card["message_id"], data=forged,
                                                     forge=True))
    assert answer["text"] == zh("deny.stale")


async def test_a_bug_behind_a_button_is_logged_and_not_called_stale(local: LocalSandbox, sb, caplog,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    resident = await sb.person("吴磊")
    unit = await liaison(local, "yingzhou_liaison")
    unit_chat = chat(local, "yingzhou_liaison")
    number = await file(resident, "房产物业", YINGZHOU, "楼顶漏水，雨天家里到处是水。")
    await unit.expect(f"工单 {format_number(number)}", chat=unit_chat)

    async def broken(*args: object) -> None:
        raise KeyError("card.no_such_key")

    assert local.runner is not None
    monkeypatch.setattr(local.runner.services.unit, "accept", broken)
    with caplog.at_level(logging.ERROR, logger="handlers.common"):
        answer = await unit.tap("签收", chat=unit_chat)
    assert answer["text"] == zh("common.error") and answer["text"] != zh("deny.stale")
    assert any("update failed: KeyError" in r.getMessage() for r in caplog.records)
    assert (await ticket_of(local, number)).state == "dispatched"
