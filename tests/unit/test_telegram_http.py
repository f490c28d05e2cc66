"""bot.telegram_http: the aiohttp BaseRequest sends what PTB's HTTPXRequest sends and fails the way it fails.

A tiny Bot API stand-in (aiohttp's web.AppRunner on port 0) records every request it gets and answers as each test
tells it. Where parity matters, the same call goes through both request classes and the outcomes are compared: the
fields and files the server parsed, the error class and message the Bot raised.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import re
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.app import build_application
from bot.clock import FakeClock
from bot.config import load_config
from bot.telegram_http import AiohttpRequest, ProxyNotSupported
from storage.db import Database
from tests.unit.city_builder import config_error, write_config

TOKEN = "123456:test-token-for-the-http-client"
ME = {"id": 123456, "is_bot": True, "first_name": "Bot", "username": "bot"}
MESSAGE = {"message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "hi"}
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # bytes a text decoder would mangle

Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclasses.dataclass
class Seen:
    method: str
    content_type: str
    user_agent: str
    fields: dict[str, Any]  # plain field -> str, file field -> (filename, content type, bytes)


class BotApi:
    """Records requests; answers getMe, and each other method as ``answers`` says (default: a sent message)."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.answers: dict[str, Answer] = {}
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        fields: dict[str, Any] = {}
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                fields[name] = (value.filename, value.content_type, value.file.read())
            else:
                fields[name] = value
        self.seen.append(Seen(method, request.content_type, request.headers.get("User-Agent", ""), fields))
        if method == "getMe":
            return web.json_response({"ok": True, "result": ME})
        answer = self.answers.get(method)
        if answer is not None:
            return await answer(request)
        return web.json_response({"ok": True, "result": MESSAGE})

    def calls(self, method: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method]


@pytest.fixture
async def api() -> AsyncIterator[BotApi]:
    server = BotApi()
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


def error(status: int, description: str, **parameters: Any) -> Answer:
    async def answer(request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)
    return answer


