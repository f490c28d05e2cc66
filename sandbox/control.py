"""The control API under ``/_control/``: scripted people act, tests observe, faults get injected.

Answers are plain JSON; errors are ``{"error": description}`` with a 4xx status.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox import content
from sandbox.entities import command_entities
from sandbox.errors import ApiError, bad_request
from sandbox.keyboards import inline_buttons
from sandbox.limits import FAULT_KINDS, Fault, FaultQueue, FaultRates, FloodConfig, FloodLimiter, Stats
from sandbox.state import JSON, Bot, Chat, State

TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
MAX_WAIT_S = 60.0
#: The event log's kinds: what bots did, and ``incoming`` (what a person sent, for the web chat's other tabs).
#: ``/_control/events`` answers the bots' kinds unless asked for ``incoming=1`` too.
INCOMING = "incoming"
BOT_EVENT_KINDS = frozenset({"message", "edit", "delete", "callback_answer"})


class ControlApi:
    def __init__(self, state: State, flood: FloodLimiter, faults: FaultQueue, stats: Stats,
                 on_reset: Callable[[], Awaitable[None]]) -> None:
        self.state = state
        self.flood = flood
        self.faults = faults
        self.stats = stats
        self.on_reset = on_reset

    def add_routes(self, app: web.Application) -> None:
        routes = [
            ("POST", "bots", self.create_bot), ("POST", "users", self.create_user),
            ("POST", "groups", self.create_group), ("POST", "members", self.set_member),
            ("POST", "send", self.send), ("POST", "press", self.press),
            ("GET", "callback_answer", self.callback_answer), ("GET", "messages", self.messages),
            ("GET", "events", self.events), ("GET", "seq", self.seq), ("POST", "block", self.block),
            ("POST", "migrate", self.migrate), ("POST", "flood", self.set_flood), ("POST", "faults", self.add_fault),
            ("DELETE", "faults", self.clear_faults), ("POST", "fault_rates", self.set_fault_rates),
            ("GET", "stats", self.get_stats),
            ("GET", "commands", self.commands), ("POST", "reset", self.reset),
        ]
        for method, name, handler in routes:
            app.router.add_route(method, f"/_control/{name}", _wrap(handler))

    # ---- world ----------------------------------------------------------------------------------------------
    async def create_bot(self, body: JSON) -> JSON:
        token = str(body.get("token", ""))
        if not TOKEN_RE.match(token):
            raise bad_request("malformed token")
        bot = self.state.bot(token, body.get("username"), body.get("first_name"))
        return bot.user_dict()

    async def create_user(self, body: JSON) -> JSON:
        if not body.get("first_name"):
            raise bad_request("first_name is required")
        if body.get("id") is not None and int(body["id"]) in self.state.users:
            raise bad_request(f"user {body['id']} exists")
        return self.state.add_user(body["first_name"], body.get("last_name"), body.get("username"),
                                   body.get("language_code"), None if body.get("id") is None else int(body["id"]))

    async def create_group(self, body: JSON) -> JSON:
        if not body.get("title"):
            raise bad_request("title is required")
        chat = self.state.add_group(body["title"], [int(u) for u in body.get("member_ids", [])],
                                    [int(u) for u in body.get("admin_ids") or []], bool(body.get("supergroup")),
                                    body.get("bot_tokens"))
        return self._chat_info(chat)

    async def set_member(self, body: JSON) -> JSON:
        """A user joins, becomes admin of, or leaves a group: {chat_id, user_id, status}."""
        chat = self.state.chats.get(int(body.get("chat_id", 0)))
        if chat is None or chat.type == "private":
            raise bad_request("chat not found")
        status = str(body.get("status", "member"))
        if status not in ("member", "administrator", "left"):
            raise bad_request("status must be member, administrator or left")
        self.state.user(int(body.get("user_id", 0)))
        chat.members[int(body["user_id"])] = status
        return self._chat_info(chat)

    def _chat_info(self, chat: Chat) -> JSON:
        return {**self.state.chat_dict(chat), "members": {str(k): v for k, v in chat.members.items()}}

    # ---- a person acts ----------------------------------------------------------------------------------------
    def _where(self, body: JSON) -> tuple[JSON, Chat, list[Bot], int]:
        """(user, chat, bots that see it, bot_id owning the conversation or 0)."""
        user = self.state.user(int(body.get("user_id", 0)))
        chat_id = body.get("chat_id")
        if chat_id is None or int(chat_id) == user["id"]:
            bot = self.state.default_bot(body.get("token"))
            return user, self.state.chats[user["id"]], [bot], bot.id
        chat = self.state.chats.get(int(chat_id))
        if chat is None or chat.type == "private":
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(f"group chat was upgraded to a supergroup chat {chat.migrated_to}")
        if chat.members.get(user["id"], "left") == "left":
            raise bad_request("the user is not a member of the chat")
        return user, chat, self.state.bots_in(chat), 0

    def _content(self, item: JSON) -> JSON:
        if "text" in item:
            text = str(item["text"])
            if not text.strip():
                raise bad_request("message text is empty")
            entities = command_entities(text)
            return {"text": text, **({"entities": entities} if entities else {})}
        out: JSON
        if "location" in item:
            loc = item["location"]
            out = {"location": {"latitude": float(loc["latitude"]), "longitude": float(loc["longitude"])}}
        elif "venue" in item:  # a place picked from a list, as Telegram's apps send it: a venue and its location
            venue = item["venue"]
            if not venue.get("title") or not venue.get("address"):
                raise bad_request("a venue needs a title and an address")
            point = {"latitude": float(venue["latitude"]), "longitude": float(venue["longitude"])}
            out = {"location": point, "venue": {"location": point, "title": str(venue["title"]),
                                                "address": str(venue["address"])}}
        elif "photo" in item:
            out = {"photo": content.store_photo(self.state, _b64(item["photo"]))}
        elif "document" in item:
            doc = item["document"]
            out = {"document": content.store_document(self.state, _b64(doc), doc.get("file_name"),
                                                      doc.get("mime_type"))}
        elif "sticker" in item:
            out = {"sticker": content.store_sticker(self.state, (item["sticker"] or {}).get("emoji", "🙂"))}
        elif "voice" in item:
            out = {"voice": content.store_voice(self.state, int((item["voice"] or {}).get("duration", 3)))}
        else:
            raise bad_request("nothing to send: give text, location, venue, photo, document, album, sticker or voice")
        if item.get("caption"):
            out["caption"] = str(item["caption"])
        return out

    async def send(self, body: JSON) -> list[JSON]:
        user, chat, bots, owner = self._where(body)
        if "album" in body:
            items = body["album"]
            if not isinstance(items, list) or not 2 <= len(items) <= 10:
                raise bad_request("an album has 2..10 items")
            if body.get("caption") and not items[0].get("caption"):
                items[0] = {**items[0], "caption": body["caption"]}
            contents = [self._content(i) for i in items]
            group_id = self.state.new_media_group_id()
            contents = [{"media_group_id": group_id, **c} for c in contents]
        else:
            contents = [self._content(body)]
        if chat.type == "private":
            bots[0].started.add(user["id"])
            bots[0].blocked_by.discard(user["id"])
        reply_to = body.get("reply_to_message_id")
        out = []
        for body_content in contents:
            msg = self.state.add_message(chat, user, owner, False, body_content,
                                         int(reply_to) if reply_to is not None else None)
            rendered = self.state.render(msg)
            for bot in bots:
                await self.state.enqueue(bot, "message", rendered)
            entry = self.state.transcript_entry(msg)
            await self.state.log_event(INCOMING, chat.id, owner, message=entry)
            out.append(entry)
        return out

    async def press(self, body: JSON) -> JSON:
        user = self.state.user(int(body.get("user_id", 0)))
        chat_id, message_id = int(body.get("chat_id", user["id"])), int(body.get("message_id", 0))
        msg = self.state.messages.get((chat_id, message_id))
        if msg is None or msg.deleted or not msg.outgoing:
            raise bad_request("no such bot message")
        chat = self.state.chats[chat_id]
        if (chat.type == "private" and chat_id != user["id"]) or (
                chat.is_group and chat.members.get(user["id"], "left") == "left"):
            raise bad_request("the user can't see that message")
        buttons = inline_buttons(msg.content.get("reply_markup"))
        data = body.get("data")
        if body.get("button_text") is not None:
            found = [b for b in buttons if b["text"] == body["button_text"]]
            if not found or "callback_data" not in found[0]:
                raise bad_request(f"no callback button {body['button_text']!r} on that message")
            data = found[0]["callback_data"]
        elif not body.get("forge") and data not in [b.get("callback_data") for b in buttons]:
            raise bad_request(f"no button with callback_data {data!r} on that message")
        if not isinstance(data, str):
            raise bad_request("data or button_text is required")
        bot = self.state.bots_by_id[msg.bot_id]
        query = self.state.new_callback(bot, user["id"], msg, data)
        payload = {"id": query.id, "from": user, "message": self.state.render(msg),
                   "chat_instance": str(abs(chat_id) * 7919 + bot.id), "data": data}
        await self.state.enqueue(bot, "callback_query", payload)
        return {"callback_query_id": query.id}

    async def callback_answer(self, body: JSON) -> JSON:
        query = self.state.callbacks.get(str(body.get("id")))
        if query is None:
            raise bad_request("unknown callback query id")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(query.done.wait(), _timeout(body))
        return {"answered": query.answered, "text": query.answer.get("text", ""),
                "show_alert": bool(query.answer.get("show_alert")), "url": query.answer.get("url")}

    async def block(self, body: JSON) -> JSON:
        user = self.state.user(int(body.get("user_id", 0)))
        bot = self.state.default_bot(body.get("token"))
        blocked = bool(body.get("blocked", True))
        was_blocked = user["id"] in bot.blocked_by
        (bot.blocked_by.add if blocked else bot.blocked_by.discard)(user["id"])
        if blocked != was_blocked:
            old, new = ("member", "kicked") if blocked else ("kicked", "member")
            member = bot.user_dict()
            await self.state.enqueue(bot, "my_chat_member", {
                "chat": self.state.chat_dict(self.state.chats[user["id"]]), "from": user, "date": int(time.time()),
                "old_chat_member": {"status": old, "user": member, **({"until_date": 0} if old == "kicked" else {})},
                "new_chat_member": {"status": new, "user": member, **({"until_date": 0} if new == "kicked" else {})},
            })
        return {"user_id": user["id"], "bot_id": bot.id, "blocked": blocked}

    async def migrate(self, body: JSON) -> JSON:
        old = self.state.chats.get(int(body.get("chat_id", 0)))
        if old is None or old.type != "group" or old.migrated_to is not None:
            raise bad_request("only a basic group that has not migrated yet can migrate")
        new = self.state.add_group(old.title or "", [], supergroup=True)
        new.members, new.bot_ids = dict(old.members), None if old.bot_ids is None else set(old.bot_ids)
        old.migrated_to = new.id
        actor_id = next((u for u, s in old.members.items() if s == "creator"), next(iter(old.members), None))
        actor = self.state.users[actor_id] if actor_id is not None else {"id": 1087968824, "is_bot": True,
                                                                          "first_name": "Group"}
        for chat, service in ((old, {"migrate_to_chat_id": new.id}), (new, {"migrate_from_chat_id": old.id})):
            msg = self.state.add_message(chat, actor, 0, False, service)
            for bot in self.state.bots_in(chat):
                await self.state.enqueue(bot, "message", self.state.render(msg))
        return {"old_chat_id": old.id, "new_chat_id": new.id, "chat": self._chat_info(new)}

    # ---- observe -------------------------------------------------------------------------------------------
    async def messages(self, body: JSON) -> list[JSON]:
        chat_id = int(body.get("chat_id", 0))
        if chat_id not in self.state.chats:
            raise bad_request("chat not found")
        bot_id = self.state.bot(body["token"]).id if body.get("token") else None
        msgs = [self.state.messages[(chat_id, m)] for m in self.state.chat_order.get(chat_id, [])]
        return [self.state.transcript_entry(m) for m in msgs if bot_id is None or m.bot_id in (0, bot_id)]

    async def events(self, body: JSON) -> list[JSON]:
        chat_id = body.get("chat_id")
        kinds = None if body.get("incoming") in ("1", "true", True) else BOT_EVENT_KINDS
        return await self.state.wait_events(int(body.get("after", 0)),
                                            None if chat_id in (None, "") else int(chat_id), _timeout(body, 0), kinds)

    async def seq(self, body: JSON) -> JSON:
        return {"seq": self.state.last_seq}

    async def commands(self, body: JSON) -> list[JSON]:
        bot = self.state.default_bot(body.get("token"))
        return [{"scope": json.loads(scope), "language_code": lang, "commands": cmds}
                for (scope, lang), cmds in bot.commands.items()]

    async def get_stats(self, body: JSON) -> JSON:
        return self.stats.as_dict()

    # ---- misbehave -------------------------------------------------------------------------------------------
    async def set_flood(self, body: JSON) -> JSON:
        cfg = FloodConfig(enabled=bool(body.get("enabled", True)), global_per_s=body.get("global_per_s", 30),
                          group_per_min=body.get("group_per_min", 20), private_per_s=body.get("private_per_s"))
        self.flood.configure(cfg)
        return {"enabled": cfg.enabled, "global_per_s": cfg.global_per_s, "group_per_min": cfg.group_per_min,
                "private_per_s": cfg.private_per_s}

    async def add_fault(self, body: JSON) -> JSON:
        kind = str(body.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise bad_request(f"kind must be one of {', '.join(FAULT_KINDS)}")
        fault = Fault(kind=kind, method=str(body["method"]).lower() if body.get("method") else None,
                      chat_id=str(body["chat_id"]) if body.get("chat_id") is not None else None,
                      retry_after=int(body.get("retry_after") or 1), delay_s=float(body.get("delay_s", 1.0)),
                      remaining=int(body.get("count", 1)))
        self.faults.add(fault)
        return {"queued": len(self.faults.faults)}

    async def set_fault_rates(self, body: JSON) -> JSON:
        """Faults at rates: {rates: {method: {kind: p}}, seed, chat_ids, retry_after, delay_s}; or
        {add_chat_ids: [...]} to widen the chats of the rates already set (the draws go on); {rates: {}} stops."""
        if "add_chat_ids" in body:
            if self.faults.rates is None or self.faults.rates.chat_ids is None:
                raise bad_request("no fault rates limited to chats are set")
            self.faults.rates.chat_ids.update(str(c) for c in body["add_chat_ids"])
            return {"chat_ids": len(self.faults.rates.chat_ids)}
        rates = {str(m).lower(): {str(k): float(r) for k, r in kinds.items()}
                 for m, kinds in (body.get("rates") or {}).items()}
        if not rates:
            self.faults.rates = None
            return {"methods": 0}
        chat_ids = body.get("chat_ids")
        self.faults.rates = FaultRates(rates, seed=int(body.get("seed", 0)),
                                       chat_ids=None if chat_ids is None else {str(c) for c in chat_ids},
                                       retry_after=int(body.get("retry_after", 1)),
                                       delay_s=float(body.get("delay_s", 1.0)))
        return {"methods": len(rates)}

    async def clear_faults(self, body: JSON) -> JSON:
        self.faults.clear()
        return {"queued": 0}

    async def reset(self, body: JSON) -> JSON:
        await self.on_reset()
        return {"reset": True}


def _timeout(body: JSON, default: float = 5.0) -> float:
    return min(MAX_WAIT_S, max(0.0, float(body.get("timeout", default))))


def _b64(obj: Any) -> bytes:
    try:
        return base64.b64decode(obj["data_b64"], validate=True)
    except (KeyError, TypeError, binascii.Error):
        raise bad_request("data_b64 (base64) is required") from None


def _wrap(handler: Callable[[JSON], Awaitable[Any]]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def route(request: web.Request) -> web.Response:
        body: JSON = dict(request.query)
        if request.can_read_body:
            try:
                payload = await request.json()
            except ValueError:
                return web.json_response({"error": "body must be JSON"}, status=400)
            if isinstance(payload, dict):
                body.update(payload)
        try:
            return web.json_response(await handler(body))
        except ApiError as exc:
            return web.json_response({"error": exc.description, "parameters": exc.parameters}, status=exc.code)
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": f"bad control request: {exc!r}"}, status=400)

    return route
