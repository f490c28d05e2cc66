"""Webhook mode end to end: the emulator posts every update to our own server, which keeps it in the inbox and
processes it from there (bot/webhook.py). Real Application, real HTTP, the sandbox as Telegram."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.webhook import SECRET_HEADER, InboxProcessor
from sandbox.local import SANDBOX_WEBHOOK_SECRET, LocalSandbox
from storage import inbox, tickets
from tests.e2e.talk import eventually, first_line
from tests.e2e.test_intake_happy import file_complaint

#: What a resident or a liaison could notice having changed (the inbox itself aside).
WATCHED = ("tickets", "events", "ticket_photos", "outbox", "drafts", "cards", "users", "followers")


@pytest.fixture
async def local(config: Config, clock: FakeClock) -> AsyncIterator[LocalSandbox]:
    async with LocalSandbox(config, clock=clock, webhook=True) as sandbox:
        yield sandbox


async def snapshot(local: LocalSandbox) -> dict[str, list[tuple[Any, ...]]]:
    """The watched tables once the outbox has sent all it had (so a later snapshot can only differ by news)."""
    await eventually(lambda: local.db.read(lambda c: not c.execute(
        "SELECT 1 FROM outbox WHERE status = 'pending'").fetchone()), what="the outbox drained")

    def read(c):
        return {t: [tuple(r) for r in c.execute(f"SELECT * FROM {t} ORDER BY rowid")] for t in WATCHED}

    return await local.db.read(read)


async def inbox_rows(local: LocalSandbox) -> list[Any]:
    return await local.db.read(inbox.rows)


def url_of(local: LocalSandbox) -> str:
    runner = local.runner
    return runner.webhook.public_url(runner.server.port)  # type: ignore[union-attr]


async def post(local: LocalSandbox, update: dict[str, Any], secret: str | None = SANDBOX_WEBHOOK_SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session, session.post(url_of(local), json=update, headers=headers) as r:
        return r.status


HELP = first_line("zh", "help.text", max_photos=6)


async def replies(person) -> list[dict[str, Any]]:
    """What the bot sent in the person's private chat (the transcript also holds what they wrote)."""
    return [m for m in await person.transcript() if m.get("outgoing")]


def count(messages: list[dict[str, Any]], text: str) -> int:
    return sum(text in (m.get("text") or "") for m in messages)


async def test_a_resident_files_a_complaint_by_webhook(local: LocalSandbox, sb) -> None:
    info = await local.runner.app.bot.get_webhook_info()
    assert info.url == url_of(local)  # registered with Telegram (the emulator) at start, polling is off

    li = await sb.person("李雷", language_code="zh")
    number = await file_complaint(li)

    ticket = await local.db.read(lambda c: tickets.by_number(c, number))
    assert ticket is not None and ticket.state == "dispatched" and ticket.reporter_id == li.id
    rows = await eventually(lambda: _all_done(local), what="every row marked done")  # just after the reply
    assert len(rows) == 7  # /new, category, location, photo, done, description, confirm
    assert {r["chat_id"] for r in rows} == {li.id}
    assert local.runner.server.received["stored"] == len(rows)