def late(seconds: float) -> Answer:
    async def answer(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.json_response({"ok": True, "result": MESSAGE})
    return answer


async def reset(request: web.Request) -> web.StreamResponse:
    assert request.transport is not None
    request.transport.abort()  # the connection drops before any answer
    return web.Response(status=204)


async def bad_gateway(request: web.Request) -> web.StreamResponse:
    return web.Response(status=502, content_type="text/html", text="<html><h1>502 Bad Gateway</h1></html>")


REQUESTS: dict[str, Callable[..., BaseRequest]] = {"aiohttp": AiohttpRequest, "httpx": HTTPXRequest}


def bot_for(api: BotApi, kind: str, **timeouts: Any) -> Bot:
    return Bot(TOKEN, base_url=f"{api.url}/bot", request=REQUESTS[kind](**timeouts))


async def outcome(api: BotApi, kind: str, call: Callable[[Bot], Awaitable[Any]], **timeouts: Any) -> Any:
    """What ``call`` gives through a Bot on the ``kind`` request: its result, or (error class, message)."""
    async with bot_for(api, kind, **timeouts) as bot:
        try:
            return await call(bot)
        except Exception as exc:
            return type(exc), str(exc)


def send(bot: Bot) -> Awaitable[Any]:
    return bot.send_message(chat_id=42, text="hello, 世界 & co", disable_notification=True)


# --------------------------------------------------------------------------------------------------------------
# What is sent


async def test_a_call_without_files_is_the_same_form_as_httpx_sends(api: BotApi) -> None:
    for kind in ("aiohttp", "httpx"):
        message = await outcome(api, kind, send)
        assert message.message_id == 7 and message.chat.id == 42
    ours, theirs = api.calls("sendMessage")
    assert ours.fields == {"chat_id": "42", "text": "hello, 世界 & co", "disable_notification": "true"}
    assert (ours.fields, ours.content_type, ours.user_agent) == (theirs.fields, theirs.content_type, theirs.user_agent)
    assert ours.content_type == "application/x-www-form-urlencoded"
    assert ours.user_agent.startswith("python-telegram-bot")


async def test_an_upload_is_the_same_multipart_as_httpx_sends(api: BotApi, tmp_path: Path) -> None:
    document = tmp_path / '周报 "第48周".csv'  # the name a group sees: UTF-8 as httpx sends it, not %E5%91…
    document.write_bytes("单位,件数\n颍州区,3\n".encode())

    async def upload(bot: Bot) -> Any:
        await bot.send_photo(chat_id=42, photo=PHOTO, caption="<b>photo</b> 1", filename="p.jpg")
        with document.open("rb") as handle:  # a file handle, not bytes
            return await bot.send_document(chat_id=42, document=handle, caption="ledger")

    for kind in ("aiohttp", "httpx"):
        assert (await outcome(api, kind, upload)).message_id == 7
    ours_photo, theirs_photo = api.calls("sendPhoto")
    ours_doc, theirs_doc = api.calls("sendDocument")
    assert ours_photo.content_type == "multipart/form-data"
    assert ours_photo.fields["photo"] == ("p.jpg", "image/jpeg", PHOTO)
    assert ours_photo.fields["caption"] == "<b>photo</b> 1"
    assert ours_photo.fields == theirs_photo.fields
    assert ours_doc.fields["document"][0] == "周报 %22第48周%22.csv"  # httpx's (HTML's) escape of '"'
    assert ours_doc.fields["document"][2] == document.read_bytes()
    assert ours_doc.fields == theirs_doc.fields


async def test_a_download_is_a_get_of_the_file_url(api: BotApi) -> None:
    async def file_bytes(request: web.Request) -> web.StreamResponse:
        return web.Response(body=PHOTO, content_type="image/jpeg")
    api.answers["photos"] = file_bytes
    request = AiohttpRequest()
    async with request:
        assert await request.retrieve(f"{api.url}/bot{TOKEN}/photos") == PHOTO


# --------------------------------------------------------------------------------------------------------------
# Errors: the same as HTTPXRequest's, class and message


@pytest.mark.parametrize(("answer", "expected"), [
    (error(429, "Too Many Requests: retry after 7", retry_after=7), RetryAfter),
    (error(403, "Forbidden: bot was blocked by the user"), Forbidden),
    (error(400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=-1001), ChatMigrated),
    (error(400, "Bad Request: message is not modified"), BadRequest),
    (error(500, "Internal Server Error"), NetworkError),
    (bad_gateway, NetworkError),
], ids=["429", "403", "migrated", "400", "500", "502-html"])
async def test_an_error_answer_raises_what_httpx_raises(api: BotApi, answer: Answer, expected: type) -> None:
    api.answers["sendMessage"] = answer
    ours = await outcome(api, "aiohttp", send)
    theirs = await outcome(api, "httpx", send)
    assert ours == theirs
    assert ours[0] is expected
    if expected is RetryAfter:
        assert "7" in ours[1]


async def test_a_retry_after_carries_the_seconds(api: BotApi) -> None:
    api.answers["sendMessage"] = error(429, "Too Many Requests: retry after 7", retry_after=7)
    async with bot_for(api, "aiohttp") as bot:
        with pytest.raises(RetryAfter) as info:
            await send(bot)
    assert info.value.retry_after in (7, datetime.timedelta(seconds=7))


async def test_an_answer_later_than_the_read_timeout_is_timed_out(api: BotApi) -> None:
    api.answers["sendMessage"] = late(0.5)
    ours = await outcome(api, "aiohttp", send, read_timeout=0.1)
    theirs = await outcome(api, "httpx", send, read_timeout=0.1)
    assert ours[0] is TimedOut and theirs[0] is TimedOut
    assert ours == theirs


async def test_read_timeout_none_waits_for_the_answer(api: BotApi) -> None:
    api.answers["sendMessage"] = late(0.3)

    async def patient(bot: Bot) -> Any:
        return await bot.send_message(chat_id=42, text="x", read_timeout=None)
    for kind in ("aiohttp", "httpx"):
        assert (await outcome(api, kind, patient, read_timeout=0.1)).message_id == 7


async def test_a_dropped_connection_is_a_network_error_not_a_timeout(api: BotApi) -> None:
    api.answers["sendMessage"] = reset
    ours = await outcome(api, "aiohttp", send)
    theirs = await outcome(api, "httpx", send)
    assert ours[0] is NetworkError and theirs[0] is NetworkError
    assert ours[1].startswith("aiohttp.")
    assert len(api.calls("sendMessage")) == 2  # one each: aiohttp did not retry the POST


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nobody listens there
    for kind in ("aiohttp", "httpx"):
        request = REQUESTS[kind]()
        async with request:
            with pytest.raises(NetworkError) as info:
                await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        assert not isinstance(info.value, TimedOut), kind


async def test_a_connect_timeout_is_timed_out_and_its_traceback_does_not_hold_the_token(monkeypatch: Any) -> None:
    async def slow_connect(*args: Any, **kwargs: Any) -> Any:
        raise TimeoutError  # what the connector raises when sock_connect runs out

    monkeypatch.setattr(aiohttp.TCPConnector, "connect", slow_connect)
    async with AiohttpRequest() as request:
        with pytest.raises(TimedOut) as info:
            await request.post(f"http://127.0.0.1:9/bot{TOKEN}/sendMessage")
    # aiohttp's ConnectionTimeoutError names the URL: chained, a logged traceback would show the token
    assert TOKEN not in "".join(traceback.format_exception(info.value))


async def test_a_full_pool_times_out_without_sending(api: BotApi) -> None:
    api.answers["sendMessage"] = late(0.5)
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1)
    url = f"{api.url}/bot{TOKEN}/sendMessage"
    data = RequestData([RequestParameter("chat_id", 42, None), RequestParameter("text", "x", None)])
    async with request:
        first = asyncio.create_task(request.post(url, data))
        while not api.calls("sendMessage"):
            await asyncio.sleep(0.01)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await request.post(url, data)
        assert (await first)["message_id"] == 7
    assert len(api.calls("sendMessage")) == 1  # the second was never sent


