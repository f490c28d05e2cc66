"""getUpdates long polling, offsets, webhooks and what an incoming update looks like."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from sandbox.client import SandboxClient

from .conftest import Call


async def test_long_poll_returns_as_soon_as_a_user_writes(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    poll = asyncio.create_task(call("getUpdates", timeout=30))
    await asyncio.sleep(0)
    assert not poll.done()
    await alice.say("/start@test_complaint_bot now")
    status, body = await asyncio.wait_for(poll, timeout=5)  # far less than the 30 s poll timeout
    assert status == 200
    [update] = body["result"]
    message = update["message"]
    assert message["text"] == "/start@test_complaint_bot now"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 25}]
    assert message["chat"]["type"] == "private"
    assert message["from"]["id"] == alice.id


async def test_offset_confirms_earlier_updates(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    for text in ("one", "two", "three"):
        await alice.say(text)
    _, body = await call("getUpdates")
    ids = [u["update_id"] for u in body["result"]]
    assert [u["message"]["text"] for u in body["result"]] == ["one", "two", "three"]
    _, body = await call("getUpdates", offset=ids[1])
    assert [u["update_id"] for u in body["result"]] == ids[1:]
    _, body = await call("getUpdates", offset=ids[2] + 1, timeout=0)
    assert body["result"] == []
    _, body = await call("getUpdates", limit=1)
    assert body["result"] == []


async def test_allowed_updates_filters_later_updates(call: Call, client: SandboxClient) -> None:
    alice = await client.person("Alice")
    await call("getUpdates", allowed_updates=["callback_query"])
    await alice.say("ignored")
    assert (await call("getUpdates"))[1]["result"] == []
    await call("getUpdates", allowed_updates=[])
    await alice.say("seen")
    assert [u["message"]["text"] for u in (await call("getUpdates"))[1]["result"]] == ["seen"]


async def test_second_poller_terminates_the_first(call: Call, client: SandboxClient) -> None:
    first = asyncio.create_task(call("getUpdates", timeout=30))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(call("getUpdates", timeout=0))
    status, body = await asyncio.wait_for(first, timeout=5)
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")
    assert (await second)[0] == 200


async def test_webhook_delivery_with_secret_and_conflict(call: Call, client: SandboxClient) -> None:
    received: asyncio.Queue[tuple[str | None, dict]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        await received.put((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        alice = await client.person("Alice")
        await alice.say("before")
        assert (await call("setWebhook", url=url, secret_token="s3cr3t", drop_pending_updates=True))[0] == 200
        status, body = await call("getUpdates")
        assert status == 409
        assert body["description"] == ("Conflict: can't use getUpdates method while webhook is active; "
                                       "use deleteWebhook to delete the webhook first")
        await alice.say("after")
        secret, update = await asyncio.wait_for(received.get(), timeout=5)
        assert secret == "s3cr3t"
        assert update["message"]["text"] == "after"  # "before" was dropped
        info = (await call("getWebhookInfo"))[1]["result"]
        assert info["url"] == url
        assert (await call("deleteWebhook"))[0] == 200
        assert (await call("getUpdates"))[0] == 200
    finally:
        await runner.cleanup()


async def test_group_message_reaches_every_bot_in_the_group(call: Call, client: SandboxClient) -> None:
    from .conftest import OTHER_TOKEN

    await client.create_bot(OTHER_TOKEN)
    alice = await client.create_user("Alice")
    bob = await client.create_user("Bob")
    group = await client.create_group("街道联络群", [alice["id"], bob["id"]], admin_ids=[bob["id"]])
    assert group["id"] < 0
    await client.send(alice["id"], chat_id=group["id"], text="大家好")
    for token in (None, OTHER_TOKEN):
        kwargs = {"_token": token} if token else {}
        [update] = (await call("getUpdates", **kwargs))[1]["result"]
        assert update["message"]["chat"] == {"id": group["id"], "type": "group", "title": "街道联络群",
                                             "all_members_are_administrators": False}
    super_ = await client.create_group("督办群", [alice["id"]], supergroup=True)
    assert str(super_["id"]).startswith("-100")


async def test_update_json_is_what_ptb_parses(call: Call, client: SandboxClient) -> None:
    from telegram import Bot, Update

    alice = await client.person("Alice", username="alice")
    await alice.share_location(32.89, 115.81)
    await alice.send_sticker()
    await alice.send_voice(duration=4)
    updates = (await call("getUpdates"))[1]["result"]
    bot = Bot("123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    parsed = [Update.de_json(json.loads(json.dumps(u)), bot) for u in updates]
    assert parsed[0].message.location.latitude == 32.89
    assert parsed[1].message.sticker.width == 512
    assert parsed[2].message.voice is not None
    assert updates[2]["message"]["voice"]["duration"] == 4