async def test_a_replayed_update_changes_nothing(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷", language_code="zh")
    await file_complaint(li)
    before, transcript = await snapshot(local), await replies(li)
    stored = await inbox_rows(local)

    for row in stored:  # Telegram delivers every one of them again (it did not see our 200, say)
        assert await post(local, json.loads(row["payload"])) == 200

    await li.say("/help")  # processed after anything the replay could have caused in this chat
    await li.expect(HELP)
    after = await snapshot(local)
    assert after == before  # the same tickets, events, outbox and drafts
    now = await replies(li)
    assert now[:len(transcript)] == transcript  # nothing edited either
    assert len(now) == len(transcript) + 1  # one reply: to /help, none to the replays
    assert len(await inbox_rows(local)) == len(stored) + 1
    assert local.runner.server.received["repeated"] == len(stored)


async def test_a_request_without_the_right_secret_is_refused_and_changes_nothing(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷", language_code="zh")
    await li.say("/help")
    await li.expect(HELP)
    real = json.loads((await inbox_rows(local))[-1]["payload"])
    forged = {**real, "update_id": real["update_id"] + 1000,
              "message": {**real["message"], "message_id": real["message"]["message_id"] + 1000, "text": "/new"}}
    before, transcript = await snapshot(local), await replies(li)

    assert await post(local, forged, secret="wrong_secret") == 403
    assert await post(local, forged, secret=None) == 403
    assert await post(local, forged, secret="") == 403
    assert await post(local, forged, secret=SANDBOX_WEBHOOK_SECRET.upper()) == 403
    assert await post(local, {"not": "an update"}) == 400  # the right token, but nothing to store

    await li.say("/help")
    await li.expect(HELP)
    assert await snapshot(local) == before  # no draft was started by the forged /new
    messages = await replies(li)
    assert len(messages) == len(transcript) + 1 and count(messages, HELP) == 2
    assert forged["update_id"] not in {r["update_id"] for r in await inbox_rows(local)}
    assert local.runner.server.received["refused"] == 4 and local.runner.server.received["malformed"] == 1


async def test_an_update_stored_before_a_crash_is_processed_once_at_start(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷", language_code="zh")
    await local.runner.inbox.stop()  # receipt goes on, processing does not: the crash window
    await li.say("/help")
    await eventually(lambda: _pending(local), what="the update stored, unprocessed")
    # Claimed by a process that died while processing it: its claim must not keep the row from being processed.
    now = local.clock.now()
    held = await local.db.write(lambda c: inbox.claim(c, "dead-host:1:0", now, now.replace(year=now.year + 1)))
    assert held is not None
    assert count(await replies(li), HELP) == 0

    await local.restart_bot()  # a new process on the same database

    await li.expect(HELP)
    await li.say("/start")  # a later round trip: the crashed update is not processed a second time before it
    await li.expect(first_line("zh", "start.welcome", city="阜阳市"))
    messages = await replies(li)
    assert count(messages, HELP) == 1
    rows = await eventually(lambda: _all_done(local), what="both rows marked done")
    assert len(rows) == 2
    assert rows[0]["attempts"] == 2  # the dead process's try, then ours


async def _all_done(local: LocalSandbox) -> list[Any] | None:
    rows = await inbox_rows(local)
    return rows if all(r["state"] == "done" for r in rows) else None


async def _pending(local: LocalSandbox) -> bool:
    return any(r["state"] == "pending" for r in await inbox_rows(local))


async def test_two_updates_of_one_chat_arriving_together_are_processed_in_order(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷", language_code="zh")
    wang = await sb.person("王芳", language_code="zh")
    await local.runner.inbox.stop()
    await li.say("/start")
    await li.say("/help")
    await wang.say("/help")
    await eventually(lambda: _stored(local, 3), what="three updates stored")

    await local.runner.inbox.start()  # all three are waiting at once

    await li.expect(HELP)
    await wang.expect(HELP)
    texts = [m.get("text") or "" for m in await replies(li)]
    welcome = first_line("zh", "start.welcome", city="阜阳市")
    assert [t.splitlines()[0] for t in texts] == [welcome, HELP]


async def _stored(local: LocalSandbox, n: int) -> bool:
    return len(await inbox_rows(local)) >= n


async def test_two_processors_sharing_the_inbox_process_each_update_once_and_in_order(local: LocalSandbox,
                                                                                      sb) -> None:
    """The groundwork for several instances: a second processor (another worker name, as another process would
    sign) claims from the same inbox; every update is processed once, each chat's in order."""
    people = [await sb.person(f"居民{i}", language_code="zh") for i in range(3)]
    first = local.runner.inbox
    await first.stop()
    for _ in range(3):
        for person in people:
            await person.say("/start")
            await person.say("/help")
    await eventually(lambda: _stored(local, 18), what="eighteen updates stored")
    second = InboxProcessor(local.db, local.runner.app, local.clock, local.runner.webhook, sole_process=False,
                            worker="other-instance:2:0")
    await asyncio.gather(first.start(), second.start())
    try:
        welcome = first_line("zh", "start.welcome", city="阜阳市")
        for person in people:
            await eventually(lambda person=person: _replied(person, 6), what="six replies each")
            assert [(m.get("text") or "").splitlines()[0] for m in await replies(person)] == [welcome, HELP] * 3
        rows = await eventually(lambda: _all_done(local), what="every row done")
        assert len(rows) == 18 and all(r["attempts"] == 1 for r in rows)  # claimed once each
    finally:
        await second.stop()


async def _replied(person, n: int) -> bool:
    return len(await replies(person)) >= n
