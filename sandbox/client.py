"""Async client of the sandbox control API, plus ``Person``: a scripted user for tests and the demo.

    sb = SandboxClient(url)
    alice = await sb.person("李雷", language_code="zh")
    await alice.say("/new")
    msg = await alice.expect(contains="类别")
    await alice.tap("房产物业")
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

JSON = dict[str, Any]


class SandboxError(RuntimeError):
    """The control API refused a request (a test-script mistake, not a bot bug)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class SandboxClient:
    """One method per control endpoint. Use as ``async with`` or call ``close()``."""

    def __init__(self, url: str, token: str | None = None, session: aiohttp.ClientSession | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token  # default bot for private chats; None: the sandbox's first bot
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, method: str, path: str, body: JSON | None = None, query: JSON | None = None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        payload = {k: v for k, v in (body or {}).items() if v is not None} if body is not None else None
        async with self._session.request(method, f"{self.url}/_control/{path}", json=payload,
                                         params=params) as resp:
            data = await resp.json()
            if resp.status >= 400:
                raise SandboxError(resp.status, data.get("error", str(data)))
            return data

    # ---- world -------------------------------------------------------------------------------------------------
    async def create_bot(self, token: str, username: str | None = None, first_name: str | None = None) -> JSON:
        return await self._call("POST", "bots", {"token": token, "username": username, "first_name": first_name})

    async def create_user(self, first_name: str, last_name: str | None = None, username: str | None = None,
                          language_code: str | None = None, id: int | None = None) -> JSON:
        return await self._call("POST", "users", {"first_name": first_name, "last_name": last_name,
                                                  "username": username, "language_code": language_code, "id": id})

    async def create_group(self, title: str, member_ids: Sequence[int], admin_ids: Sequence[int] | None = None,
                           supergroup: bool = False, bot_tokens: Sequence[str] | None = None) -> JSON:
        return await self._call("POST", "groups", {
            "title": title, "member_ids": list(member_ids), "admin_ids": list(admin_ids or []),
            "supergroup": supergroup, "bot_tokens": None if bot_tokens is None else list(bot_tokens)})

    async def set_member(self, chat_id: int, user_id: int, status: str = "member") -> JSON:
        """Add a user to a group (or make them admin, or let them leave)."""
        return await self._call("POST", "members", {"chat_id": chat_id, "user_id": user_id, "status": status})

    # ---- acting -----------------------------------------------------------------------------------------------
    async def send(self, user_id: int, chat_id: int | None = None, token: str | None = None,
                   **content: Any) -> list[JSON]:
        """``content``: text= | location={latitude, longitude} | venue={latitude, longitude, title, address} |
        photo={data_b64} | document={data_b64,
        file_name, mime_type} | album=[...] | sticker={emoji} | voice={duration}; caption=, reply_to_message_id=."""
        return await self._call("POST", "send", {"user_id": user_id, "chat_id": chat_id,
                                                 "token": token or self.token, **content})

    async def press(self, user_id: int, chat_id: int, message_id: int, data: str | None = None,
                    button_text: str | None = None, forge: bool = False) -> str:
        answer = await self._call("POST", "press", {"user_id": user_id, "chat_id": chat_id, "message_id": message_id,
                                                    "data": data, "button_text": button_text, "forge": forge})
        return str(answer["callback_query_id"])

    async def callback_answer(self, callback_query_id: str, timeout: float = 5.0) -> JSON:
        return await self._call("GET", "callback_answer", query={"id": callback_query_id, "timeout": timeout})

    async def block(self, user_id: int, blocked: bool = True, token: str | None = None) -> JSON:
        return await self._call("POST", "block", {"user_id": user_id, "blocked": blocked,
                                                  "token": token or self.token})

    async def migrate(self, chat_id: int) -> JSON:
        return await self._call("POST", "migrate", {"chat_id": chat_id})

    # ---- observing -----------------------------------------------------------------------------------------
    async def messages(self, chat_id: int, token: str | None = None) -> list[JSON]:
        return await self._call("GET", "messages", query={"chat_id": chat_id, "token": token})

    async def events(self, chat_id: int | None = None, after: int = 0, timeout: float = 0.0) -> list[JSON]:
        return await self._call("GET", "events", query={"chat_id": chat_id, "after": after, "timeout": timeout})

    async def seq(self) -> int:
        return int((await self._call("GET", "seq"))["seq"])

    async def stats(self) -> JSON:
        return await self._call("GET", "stats")

    async def commands(self, token: str | None = None) -> list[JSON]:
        return await self._call("GET", "commands", query={"token": token or self.token})

    # ---- misbehaving ---------------------------------------------------------------------------------------
    async def flood(self, enabled: bool = True, global_per_s: float | None = 30, group_per_min: float | None = 20,
                    private_per_s: float | None = None) -> JSON:
        return await self._call("POST", "flood", {"enabled": enabled, "global_per_s": global_per_s,
                                                  "group_per_min": group_per_min, "private_per_s": private_per_s})

    async def fault(self, kind: str, method: str | None = None, chat_id: int | None = None,
                    retry_after: int | None = None, delay_s: float | None = None, count: int = 1) -> JSON:
        return await self._call("POST", "faults", {"kind": kind, "method": method, "chat_id": chat_id,
                                                   "retry_after": retry_after, "delay_s": delay_s, "count": count})

    async def fault_rates(self, rates: dict[str, dict[str, float]], seed: int = 0,
                          chat_ids: Sequence[int] | None = None, retry_after: int = 1, delay_s: float = 1.0) -> JSON:
        """Faults drawn at rates per method (see sandbox.limits.FaultRates); ``{}`` stops them."""
        return await self._call("POST", "fault_rates", {
            "rates": rates, "seed": seed, "chat_ids": None if chat_ids is None else list(chat_ids),
            "retry_after": retry_after, "delay_s": delay_s})

    async def fault_chats(self, chat_ids: Sequence[int]) -> JSON:
        """Widen the chats the fault rates apply to."""
        return await self._call("POST", "fault_rates", {"add_chat_ids": list(chat_ids)})

    async def clear_faults(self) -> JSON:
        return await self._call("DELETE", "faults")

    async def reset(self) -> JSON:
        return await self._call("POST", "reset")

    # ---- scripted people ------------------------------------------------------------------------------------
    async def person(self, first_name: str, last_name: str | None = None, username: str | None = None,
                     language_code: str | None = None, token: str | None = None) -> Person:
        user = await self.create_user(first_name, last_name, username, language_code)
        return Person(self, user, token or self.token, await self.seq())


def _message_text(message: JSON) -> str:
    return str(message.get("text") or message.get("caption") or "")


def format_transcript(messages: Sequence[JSON]) -> str:
    lines = []
    for m in messages:
        who = "BOT" if m.get("outgoing") else m.get("from", {}).get("first_name", "?")
        flags = (" [deleted]" if m.get("deleted") else "") + (f" [edited x{m['edit_count']}]"
                                                               if m.get("edit_count") else "")
        body = _message_text(m) or next((k for k in ("photo", "document", "location", "venue", "sticker", "voice",
                                                     "migrate_to_chat_id", "migrate_from_chat_id") if k in m), "?")
        buttons = [b["text"] for row in m.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
        lines.append(f"  #{m['message_id']} {who}{flags}: {body!s}" + (f"  {buttons}" if buttons else ""))
    return "\n".join(lines) or "  (no messages)"


class Person:
    """A scripted user. ``expect`` consumes bot events in order per chat; ``tap`` does not consume."""

    def __init__(self, client: SandboxClient, user: JSON, token: str | None, start_seq: int) -> None:
        self.client = client
        self.user = user
        self.id: int = user["id"]
        self.private: int = user["id"]
        self.token = token
        self._start_seq = start_seq
        self._cursors: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"Person({self.user['first_name']!r}, id={self.id})"

    async def _send(self, chat: int | None, **content: Any) -> JSON:
        sent = await self.client.send(self.id, chat_id=chat, token=self.token, **content)
        return sent[0]

    async def say(self, text: str, chat: int | None = None) -> JSON:
        return await self._send(chat, text=text)

    async def share_location(self, latitude: float, longitude: float, chat: int | None = None) -> JSON:
        return await self._send(chat, location={"latitude": latitude, "longitude": longitude})

    async def send_photo(self, data: bytes, caption: str | None = None, chat: int | None = None) -> JSON:
        return await self._send(chat, photo={"data_b64": _b64(data)}, caption=caption)

    async def send_document(self, data: bytes, file_name: str, mime_type: str = "application/octet-stream",
                            caption: str | None = None, chat: int | None = None) -> JSON:
        return await self._send(chat, document={"data_b64": _b64(data), "file_name": file_name,
                                                "mime_type": mime_type}, caption=caption)

    async def send_album(self, photos: Sequence[bytes], caption: str | None = None,
                         chat: int | None = None) -> list[JSON]:
        album = [{"photo": {"data_b64": _b64(p)}} for p in photos]
        return await self.client.send(self.id, chat_id=chat, token=self.token, album=album, caption=caption)

    async def send_sticker(self, emoji: str = "🙂", chat: int | None = None) -> JSON:
        return await self._send(chat, sticker={"emoji": emoji})

    async def send_voice(self, duration: int = 3, chat: int | None = None) -> JSON:
        return await self._send(chat, voice={"duration": duration})

    async def block(self, blocked: bool = True) -> JSON:
        return await self.client.block(self.id, blocked, self.token)

    async def transcript(self, chat: int | None = None) -> list[JSON]:
        chat_id = chat if chat is not None else self.private
        return await self.client.messages(chat_id, token=self.token if chat_id == self.private else None)

    async def expect(self, contains: str | None = None, *, chat: int | None = None, timeout: float = 10.0) -> JSON:
        """The next new or edited bot message in ``chat`` (default: private) after this person's cursor whose
        text/caption contains ``contains``; events passed over are consumed. AssertionError on timeout."""
        chat_id = chat if chat is not None else self.private
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            events = await self.client.events(chat_id, self._cursors.get(chat_id, self._start_seq),
                                              min(remaining, 5.0))
            for event in events:
                self._cursors[chat_id] = event["seq"]
                if event["kind"] not in ("message", "edit"):
                    continue
                message = event["message"]
                if contains is None or contains in _message_text(message):
                    return message
        transcript = format_transcript(await self.transcript(chat))
        raise AssertionError(f"{self!r} waited {timeout}s for a bot message containing {contains!r} in chat "
                             f"{chat_id}; transcript:\n{transcript}")

    async def tap(self, button_text: str, chat: int | None = None, timeout: float = 5.0) -> JSON:
        """Press the button labelled ``button_text`` on the latest bot message that has it; return the answer."""
        chat_id = chat if chat is not None else self.private
        deadline = time.monotonic() + timeout
        while True:  # the button may still be on its way: wait for the chat to change, never a fixed sleep
            seen = await self.client.seq()
            messages = await self.transcript(chat)
            for message in reversed(messages):
                if message.get("deleted") or not message.get("outgoing"):
                    continue
                rows = message.get("reply_markup", {}).get("inline_keyboard", [])
                if any(b.get("text") == button_text and "callback_data" in b for row in rows for b in row):
                    query_id = await self.client.press(self.id, chat_id, message["message_id"],
                                                       button_text=button_text)
                    return await self.client.callback_answer(query_id, timeout)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self.client.events(chat_id, seen, min(remaining, 1.0))
        raise AssertionError(f"{self!r}: no button {button_text!r} in chat {chat_id}; transcript:\n"
                             f"{format_transcript(messages)}")
