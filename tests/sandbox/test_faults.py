"""Flood limits and injected faults, seen from a raw HTTP client and from PTB's error mapping."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from sandbox.client import SandboxClient
from sandbox.server import Sandbox

from .conftest import TOKEN, Call


async def _started_user(client: SandboxClient) -> int:
    user = await client.create_user("Han")
    await client.send(user["id"], text="hi")
    return int(user["id"])


async def test_group_flood_limit_answers_429_with_retry_after(call: Call, client: SandboxClient) -> None:
    alice = await client.create_user("Alice")
    group = await client.create_group("g", [alice["id"]])
    await client.flood(group_per_min=3)
    for i in range(3):
        assert (await call("sendMessage", chat_id=group["id"], text=f"m{i}"))[0] == 200
    status, body = await call("sendMessage", chat_id=group["id"], text="one too many")
    assert status == 429
    retry = body["parameters"]["retry_after"]
    assert 1 <= retry <= 60
    assert body["description"] == f"Too Many Requests: retry after {retry}"
    stats = await client.stats()
    assert (stats["flood_429"], stats["fault_429"]) == (1, 0)
    await client.flood(enabled=False)
    assert (await call("sendMessage", chat_id=group["id"], text="off again"))[0] == 200


async def test_global_and_private_limits_count_edits(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    await client.flood(global_per_s=100, private_per_s=2)
    _, sent = await call("sendMessage", chat_id=uid, text="a")
    assert (await call("editMessageText", chat_id=uid, message_id=sent["result"]["message_id"], text="b"))[0] == 200
    status, body = await call("sendMessage", chat_id=uid, text="c")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    assert (await call("getMe"))[0] == 200  # only sends and edits count


async def test_fault_429_is_one_shot_and_matched_by_method_and_chat(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    await client.fault("429", method="sendMessage", chat_id=uid, retry_after=7)
    assert (await call("getMe"))[0] == 200  # other method: not consumed
    status, body = await call("sendMessage", chat_id=uid, text="x")
    assert (status, body["parameters"]) == (429, {"retry_after": 7})
    assert (await call("sendMessage", chat_id=uid, text="x"))[0] == 200
    assert len(await client.messages(uid)) == 2  # the faulted send did nothing
    assert (await client.stats())["fault_429"] == 1


async def test_fault_500_and_502_and_clearing(call: Call, client: SandboxClient) -> None:
    uid = await _started_user(client)
    await client.fault("500", count=2)
    assert (await call("getMe"))[0] == 500
    assert (await call("getMe"))[0] == 500
    assert (await call("getMe"))[0] == 200
    await client.fault("502")
    status, body = await call("sendMessage", chat_id=uid, text="x")
    assert status == 502
    assert "502 Bad Gateway" in body  # nginx-style HTML, not JSON
    await client.fault("500", count=5)
    await client.clear_faults()
    assert (await call("getMe"))[0] == 200
    stats = await client.stats()
    assert stats["errors"]["500"] == 2
    assert stats["faults"] == {"500": 2, "502": 1}


async def test_fault_timeout_performs_the_send_but_answers_late(sandbox: Sandbox, client: SandboxClient) -> None:
    uid = await _started_user(client)
    await client.fault("timeout", method="sendMessage", delay_s=0.3)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(TimeoutError):
            await http.post(f"{sandbox.bot_base_url}{TOKEN}/sendMessage", data={"chat_id": uid, "text": "dup?"},
                            timeout=aiohttp.ClientTimeout(total=0.05))
    events = await client.events(uid, after=0, timeout=2)
    assert [e["message"]["text"] for e in events if e["kind"] == "message"] == ["dup?"]


async def test_fault_disconnect_performs_nothing(sandbox: Sandbox, client: SandboxClient) -> None:
    uid = await _started_user(client)
    await client.fault("disconnect", method="sendMessage")
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientError):
            await http.post(f"{sandbox.bot_base_url}{TOKEN}/sendMessage", data={"chat_id": uid, "text": "lost"})
    assert [m.get("text") for m in await client.messages(uid)] == ["hi"]


async def test_ptb_maps_sandbox_errors_to_its_exceptions(sandbox: Sandbox, client: SandboxClient) -> None:
    uid = await _started_user(client)
    stranger = await client.create_user("Stranger")
    alice = await client.create_user("Alice")
    group = await client.create_group("g", [alice["id"]])
    migrated = await client.migrate(group["id"])
    bot = Bot(TOKEN, base_url=sandbox.bot_base_url, base_file_url=sandbox.file_base_url,
              request=HTTPXRequest(read_timeout=0.2))
    async with bot:
        with pytest.raises(Forbidden):
            await bot.send_message(stranger["id"], "x")
        with pytest.raises(ChatMigrated) as migrated_exc:
            await bot.send_message(group["id"], "x")
        assert migrated_exc.value.new_chat_id == migrated["new_chat_id"]
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(42, "x")
        await client.fault("429", retry_after=3)
        with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
            await bot.send_message(uid, "x")
        await client.fault("502")
        with pytest.raises(NetworkError):
            await bot.send_message(uid, "x")
        await client.fault("timeout", delay_s=0.3)
        with pytest.raises(TimedOut):
            await bot.send_message(uid, "performed anyway")
        await client.fault("disconnect")
        with pytest.raises(NetworkError):
            await bot.send_message(uid, "never")
    texts = [m.get("text") for m in await client.messages(uid)]
    assert texts == ["hi", "performed anyway"]
