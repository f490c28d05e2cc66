"""The web chat's server side, without a browser: the event stream, the directory, files, the page's assets."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.client import SandboxClient, SandboxError
from sandbox.server import Sandbox
from tests.sandbox.conftest import Call

WEB = Path(__file__).resolve().parents[2] / "sandbox" / "web"


async def read_stream(http: aiohttp.ClientSession, url: str, count: int, headers: dict[str, str] | None = None,
                      ) -> list[dict[str, Any]]:
    """The first ``count`` events of the server-sent event stream at ``url`` (each with its ``id:``)."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(10), http.get(url, headers=headers or {}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        event_id = None
        async for raw in resp.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                events.append({**json.loads(line[6:]), "_id": event_id})
                if len(events) == count:
                    break
    return events


async def test_stream_carries_what_people_send_and_what_the_bot_does_in_order(
        sandbox: Sandbox, client: SandboxClient, call: Call, http: aiohttp.ClientSession) -> None:
    alice = await client.person("Alice")
    await alice.say("/start")
    keyboard = {"inline_keyboard": [[{"text": "是", "callback_data": "y"}]]}
    _, sent = await call("sendMessage", chat_id=alice.id, text="<b>你好</b> &lt;x&gt;", parse_mode="HTML",
                         reply_markup=keyboard)
    mid = sent["result"]["message_id"]
    await call("editMessageText", chat_id=alice.id, message_id=mid, text="改了")
    await call("deleteMessage", chat_id=alice.id, message_id=mid)

    events = await read_stream(http, f"{sandbox.url}/_control/stream?after=0", 4)
    assert [e["kind"] for e in events] == ["incoming", "message", "edit", "delete"]
    assert [e["_id"] for e in events] == [e["seq"] for e in events]  # a reconnect resumes from Last-Event-ID
    assert events[0]["message"]["text"] == "/start" and not events[0]["message"]["outgoing"]
    message = events[1]["message"]
    assert (message["text"], message["entities"]) == ("你好 <x>", [{"type": "bold", "offset": 0, "length": 2}])
    assert message["reply_markup"] == keyboard
    assert events[2]["message"]["text"] == "改了"
    assert events[3]["message"]["deleted"] is True


async def test_stream_resumes_after_last_event_id_and_two_streams_agree(
        sandbox: Sandbox, client: SandboxClient, call: Call, http: aiohttp.ClientSession) -> None:
    alice = await client.person("Alice")
    await alice.say("one")
    await alice.say("two")
    first = await client.seq()
    url = f"{sandbox.url}/_control/stream"
    tabs = [asyncio.create_task(read_stream(http, f"{url}?after={first}", 2)) for _ in range(2)]
    resumed = asyncio.create_task(read_stream(http, f"{url}?after=0", 1, {"Last-Event-ID": str(first - 1)}))
    await asyncio.sleep(0)  # the streams are open before anything new happens; they must wait, live
    await call("sendMessage", chat_id=alice.id, text="three")
    await alice.say("four")
    a, b = await asyncio.gather(*tabs)
    assert a == b
    assert [e["message"]["text"] for e in a] == ["three", "four"]
    assert [e["message"]["text"] for e in await resumed] == ["two"]


async def test_a_stream_from_beyond_the_log_starts_over_with_reset(
        sandbox: Sandbox, client: SandboxClient, http: aiohttp.ClientSession) -> None:
    alice = await client.person("Alice")
    await alice.say("hi")
    [reset, again] = await read_stream(http, f"{sandbox.url}/_control/stream?after=999", 2)
    assert (reset["kind"], reset["seq"]) == ("reset", 0)
    assert again["message"]["text"] == "hi"


async def test_the_events_endpoint_keeps_to_the_bots_kinds_unless_asked(
        sandbox: Sandbox, client: SandboxClient, call: Call) -> None:
    alice = await client.person("Alice")
    await alice.say("hi")
    await call("sendMessage", chat_id=alice.id, text="hello")
    assert [e["kind"] for e in await client.events(alice.id)] == ["message"]
    everything = await client._call("GET", "events", query={"chat_id": alice.id, "incoming": 1})
    assert [e["kind"] for e in everything] == ["incoming", "message"]


