"""Telegram misbehaving: the outbox sender meets each error where it happens, and nothing is silently lost."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.clock import FakeClock
from sandbox.local import LocalSandbox
from storage import outbox, users
from tests.e2e.conftest import e2e_config
from tests.e2e.talk import eventually, first_line, zh
from tests.e2e.test_intake_paths import to_photos_step


async def to_summary(person) -> None:
    await to_photos_step(person)
    await person.say(zh("intake.btn_no_photos"))
    await person.say("楼道里的灯坏了很久了，晚上看不见路。")
    await person.expect(first_line("zh", "intake.summary"))


async def rows(local: LocalSandbox, chat_id: int) -> list[dict]:
    return await local.db.read(lambda c: outbox.rows_for_chat(c, chat_id))


async def queue(local: LocalSandbox, chat_id: int, text: str) -> None:
    now = local.clock.now()
    await local.db.write(lambda c: outbox.add(c, chat_id, "message", {"text": text}, now))
    local.runner.outbox.kick()


async def test_429_waits_exactly_retry_after_then_delivers(local: LocalSandbox, sb, clock: FakeClock) -> None:
    li = await sb.person("李雷")
    await to_summary(li)
    await sb.fault("429", method="sendMessage", chat_id=li.id, retry_after=30)
    await li.tap(zh("intake.btn_confirm"))
    row = (await eventually(lambda: _rows_with_error(local, li.id, "429"), what="a 429 on the row"))[0]
    assert row["status"] == "pending" and row["attempts"] == 0  # a 429 is not a failed attempt
    assert not any("工单编号" in (m.get("text") or "") for m in await li.transcript())
    clock.advance(31)
    await li.expect("工单编号")
    assert [r["status"] for r in await rows(local, li.id)] == ["sent"]


async def _rows_with_error(local: LocalSandbox, chat_id: int, needle: str) -> list[dict]:
    return [r for r in await rows(local, chat_id) if needle in (r["last_error"] or "")]


async def test_a_5xx_is_retried_with_backoff(local: LocalSandbox, sb, clock: FakeClock) -> None:
    li = await sb.person("李雷")
    await to_summary(li)
    await sb.fault("500", method="sendMessage", chat_id=li.id)
    await li.tap(zh("intake.btn_confirm"))
    await eventually(lambda: _rows_with_error(local, li.id, "NetworkError"), what="a 5xx on the row")
    clock.advance(1.5)
    await li.expect("工单编号")
    (row,) = await rows(local, li.id)
    assert (row["status"], row["attempts"]) == ("sent", 2)


async def test_a_timed_out_send_is_sent_again_at_worst_twice(tmp_path: Path, clock: FakeClock) -> None:
    cfg = e2e_config(tmp_path)
    cfg = dataclasses.replace(cfg, telegram=dataclasses.replace(cfg.telegram, read_timeout_s=0.3))
    async with LocalSandbox(cfg, clock=clock) as local:
        li = await local.client.person("李雷")
        await to_summary(li)
        await local.client.fault("timeout", method="sendMessage", chat_id=li.id, delay_s=0.8)
        await li.tap(zh("intake.btn_confirm"))
        await eventually(lambda: _rows_with_error(local, li.id, "TimedOut"), what="a timeout on the row")
        clock.advance(1.5)
        await eventually(lambda: _sent(local, li.id), what="the retry")
        confirmations = [m for m in await li.transcript() if "工单编号" in (m.get("text") or "")]
        assert 1 <= len(confirmations) <= 2


async def _sent(local: LocalSandbox, chat_id: int) -> bool:
    return [r["status"] for r in await rows(local, chat_id)] == ["sent"]


async def test_a_resident_who_blocked_the_bot_is_marked_unreachable_and_not_retried(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.say("/help")
    await li.expect(first_line("zh", "help.text", max_photos=6))
    await li.block()
    await queue(local, li.id, "第一条通知")
    await queue(local, li.id, "第二条通知")
    found = await eventually(lambda: _all_dead(local, li.id), what="rows given up")
    assert all("blocked" in r["last_error"] for r in found)
    # Telegram's status is recorded once: "403 Forbidden: bot was blocked by the user"
    assert all(r["last_error"].startswith("403 ") and not r["last_error"].startswith("403 403") for r in found)
    assert found[0]["attempts"] == 1
    user = await local.db.read(lambda c: users.get(c, li.id))
    assert user is not None and not user.reachable
    # Writing to the bot again makes the resident reachable again.
    await li.block(False)
    await li.say("/help")
    await li.expect(first_line("zh", "help.text", max_photos=6))
    assert (await local.db.read(lambda c: users.get(c, li.id))).reachable


async def _all_dead(local: LocalSandbox, chat_id: int) -> list[dict]:
    found = await rows(local, chat_id)
    return found if found and all(r["status"] == "dead" for r in found) else []


async def test_a_message_to_a_migrated_group_reaches_the_supergroup(local: LocalSandbox, sb) -> None:
    group = local.groups["coordination"]
    migrated = await sb.migrate(group["id"])
    new_id = migrated.get("new_chat_id") or migrated.get("id") or migrated["migrate_to_chat_id"]
    await queue(local, group["id"], "一张派单卡片")
    texts = await eventually(lambda: _texts_in(sb, new_id, "一张派单卡片"), what="the message in the supergroup")
    assert texts
    recorded = await local.db.read(lambda c: c.execute(
        "SELECT new_chat_id FROM chat_migrations WHERE old_chat_id = ?", (group["id"],)).fetchone())
    assert recorded[0] == new_id
    (row,) = await rows(local, new_id)
    assert row["status"] == "sent"


async def _texts_in(sb, chat_id: int, needle: str) -> list[str]:
    return [m["text"] for m in await sb.messages(chat_id) if needle in (m.get("text") or "")]


async def test_a_permanent_error_is_not_retried(local: LocalSandbox, sb) -> None:
    await queue(local, -999_999, "nobody is there")
    (row,) = await eventually(lambda: _all_dead(local, -999_999), what="the row given up")
    assert "chat not found" in row["last_error"].lower() and row["attempts"] == 1


async def test_repeated_failures_stop_after_max_attempts(tmp_path: Path, clock: FakeClock) -> None:
    cfg = e2e_config(tmp_path)
    cfg = dataclasses.replace(cfg, outbox=dataclasses.replace(cfg.outbox, max_attempts=3))
    async with LocalSandbox(cfg, clock=clock) as local:
        li = await local.client.person("李雷")
        await li.say("/help")
        await li.expect(first_line("zh", "help.text", max_photos=6))
        await local.client.fault("502", method="sendMessage", chat_id=li.id, count=100)
        await queue(local, li.id, "通知")
        for attempt in (1, 2):
            await eventually(lambda n=attempt: _attempts(local, li.id, n), what=f"attempt {attempt}")
            clock.advance(cfg.outbox.backoff_max_s)
        (row,) = await eventually(lambda: _all_dead(local, li.id), what="the row given up")
        assert row["attempts"] == 3


async def _attempts(local: LocalSandbox, chat_id: int, n: int) -> bool:
    return any(r["attempts"] >= n for r in await rows(local, chat_id))
