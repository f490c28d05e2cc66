"""The security review's end-to-end proofs (SECURITY.md): admin commands, coordinator buttons, the download cap
before any byte is read, and what the log may carry at INFO."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import pytest

from bot.callbacks import TicketButton, TicketOp
from bot.clock import FakeClock
from bot.domain.numbers import format_number
from bot.workflow import Refused
from bot.workflow.intake_photos import PictureChecks
from sandbox.local import LocalSandbox
from storage import chats, drafts
from tests.e2e.conftest import e2e_config
from tests.e2e.talk import first_line, number_in, zh
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison, ticket_of
from tests.e2e.test_intake_paths import to_photos_step
from tests.images import jpeg

PHONE = "13912345678"
#: A mainland mobile number, with or without separators.
PHONE_LIKE = re.compile(r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}")


async def test_admin_commands_answer_only_admins(local: LocalSandbox, sb) -> None:
    before = await local.db.read(chats.all_bindings)
    unit_chat = chat(local, "yingzhou_liaison")
    stranger = await sb.person("路人")
    for command in ("/code unit linquan", "/code liaison yingzhou", "/code supervisor", "/bindings",
                    f"/unbind {unit_chat}", "/reload"):
        await stranger.say(command)
        await stranger.expect(zh("admin.not_admin"))
    assert await local.db.read(chats.all_bindings) == before
    assert await local.db.read(lambda c: c.execute("SELECT count(*) FROM one_time_codes").fetchone()[0]) == 0


async def test_coordinator_buttons_work_only_for_coordinators_in_their_chat(local: LocalSandbox, sb) -> None:
    resident = await sb.person("李雷")
    coordinator, co_chat = await liaison(local, "coordination"), chat(local, "coordination")
    unit, unit_chat = await liaison(local, "yingzhou_liaison"), chat(local, "yingzhou_liaison")
    await resident.say("/new")
    await resident.tap("城市管理")
    await resident.expect(first_line("zh", "intake.ask_location"))
    await resident.say(zh("intake.btn_skip"))  # no place: the coordinators route it
    await resident.say(zh("intake.btn_no_photos"))
    await resident.say("隔壁邻居家的狗每天晚上叫个不停。")
    await resident.tap(zh("intake.btn_confirm"))
    number = number_in((await resident.expect("工单编号"))["text"])
    card = await coordinator.expect(f"待协调：工单 {format_number(number)}", chat=co_chat)
    t = await ticket_of(local, number)
    reject = TicketButton(TicketOp.REJECT, t.id, t.version).encode()

    stranger = await sb.person("路人")  # a member of the coordination chat, neither its admin nor a coordinator
    await sb.set_member(co_chat, stranger.id)
    answer = await sb.callback_answer(await sb.press(stranger.id, co_chat, card["message_id"], data=reject,
                                                     forge=True))
    assert answer["text"] == zh("deny.not_coordinator") and answer["show_alert"]
    # a unit's liaison replaying the coordinators' button in the unit's chat
    own = await file(resident, "房产物业", YINGZHOU, "小区电梯坏了一个星期，物业一直不修。")
    unit_card = await unit.expect(f"工单 {format_number(own)}", chat=unit_chat)
    answer = await sb.callback_answer(await sb.press(unit.id, unit_chat, unit_card["message_id"], data=reject,
                                                     forge=True))
    assert answer["text"] == zh("deny.not_coordinator")
    after = await ticket_of(local, number)
    assert (after.state, after.version) == (t.state, t.version)


async def test_an_oversized_file_is_refused_before_the_bot_asks_for_it(tmp_path: Path, clock: FakeClock) -> None:
    cfg = e2e_config(tmp_path)
    cfg = dataclasses.replace(cfg, intake=dataclasses.replace(cfg.intake, max_image_bytes=1024 * 1024))
    async with LocalSandbox(cfg, clock=clock) as local:
        li = await local.client.person("李雷")
        await to_photos_step(li)
        asked = (await local.client.stats())["methods"].get("getFile", 0)
        await li.send_document(jpeg(64, 64) + b"\0" * (2 * 1024 * 1024), "big.jpg", "image/jpeg")
        await li.expect(zh("photo.too_big_bytes", max_mb=1))
        assert (await local.client.stats())["methods"].get("getFile", 0) == asked  # not even getFile
        assert (await local.db.read(lambda c: drafts.get(c, li.id))).photo_count == 0


def test_a_file_whose_stored_size_is_unknown_or_too_big_is_not_read(tmp_path: Path) -> None:
    cfg = e2e_config(tmp_path)
    checks = _Checks(_deps(cfg))
    checks.check_document("image/jpeg", "a.jpg", None)  # the message may omit it: getFile must then tell
    for size, key in ((None, "photo.size_unknown"), (cfg.intake.max_image_bytes + 1, "photo.too_big_bytes")):
        with pytest.raises(Refused) as refused:
            checks.check_stored_size(size)
        assert refused.value.key == key
    checks.check_stored_size(cfg.intake.max_image_bytes)


class _Checks(PictureChecks):
    def __init__(self, deps) -> None:  # type: ignore[no-untyped-def]
        self.d = deps


def _deps(cfg):  # type: ignore[no-untyped-def]
    from bot.texts import Texts
    from bot.workflow.common import WorkflowDeps

    return WorkflowDeps(db=None, config=cfg, clock=FakeClock(), texts=Texts())  # type: ignore[arg-type]


async def test_the_log_at_info_carries_no_text_no_name_no_phone_and_no_token(local: LocalSandbox, sb,
                                                                               caplog) -> None:
    caplog.set_level(logging.INFO)
    description = f"小区门口的路灯坏了两个星期，请联系我 {PHONE}，我住在幸福里3栋。"
    resident = await sb.person("秀英", last_name="赵", username="zhao_xiuying")
    number = await file(resident, "房产物业", YINGZHOU, description)
    unit, unit_chat = await liaison(local, "yingzhou_liaison"), chat(local, "yingzhou_liaison")
    await unit.expect(f"工单 {format_number(number)}", chat=unit_chat)
    await unit.tap("签收", chat=unit_chat)
    await unit.tap("办结", chat=unit_chat)
    await unit.expect(zh("ask.resolve_answer"), chat=unit_chat)
    answer = "已修好，电话 139-1234-5678 回访过赵女士。"
    await unit.say(answer, chat=unit_chat)
    await resident.expect(answer)
    await resident.say(f"/status {number}")
    await resident.expect(format_number(number))

    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                       if r.levelno >= logging.INFO)
    assert "registered" in logged  # the log did capture the flow
    for private in (description, description[:10], "幸福里", answer[:6], "秀英", "赵", "zhao_xiuying",
                    local.liaisons["yingzhou_liaison"]["first_name"]):
        assert private not in logged, f"{private!r} reached the log"
    assert not PHONE_LIKE.search(logged), PHONE_LIKE.search(logged)
    token = local.token
    assert token not in logged and token.split(":")[1] not in logged