async def test_stopping_the_sandbox_ends_open_streams(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{sandbox.url}/_control/stream") as resp:
        assert resp.status == 200
        await asyncio.wait_for(sandbox.stop(), 5)  # an open browser tab must not hold the sandbox up
        with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
            async with asyncio.timeout(5):
                async for _ in resp.content:
                    pass
                raise aiohttp.ServerDisconnectedError()  # ended cleanly: also fine


async def test_directory_lists_published_roles_then_anyone_who_talked(
        sandbox: Sandbox, client: SandboxClient, http: aiohttp.ClientSession) -> None:
    resident = await client.create_user("王芳", language_code="zh")
    english = await client.create_user("Alice", language_code="en")
    liaison = await client.create_user("联络员-颍州区")
    group = await client.create_group("颍州区联络员群", member_ids=[liaison["id"]], admin_ids=[liaison["id"]])
    demo = await client.person("李雷")  # made by someone else (the demo, curl): no role published
    silent = await client.create_user("沉默")
    sandbox.web.publish([
        {"chat_id": group["id"], "user_id": liaison["id"], "kind": "unit", "title": "颍州区联络员群"},
        {"chat_id": resident["id"], "user_id": resident["id"], "kind": "resident", "title": "王芳"},
        {"chat_id": english["id"], "user_id": english["id"], "kind": "resident", "title": "Alice"},
        {"chat_id": -424242, "user_id": liaison["id"], "kind": "unit", "title": "gone"},  # no such chat: left out
    ], {"bounds": {}, "zones": [], "places": []})
    await demo.say("/new")
    async with http.get(f"{sandbox.url}/_control/directory") as resp:
        directory = await resp.json()
    chats = directory["chats"]
    assert [(c["title"], c["kind"], c["type"]) for c in chats] == [
        ("王芳", "resident", "private"), ("Alice", "resident", "private"), ("李雷", "resident", "private"),
        ("颍州区联络员群", "unit", "group")]
    assert chats[1]["language_code"] == "en"
    assert chats[3]["user_id"] == liaison["id"] and chats[3]["user_name"] == "联络员-颍州区"
    assert silent["id"] not in [c["chat_id"] for c in chats]
    assert directory["seq"] == await client.seq()
    async with http.get(f"{sandbox.url}/_control/city") as resp:
        assert await resp.json() == {"bounds": {}, "zones": [], "places": []}


async def test_files_are_served_by_id_for_the_page(sandbox: Sandbox, client: SandboxClient,
                                                   http: aiohttp.ClientSession) -> None:
    alice = await client.person("Alice")
    sent = await alice.send_document(b"a,b\n1,2\n", "台账.csv", "text/csv")
    file_id = sent["document"]["file_id"]
    async with http.get(f"{sandbox.url}/_control/file", params={"file_id": file_id}) as resp:
        assert resp.status == 200
        assert await resp.read() == b"a,b\n1,2\n"
        assert resp.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in resp.headers["Content-Disposition"]
        assert "%E5%8F%B0%E8%B4%A6.csv" in resp.headers["Content-Disposition"]
    async with http.get(f"{sandbox.url}/_control/file", params={"file_id": "nope"}) as resp:
        assert resp.status == 404


async def test_the_latest_reply_keyboard_and_its_removal_are_in_the_transcript(
        sandbox: Sandbox, client: SandboxClient, call: Call) -> None:
    alice = await client.person("Alice")
    await alice.say("/start")
    keyboard = {"keyboard": [[{"text": "📍", "request_location": True}]], "resize_keyboard": True}
    await call("sendMessage", chat_id=alice.id, text="where?", reply_markup=keyboard)
    await call("sendMessage", chat_id=alice.id, text="thanks", reply_markup={"remove_keyboard": True})
    shown = [m.get("reply_keyboard") for m in await alice.transcript()]
    assert shown == [None, keyboard, {"remove_keyboard": True}]


async def test_the_page_and_its_files_are_served_locally(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{sandbox.url}/") as resp:
        page = await resp.text()
        assert resp.headers["Content-Type"].startswith("text/html")
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert loaded == ["/web/app.css", "/web/app.js"]  # nothing from elsewhere: no CDN
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css"), ("i18n.json", "application/json"),
                       ("cjk.ttc", "font/collection")):
        async with http.get(f"{sandbox.url}/web/{name}") as resp:
            assert resp.status == 200 and kind in resp.headers["Content-Type"], name
    for bad in ("../server.py", "secret.txt", "%2e%2e%2fstate.py"):
        async with http.get(f"{sandbox.url}/web/{bad}") as resp:
            assert resp.status == 404, bad


def test_the_page_catalogue_has_every_key_it_uses_in_both_languages() -> None:
    catalogue = json.loads((WEB / "i18n.json").read_text(encoding="utf-8"))
    assert set(catalogue) == {"zh", "en"}
    assert catalogue["zh"].keys() == catalogue["en"].keys()
    html = (WEB / "index.html").read_text(encoding="utf-8")
    script = (WEB / "app.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n(?:-label|-title|-placeholder)?="([\w.]+)"', html))
    used |= set(re.findall(r'\bt\("([\w.]+)"', script))
    used |= {f"kind.{k}" for k in re.findall(r'"(\w+)"', re.search(r"KIND_ORDER = \[(.*?)\]", script).group(1))}
    assert used, "no keys found: the patterns are out of date"
    assert sorted(used - catalogue["zh"].keys()) == []
    assert all(v.strip() for lang in catalogue.values() for v in lang.values())


def test_the_script_puts_no_markup_from_messages_in_the_page() -> None:
    """Text from anyone goes in as text nodes: no innerHTML / outerHTML / insertAdjacentHTML / document.write."""
    script = (WEB / "app.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", script)


async def test_a_person_can_send_a_venue_like_a_place_picked_from_a_list(
        sandbox: Sandbox, client: SandboxClient, call: Call) -> None:
    alice = await client.person("Alice")
    [sent] = await client.send(alice.id, venue={"latitude": 32.9161, "longitude": 115.8639, "title": "阜阳站",
                                                "address": "阜阳市颍东区"})
    point = {"latitude": 32.9161, "longitude": 115.8639}
    assert sent["location"] == point
    assert sent["venue"] == {"location": point, "title": "阜阳站", "address": "阜阳市颍东区"}
    _, updates = await call("getUpdates")
    assert updates["result"][-1]["message"]["venue"]["title"] == "阜阳站"
    with pytest.raises(SandboxError):
        await client.send(alice.id, venue={"latitude": 1, "longitude": 2, "title": "", "address": "x"})
