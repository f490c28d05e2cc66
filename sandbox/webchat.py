"""The web chat's server side: the page and its files, a live event stream, and what the page needs to know.

Everything here is part of the control API (``/_control/...``) or static: the page acts through ``send`` and
``press`` like any scripted person, so the bot under test cannot tell it from Telegram.

    GET /                       the page (sandbox/web/index.html)
    GET /web/{name}             its script, style sheet and UI catalogue
    GET /_control/stream        server-sent events: every entry of the event log, ``incoming`` ones included
    GET /_control/directory     the chat list: who acts in which chat, and in what role
    GET /_control/city          the city map: zones (WGS84 rings), named places, bounds
    GET /_control/file?file_id= a stored file's bytes (photos, the ledger), without the bot's token
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
from importlib import resources
from typing import Any
from urllib.parse import quote

from aiohttp import web

from sandbox.state import JSON, State

#: How long the stream stays silent before it sends a comment line (keeps proxies and the browser patient).
KEEPALIVE_S = 15.0
#: The CJK font the page falls back to, from the ``noto-cjk-sans-otc`` package (a dependency of the reports).
FONT_NAME = "cjk.ttc"
_STATIC = ("index.html", "app.js", "app.css", "i18n.json")
_KINDS_ORDER = {"resident": 0, "social_supervisor": 1, "admin": 2, "coordination": 3, "supervision": 4, "unit": 5}


class WebChat:
    """The page's routes. ``publish`` tells it the roles (the sandbox itself knows only users and chats)."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.roles: list[JSON] = []
        self.city: JSON = {}
        self._streams: set[asyncio.Task[Any]] = set()

    def publish(self, roles: list[JSON] | None = None, city: JSON | None = None) -> None:
        """``roles``: ``{chat_id, user_id, kind, title}`` per chat a person acts in (kind: resident, unit,
        coordination, supervision, social_supervisor, admin); ``city``: see ``sandbox.webcity.city_map``."""
        if roles is not None:
            self.roles = [dict(r) for r in roles]
        if city is not None:
            self.city = city

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._index)
        app.router.add_get("/web/{name}", self._static)
        app.router.add_get("/_control/stream", self._stream)
        app.router.add_get("/_control/directory", self._directory)
        app.router.add_get("/_control/city", self._city)
        app.router.add_get("/_control/file", self._file)

    async def close(self) -> None:
        """End the open streams (a browser keeps them open for ever; the server must not wait for it)."""
        for task in list(self._streams):
            task.cancel()
        self._streams.clear()

    # ---- the page -------------------------------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.StreamResponse:
        return _asset("index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == FONT_NAME:  # for machines without a CJK font (a bare container's Chromium, say)
            import noto_cjk_sans_otc

            return web.FileResponse(noto_cjk_sans_otc.FONT_PATH, headers={"Content-Type": "font/collection",
                                                                          "Cache-Control": "max-age=86400"})
        if name not in _STATIC:
            raise web.HTTPNotFound()
        return _asset(name)

    # ---- what the page reads --------------------------------------------------------------------------------
    def directory(self) -> list[JSON]:
        """The published roles whose chats exist, then every other person's private chat that has messages
        (a resident created by ``--demo`` or by curl shows up as soon as they say something)."""
        out: list[JSON] = []
        seen: set[int] = set()
        for role in self.roles:
            chat = self.state.chats.get(int(role["chat_id"]))
            if chat is None or int(role["user_id"]) not in self.state.users:
                continue
            user = self.state.users[int(role["user_id"])]
            out.append({**role, "type": chat.type, "user_name": user["first_name"],
                        "language_code": user.get("language_code", "")})
            if chat.type == "private":
                seen.add(chat.id)
        for user_id, user in self.state.users.items():
            if user_id not in seen and self.state.chat_order.get(user_id):
                out.append({"chat_id": user_id, "user_id": user_id, "kind": "resident", "title": user["first_name"],
                            "type": "private", "user_name": user["first_name"],
                            "language_code": user.get("language_code", "")})
        return sorted(out, key=lambda e: _KINDS_ORDER.get(e["kind"], 9))

    async def _directory(self, request: web.Request) -> web.Response:
        return web.json_response({"chats": self.directory(), "seq": self.state.last_seq})

    async def _city(self, request: web.Request) -> web.Response:
        return web.json_response(self.city)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        stored = self.state.files.get(request.query.get("file_id", ""))
        if stored is None:
            return web.json_response({"error": "unknown file_id"}, status=404)
        headers = {"Cache-Control": "max-age=3600"}
        if stored.file_name:
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(stored.file_name)}"
        return web.Response(body=stored.data, headers=headers,
                            content_type=stored.mime_type or "application/octet-stream")

    # ---- live -----------------------------------------------------------------------------------------------
    async def _stream(self, request: web.Request) -> web.StreamResponse:
        """Every event after ``Last-Event-ID`` (the browser's reconnect) or ``?after=``, then live ones.

        An ``after`` beyond the log (the sandbox was reset) starts over with a ``reset`` event."""
        after = _int(request.headers.get("Last-Event-ID"), _int(request.query.get("after"), self.state.last_seq))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        try:
            await response.write(b"retry: 1000\n\n")
            while True:
                if after > self.state.last_seq:
                    after = 0
                    await response.write(_sse({"kind": "reset", "seq": 0}, 0))
                events = await self.state.wait_events(after, None, KEEPALIVE_S)
                if not events:
                    await response.write(b": keepalive\n\n")
                for event in events:
                    await response.write(_sse(event, int(event["seq"])))
                    after = int(event["seq"])
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._streams.discard(task)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await response.write_eof()
        return response


def _sse(event: JSON, seq: int) -> bytes:
    return f"id: {seq}\nevent: update\ndata: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


def _asset(name: str) -> web.Response:
    data = resources.files("sandbox").joinpath("web", name).read_bytes()
    content_type = "application/json" if name.endswith(".json") else mimetypes.guess_type(name)[0] or "text/plain"
    return web.Response(body=data, content_type=content_type, charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default  # type: ignore[arg-type]
    except ValueError:
        return default


def _quote(name: str) -> str:
    return quote(name, safe="")