# --------------------------------------------------------------------------------------------------------------
# Life cycle and proxies


async def test_a_request_must_be_initialized_and_can_be_again_after_shutdown(api: BotApi) -> None:
    request = AiohttpRequest()
    for _ in range(2):
        with pytest.raises(NetworkError, match="not initialized"):  # BaseRequest wraps it, as for HTTPXRequest
            await request.post(f"{api.url}/bot{TOKEN}/getMe")
        async with request:
            assert (await request.post(f"{api.url}/bot{TOKEN}/getMe"))["id"] == ME["id"]
    assert len(api.calls("getMe")) == 2


@pytest.mark.parametrize("env", [{"https_proxy": "socks5://127.0.0.1:1080"}, {"ALL_PROXY": "http://127.0.0.1:3128"}])
async def test_a_proxy_aiohttp_cannot_use_is_refused_naming_the_fallback(monkeypatch: Any, env: dict) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ProxyNotSupported, match=re.escape('telegram.http_client = "httpx"')):
        await AiohttpRequest().initialize()


async def test_an_http_proxy_from_the_environment_is_used(api: BotApi, monkeypatch: Any) -> None:
    proxied: list[str] = []

    async def proxy(request: web.Request) -> web.StreamResponse:  # a forward proxy answers for the origin
        proxied.append(str(request.url))
        return web.json_response({"ok": True, "result": ME})
    proxy_app = web.Application()
    proxy_app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(proxy_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY", "https_proxy", "HTTPS_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{runner.addresses[0][1]}")
        async with AiohttpRequest() as request:
            assert (await request.post(f"{api.url}/bot{TOKEN}/getMe"))["id"] == ME["id"]
    finally:
        await runner.cleanup()
    assert proxied == [f"{api.url}/bot{TOKEN}/getMe"]
    assert api.calls("getMe") == []  # it went through the proxy, not straight to the server


# --------------------------------------------------------------------------------------------------------------
# The config switch


async def test_the_config_switch_picks_the_request_class(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        for value, expected in (("", AiohttpRequest), ('http_client = "aiohttp"\n', AiohttpRequest),
                                ('http_client = "httpx"\n', HTTPXRequest)):
            config = load_config(write_config(tmp_path, f"[telegram]\n{value}"))
            app = build_application(config, db, FakeClock(), TOKEN)
            main, updates = app.bot._request[1], app.bot._request[0]  # PTB keeps (getUpdates, the rest)
            assert type(main) is expected and type(updates) is expected, value
            assert main.read_timeout == config.telegram.read_timeout_s
            assert updates.read_timeout == config.telegram.poll_timeout_s + 10
    finally:
        await db.close()


def test_an_unknown_http_client_is_refused(tmp_path: Path) -> None:
    config_error(tmp_path, "telegram.http_client", '"aiohttp", "httpx"', '"requests"',
                 tables='[telegram]\nhttp_client = "requests"\n')
