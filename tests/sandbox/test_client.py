"""The control client and the scripted Person: cursor semantics, tap, transcripts, events, reset."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.client import SandboxClient, SandboxError

from .conftest import Call

KEYBOARD = {"inline_keyboard": [[{"text": "房产物业", "callback_data": "cat:1"}, {"text": "网站", "url": "https://a.cn"}]]}


async def test_two_expects_see_two_distinct_replies(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    await alice.say("hi")
    await call("sendMessage", chat_id=alice.id, text="第一 reply")
    await call("sendMessage", chat_id=alice.id, text="第二 reply")
    first = await alice.expect(contains="reply", timeout=1)
    second = await alice.expect(contains="reply", timeout=1)
    assert (first["text"], second["text"]) == ("第一 reply", "第二 reply")


async def test_expect_waits_for_a_later_message_and_sees_edits(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    await alice.say("hi")
    waiter = asyncio.create_task(alice.expect(contains="later", timeout=5))
    await asyncio.sleep(0.05)
    _, sent = await call("sendMessage", chat_id=alice.id, text="later on")
    assert (await waiter)["message_id"] == sent["result"]["message_id"]
    await call("editMessageText", chat_id=alice.id, message_id=sent["result"]["message_id"], text="later, edited")
    edited = await alice.expect(contains="edited", timeout=1)
    assert edited["edit_count"] == 1


async def test_expect_timeout_shows_the_transcript(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    await alice.say("我要投诉")
    await call("sendMessage", chat_id=alice.id, text="请选择类别", reply_markup=KEYBOARD)
    with pytest.raises(AssertionError) as exc:
        await alice.expect(contains="never said", timeout=0.2)
    assert "我要投诉" in str(exc.value)
    assert "请选择类别" in str(exc.value)
    assert "房产物业" in str(exc.value)


async def test_tap_presses_the_latest_keyboard_and_returns_the_answer(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    await alice.say("hi")
    await call("sendMessage", chat_id=alice.id, text="old", reply_markup=KEYBOARD)
    _, latest = await call("sendMessage", chat_id=alice.id, text="new", reply_markup=KEYBOARD)
    _, pending = await call("getUpdates")
    tapped = asyncio.create_task(alice.tap("房产物业", timeout=5))
    _, body = await call("getUpdates", offset=pending["result"][-1]["update_id"] + 1, timeout=5)
    [update] = body["result"]
    query = update["callback_query"]
    assert query["data"] == "cat:1"
    assert query["message"]["message_id"] == latest["result"]["message_id"]
    assert query["from"]["id"] == alice.id
    await call("answerCallbackQuery", callback_query_id=query["id"], text="已记录")
    assert (await tapped)["text"] == "已记录"
    # tap did not consume: the two keyboard messages are still ahead of the cursor
    assert (await alice.expect(timeout=1))["text"] == "old"
    with pytest.raises(AssertionError):
        await alice.tap("网站", timeout=0.2)  # a URL button has no callback to press


async def test_unanswered_callback_reports_not_answered(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    await alice.say("hi")
    _, sent = await call("sendMessage", chat_id=alice.id, text="k", reply_markup=KEYBOARD)
    qid = await client.press(alice.id, alice.id, sent["result"]["message_id"], button_text="房产物业")
    assert (await client.callback_answer(qid, timeout=0.1))["answered"] is False


async def test_events_long_poll_filters_by_chat_and_times_out_empty(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    bob = await client.person("Bob")
    await alice.say("hi")
    await bob.say("hi")
    await call("sendMessage", chat_id=bob.id, text="to bob")
    assert await client.events(alice.id, after=0, timeout=0.1) == []
    [event] = await client.events(bob.id, after=0)
    assert (event["kind"], event["message"]["text"]) == ("message", "to bob")
    assert await client.events(after=event["seq"], timeout=0.1) == []


async def test_control_errors_and_reset(call: Call, client: SandboxClient) -> None:
    with pytest.raises(SandboxError):
        await client.send(99999, text="who am I")
    alice = await client.person("Alice")
    with pytest.raises(SandboxError):
        await alice.say("   ")
    await alice.say("hi")
    await client.fault("500", count=3)
    await client.reset()
    assert (await call("getMe"))[0] == 200  # faults are gone, the bot registers again
    with pytest.raises(SandboxError):
        await client.messages(alice.id)
    assert (await client.stats())["methods"] == {"getMe": 1}
