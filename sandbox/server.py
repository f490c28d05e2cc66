"""``Sandbox``: the aiohttp server that speaks the Bot API (``/bot{token}/{method}``), serves files
(``/file/bot{token}/{path}``), the control API (``/_control/...``) and the web chat (``/``)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web

from sandbox.botapi import BotApi
from sandbox.control import TOKEN_RE, ControlApi
from sandbox.errors import ApiError, bad_request, forbidden
from sandbox.limits import COUNTED_METHODS, RATE_ONLY_KINDS, Fault, FaultQueue, FloodConfig, FloodLimiter, Stats
from sandbox.params import Params, read_params
from sandbox.state import State
from sandbox.webchat import WebChat
from sandbox.webhook import WebhookDispatcher

_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
MAX_REQUEST_BYTES = 64 * 1024 * 1024


def _error(exc: ApiError) -> web.Response:
    return web.json_response(exc.payload(), status=exc.code)


class Sandbox:
    """A fake Telegram. Run it in the bot's event loop (tests) or standalone (``python -m sandbox``)."""

    def __init__(self) -> None:
        self.state = State()
        self.flood = FloodLimiter()
        self.faults = FaultQueue()
        self.stats = Stats()
        self.webhooks = WebhookDispatcher()
        self.api = BotApi(self.state, self.webhooks.changed)
        self.control = ControlApi(self.state, self.flood, self.faults, self.stats, self.reset)
        self.web = WebChat(self.state)
        self._canonical = {name[3:].lower(): name[3:] for name in dir(self.api) if name.startswith("m__")}
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_route)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file_route)
        self.control.add_routes(app)
        self.web.add_routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]  # the real port when port=0
        self._url = f"http://{host}:{bound_port}"

    async def stop(self) -> None:
        await self.webhooks.close()
        await self.web.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def reset(self) -> None:
        """Forget every bot, user, chat, message, fault and counter."""
        await self.webhooks.close()
        await self.web.close()  # open streams wait on the old log; the browsers reconnect to the new one
        self.state.reset()
        self.flood.configure(FloodConfig())
        self.faults.clear()
        self.stats.__init__()  # type: ignore[misc]

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("Sandbox is not started")
        return self._url

    @property
    def bot_base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.url}/file/bot"

    # ---- Bot API ---------------------------------------------------------------------------------------------
    async def _bot_route(self, request: web.Request) -> web.StreamResponse:
        token, method = request.match_info["token"], request.match_info["method"].lower()
        try:
            if not _TOKEN_SHAPE.match(token) or method not in self.api.methods:
                raise ApiError(404, "Not Found")
            if not TOKEN_RE.match(token):
                raise ApiError(401, "Unauthorized")
            self.stats.methods[self._canonical[method]] += 1
            bot = self.state.bot(token)
            values, files = await read_params(request)
            params = Params(values, files)
            fault = self.faults.take(method, values.get("chat_id"))
            if fault is not None and fault.kind in RATE_ONLY_KINDS:
                fault = await self._chat_fault(bot, fault, values.get("chat_id"))
            if fault is not None:
                self.stats.faults[fault.kind] += 1
                early = self._fault_answer(fault, request)
                if early is not None:
                    return early
            self._check_flood(bot.id, method, params)
            try:
                result = await self.api.call(bot, method, params)
                response = web.json_response({"ok": True, "result": result})
            except ApiError as exc:
                self.stats.errors[str(exc.code)] += 1
                response = _error(exc)
            if fault is not None and fault.kind == "timeout":
                await asyncio.sleep(fault.delay_s)  # performed, but the answer comes too late
            return response
        except ApiError as exc:
            self.stats.errors[str(exc.code)] += 1
            return _error(exc)

    async def _chat_fault(self, bot: Any, fault: Fault, raw_chat_id: Any) -> Fault | None:
        """A 403 or a migration drawn at a rate happens to the chat for real, or not at all where it cannot
        (a group cannot block the bot; only a basic group migrates, once). The error is raised here."""
        try:
            chat = self.state.chats.get(int(raw_chat_id))
        except (TypeError, ValueError):
            chat = None
        if chat is None or chat.migrated_to is not None:
            return None
        if fault.kind == "403" and chat.type == "private" and chat.id in bot.started:
            self.stats.faults["403"] += 1
            bot.blocked_by.add(chat.id)
            raise forbidden("bot was blocked by the user")
        if fault.kind == "migrate" and chat.type == "group":
            self.stats.faults["migrate"] += 1
            moved = await self.control.migrate({"chat_id": chat.id})
            raise bad_request("group chat was upgraded to a supergroup chat",
                              {"migrate_to_chat_id": moved["new_chat_id"]})
        return None

    def _fault_answer(self, fault: Any, request: web.Request) -> web.StreamResponse | None:
        if fault.kind == "429":
            self.stats.fault_429 += 1
            raise ApiError(429, f"Too Many Requests: retry after {fault.retry_after}",
                           {"retry_after": fault.retry_after})
        if fault.kind == "500":
            raise ApiError(500, "Internal Server Error")
        if fault.kind == "502":
            self.stats.errors["502"] += 1
            return web.Response(status=502, content_type="text/html",
                                text="<html><head><title>502 Bad Gateway</title></head><body><center>"
                                     "<h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")
        if fault.kind == "disconnect":
            if request.transport is not None:
                request.transport.abort()  # the client sees the connection drop; nothing is performed
            return web.Response(status=204)
        return None  # "timeout": performed normally, answered late

    def _check_flood(self, bot_id: int, method: str, params: Params) -> None:
        if method not in COUNTED_METHODS or not self.flood.config.enabled:
            return
        try:
            chat_id: int | None = params.chat_id()
        except ApiError:
            chat_id = None
        chat = self.state.chats.get(chat_id) if chat_id is not None else None
        weight = 1
        if method == "sendmediagroup":
            media = params.values.get("media")
            try:
                weight = max(1, len(params.json("media") or [])) if media else 1
            except ApiError:
                weight = 1
        retry_after = self.flood.check(bot_id, chat_id, chat.type if chat else None, weight)
        if retry_after is not None:
            self.stats.flood_429 += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    # ---- files -----------------------------------------------------------------------------------------------
    async def _file_route(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        stored = self.state.files_by_path.get(request.match_info["path"])
        if not TOKEN_RE.match(token):
            return _error(ApiError(401, "Unauthorized"))
        if stored is None:
            return _error(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
