"""Bot API method handlers. Each takes the calling bot and its parameters and returns the ``result``."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox import content
from sandbox.entities import parse, utf16_len
from sandbox.errors import ApiError, bad_request
from sandbox.keyboards import validate_reply_markup
from sandbox.params import Params, Upload
from sandbox.state import JSON, Bot, Chat, Message, State

MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are exactly the same as "
                "a current content and reply markup of the message")
CHAT_ACTIONS = frozenset({"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                          "upload_document", "choose_sticker", "find_location", "record_video_note",
                          "upload_video_note"})
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

Handler = Callable[[Bot, Params], Awaitable[Any]]


class BotApi:
    """The method table. ``on_webhook_change(bot)`` is called after setWebhook/deleteWebhook."""

    def __init__(self, state: State, on_webhook_change: Callable[[Bot], None] | None = None) -> None:
        self.state = state
        self.on_webhook_change = on_webhook_change
        self.methods: dict[str, Handler] = {
            name[3:].lower(): getattr(self, name) for name in dir(self) if name.startswith("m__")
        }

    async def call(self, bot: Bot, method: str, params: Params) -> Any:
        handler = self.methods.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found")
        return await handler(bot, params)

    # ---- helpers ----------------------------------------------------------------------------------------------
    def _chat(self, bot: Bot, p: Params, *, sending: bool = True) -> Chat:
        return self.state.chat_for_bot(bot, p.chat_id(), sending=sending)

    @staticmethod
    def _text(p: Params) -> tuple[str, list[JSON]]:
        raw = p.str("text")
        if raw is None or not raw.strip():
            raise bad_request("message text is empty")
        text, entities = _formatted(p, raw, "parse_mode", "entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, entities

    @staticmethod
    def _caption(p: Params, name: str = "caption") -> JSON:
        raw = p.str(name)
        if not raw:
            return {}
        text, entities = _formatted(p, raw, "parse_mode", f"{name}_entities")
        if len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        out: JSON = {"caption": text} if text else {}
        if entities:
            out["caption_entities"] = entities
        return out

    @staticmethod
    def _markup(p: Params, *, inline_only: bool = False) -> JSON | None:
        markup = p.json("reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        validate_reply_markup(markup)
        if inline_only and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        return markup

    def _reply_to(self, bot: Bot, p: Params, chat: Chat) -> int | None:
        params = p.json("reply_parameters") or {}
        message_id = params.get("message_id") if isinstance(params, dict) else None
        allow = bool(params.get("allow_sending_without_reply")) if isinstance(params, dict) else False
        if message_id is None:
            message_id = p.int("reply_to_message_id")
            allow = p.bool("allow_sending_without_reply")
        if message_id is None:
            return None
        if self.state.find_message(bot, chat.id, int(message_id)) is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return int(message_id)

    async def _send(self, bot: Bot, chat: Chat, body: JSON, markup: JSON | None, reply_to: int | None) -> Message:
        if markup and "inline_keyboard" in markup:
            body["reply_markup"] = markup
        msg = self.state.add_message(chat, bot.user_dict(), bot.id, True, body, reply_to)
        if markup and ("keyboard" in markup or "remove_keyboard" in markup or "force_reply" in markup):
            msg.reply_keyboard = markup  # the web chat shows the latest one under its composer
        await self.state.log_event("message", chat.id, bot.id, message=self.state.transcript_entry(msg))
        return msg

    def _own_message(self, bot: Bot, p: Params, missing: str) -> Message:
        chat = self._chat(bot, p, sending=False)
        msg = self.state.find_message(bot, chat.id, p.message_id())
        if msg is None:
            raise bad_request(missing)
        return msg

    async def _edited(self, bot: Bot, msg: Message, changes: JSON, markup: JSON | None) -> JSON:
        new = {**msg.content, **changes}
        for key, value in changes.items():
            if value is None:
                new.pop(key, None)
        if markup is not None:
            new["reply_markup"] = markup
        else:
            new.pop("reply_markup", None)
        if new == msg.content:
            raise bad_request(NOT_MODIFIED)
        msg.content = new
        msg.edit_count += 1
        msg.edit_date = int(time.time())
        await self.state.log_event("edit", msg.chat_id, bot.id, message=self.state.transcript_entry(msg))
        return self.state.render(msg)

    def _editable(self, bot: Bot, p: Params) -> Message:
        msg = self._own_message(bot, p, "message to edit not found")
        if not msg.outgoing or msg.bot_id != bot.id:
            raise bad_request("message can't be edited")
        return msg

    # ---- identity, updates, webhook ------------------------------------------------------------------------
    async def m__getMe(self, bot: Bot, p: Params) -> JSON:
        return {**bot.user_dict(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    async def m__getUpdates(self, bot: Bot, p: Params) -> list[JSON]:
        if bot.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                                "to delete the webhook first")
        offset = p.int("offset", 0) or 0
        limit = min(100, max(1, p.int("limit", 100) or 100))
        timeout = max(0.0, p.float("timeout", 0) or 0.0)
        allowed = p.json("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = allowed or None
        if offset > 0:
            bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
        elif offset < 0:
            bot.updates = bot.updates[offset:]
        bot.poll_generation += 1
        generation = bot.poll_generation
        async with bot.wakeup:
            bot.wakeup.notify_all()  # a poll still waiting answers 409: only one poller at a time
        if not bot.updates and timeout > 0:
            try:
                async with asyncio.timeout(timeout), bot.wakeup:
                    await bot.wakeup.wait_for(lambda: bool(bot.updates) or bot.poll_generation != generation)
            except TimeoutError:
                pass
            if bot.poll_generation != generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot "
                                    "instance is running")
        return bot.updates[:limit]

    async def m__setWebhook(self, bot: Bot, p: Params) -> bool:
        url = p.str("url", "") or ""
        secret = p.str("secret_token")
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if secret is not None and not _SECRET.match(secret):
            raise bad_request("secret token contains unallowed characters")
        if p.bool("drop_pending_updates"):
            bot.updates.clear()
        allowed = p.json("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = allowed or None
        bot.webhook_url, bot.webhook_secret, bot.webhook_error = url, secret, None
        if self.on_webhook_change:
            self.on_webhook_change(bot)
        return True

    async def m__deleteWebhook(self, bot: Bot, p: Params) -> bool:
        if p.bool("drop_pending_updates"):
            bot.updates.clear()
        bot.webhook_url, bot.webhook_secret, bot.webhook_error = "", None, None
        if self.on_webhook_change:
            self.on_webhook_change(bot)
        return True

    async def m__getWebhookInfo(self, bot: Bot, p: Params) -> JSON:
        info: JSON = {"url": bot.webhook_url, "has_custom_certificate": False,
                      "pending_update_count": len(bot.updates)}
        if bot.webhook_url:
            info["max_connections"] = 40
            if bot.allowed_updates:
                info["allowed_updates"] = bot.allowed_updates
        if bot.webhook_error:
            info["last_error_date"], info["last_error_message"] = bot.webhook_error
        return info

    async def m__close(self, bot: Bot, p: Params) -> bool:
        return True

    async def m__logOut(self, bot: Bot, p: Params) -> bool:
        return True

    # ---- sending ---------------------------------------------------------------------------------------------
    async def m__sendMessage(self, bot: Bot, p: Params) -> JSON:
        chat = self._chat(bot, p)
        text, entities = self._text(p)
        markup = self._markup(p)
        body: JSON = {"text": text, **({"entities": entities} if entities else {})}
        msg = await self._send(bot, chat, body, markup, self._reply_to(bot, p, chat))
        return self.state.render(msg)

    async def m__sendPhoto(self, bot: Bot, p: Params) -> JSON:
        chat = self._chat(bot, p)
        caption = self._caption(p)
        markup = self._markup(p)
        photo = self._photo(p.input_file("photo"))
        msg = await self._send(bot, chat, {"photo": photo, **caption}, markup, self._reply_to(bot, p, chat))
        return self.state.render(msg)

    def _photo(self, source: Upload | str | None) -> list[JSON]:
        if source is None:
            raise bad_request("there is no photo in the request")
        if isinstance(source, Upload):
            return content.store_photo(self.state, source.data)
        return content.photo_from_file_id(self.state, source)

    def _document(self, source: Upload | str | None) -> JSON:
        if source is None:
            raise bad_request("there is no document in the request")
        if isinstance(source, Upload):
            return content.store_document(self.state, source.data, source.filename, source.content_type)
        return content.document_from_file_id(self.state, source)

    async def m__sendDocument(self, bot: Bot, p: Params) -> JSON:
        chat = self._chat(bot, p)
        caption = self._caption(p)
        markup = self._markup(p)
        document = self._document(p.input_file("document"))
        msg = await self._send(bot, chat, {"document": document, **caption}, markup, self._reply_to(bot, p, chat))
        return self.state.render(msg)

    async def m__sendMediaGroup(self, bot: Bot, p: Params) -> list[JSON]:
        chat = self._chat(bot, p)
        media = p.json("media", "InputMedia")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media items")
        bodies: list[JSON] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
                raise bad_request("can't parse InputMedia: unsupported media type")
            ref = item.get("media")
            if not isinstance(ref, str) or not ref:
                raise bad_request("can't parse InputMedia: media not found")
            source = p.resolve_attach(ref)
            caption = self._caption(Params({"caption": item.get("caption"), "parse_mode": item.get("parse_mode"),
                                            "caption_entities": item.get("caption_entities")}))
            if item["type"] == "photo":
                bodies.append({"photo": self._photo(source), **caption})
            else:
                bodies.append({"document": self._document(source), **caption})
        if len({"photo" in b for b in bodies}) > 1:
            raise bad_request("document can't be mixed with other media types")
        reply_to = self._reply_to(bot, p, chat)
        group_id = self.state.new_media_group_id()
        out = []
        for body in bodies:
            msg = await self._send(bot, chat, {"media_group_id": group_id, **body}, None, reply_to)
            out.append(self.state.render(msg))
        return out

    @staticmethod
    def _location(p: Params) -> JSON:
        lat, lon = p.float("latitude"), p.float("longitude")
        if lat is None or lon is None:
            raise bad_request("latitude and longitude must be specified")
        if not -90 <= lat <= 90 or not -180 <= lon <= 180:
            raise bad_request("wrong latitude or longitude specified")  # close to Telegram's GEO_POINT_INVALID
        return {"latitude": lat, "longitude": lon}

    async def m__sendLocation(self, bot: Bot, p: Params) -> JSON:
        chat = self._chat(bot, p)
        location = self._location(p)
        msg = await self._send(bot, chat, {"location": location}, self._markup(p), self._reply_to(bot, p, chat))
        return self.state.render(msg)

    async def m__sendVenue(self, bot: Bot, p: Params) -> JSON:
        chat = self._chat(bot, p)
        location = self._location(p)
        title, address = p.str("title"), p.str("address")
        if not title:
            raise bad_request("venue title is empty")
        if not address:
            raise bad_request("venue address is empty")
        venue: JSON = {"location": location, "title": title, "address": address}
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if p.str(key):
                venue[key] = p.str(key)
        msg = await self._send(bot, chat, {"location": location, "venue": venue}, self._markup(p),
                               self._reply_to(bot, p, chat))
        return self.state.render(msg)

    async def m__sendChatAction(self, bot: Bot, p: Params) -> bool:
        self._chat(bot, p)
        if p.str("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # ---- editing ---------------------------------------------------------------------------------------------
    async def m__editMessageText(self, bot: Bot, p: Params) -> JSON:
        msg = self._editable(bot, p)
        if "text" not in msg.content:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._text(p)
        return await self._edited(bot, msg, {"text": text, "entities": entities or None},
                                  self._markup(p, inline_only=True))

    async def m__editMessageCaption(self, bot: Bot, p: Params) -> JSON:
        msg = self._editable(bot, p)
        if not any(k in msg.content for k in ("photo", "document", "video", "audio", "animation", "voice")):
            raise bad_request("there is no caption in the message to edit")
        caption = self._caption(p)
        changes = {"caption": caption.get("caption"), "caption_entities": caption.get("caption_entities")}
        return await self._edited(bot, msg, changes, self._markup(p, inline_only=True))

    async def m__editMessageReplyMarkup(self, bot: Bot, p: Params) -> JSON:
        msg = self._editable(bot, p)
        return await self._edited(bot, msg, {}, self._markup(p, inline_only=True))

    async def m__deleteMessage(self, bot: Bot, p: Params) -> bool:
        msg = self._own_message(bot, p, "message to delete not found")
        chat = self.state.chats[msg.chat_id]
        if chat.is_group and not (msg.outgoing and msg.bot_id == bot.id):
            raise bad_request("message can't be deleted")
        msg.deleted = True
        await self.state.log_event("delete", msg.chat_id, bot.id, message=self.state.transcript_entry(msg))
        return True

    async def m__answerCallbackQuery(self, bot: Bot, p: Params) -> bool:
        query = self.state.open_callback(bot, p.str("callback_query_id") or "")
        text = p.str("text") or ""
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.answer = {"text": text, "show_alert": p.bool("show_alert"), "url": p.str("url"),
                        "cache_time": p.int("cache_time", 0)}
        query.done.set()
        await self.state.log_event("callback_answer", query.chat_id, bot.id, callback_query_id=query.id,
                                   message_id=query.message_id, answer=query.answer)
        return True

    # ---- files -----------------------------------------------------------------------------------------------
    async def m__getFile(self, bot: Bot, p: Params) -> JSON:
        return content.file_for_download(self.state, p.str("file_id") or "")

    # ---- commands --------------------------------------------------------------------------------------------
    @staticmethod
    def _command_key(p: Params) -> tuple[str, str]:
        scope = p.json("scope", "BotCommandScope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        return json.dumps(scope, sort_keys=True), p.str("language_code", "") or ""

    async def m__setMyCommands(self, bot: Bot, p: Params) -> bool:
        commands = p.json("commands", "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be an array of at most 100 BotCommand")
        for c in commands:
            if not isinstance(c, dict) or not _COMMAND_NAME.match(str(c.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_key(p)
        if commands:
            bot.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        else:
            bot.commands.pop(key, None)
        return True

    async def m__getMyCommands(self, bot: Bot, p: Params) -> list[JSON]:
        return bot.commands.get(self._command_key(p), [])

    async def m__deleteMyCommands(self, bot: Bot, p: Params) -> bool:
        bot.commands.pop(self._command_key(p), None)
        return True

    # ---- chats -----------------------------------------------------------------------------------------------
    async def m__getChat(self, bot: Bot, p: Params) -> JSON:
        chat = self._chat(bot, p, sending=False)
        gifts = {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                 "premium_subscription": False, "gifts_from_channels": False}
        return {**self.state.chat_dict(chat), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}

    def _member(self, chat: Chat, user_id: int) -> JSON:
        if user_id in self.state.bots_by_id:
            bot = self.state.bots_by_id[user_id]
            in_chat = chat.type == "private" or chat.bot_ids is None or user_id in chat.bot_ids
            return {"status": "member" if in_chat else "left", "user": bot.user_dict()}
        user = self.state.users.get(user_id)
        if user is None:
            raise bad_request("PARTICIPANT_ID_INVALID")
        status = "member" if chat.type == "private" else chat.members.get(user_id, "left")
        member: JSON = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(can_be_edited=False, is_anonymous=False, can_manage_chat=True, can_delete_messages=True,
                          can_manage_video_chats=True, can_restrict_members=True, can_promote_members=False,
                          can_change_info=True, can_invite_users=True, can_post_stories=False,
                          can_edit_stories=False, can_delete_stories=False, can_pin_messages=True)
        return member

    async def m__getChatMember(self, bot: Bot, p: Params) -> JSON:
        chat = self._chat(bot, p, sending=False)
        user_id = p.int("user_id")
        if user_id is None:
            raise bad_request("user_id is empty")
        return self._member(chat, user_id)

    async def m__getChatAdministrators(self, bot: Bot, p: Params) -> list[JSON]:
        chat = self._chat(bot, p, sending=False)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        return [self._member(chat, uid) for uid, status in chat.members.items()
                if status in ("creator", "administrator")]


def _formatted(p: Params, raw: str, mode_field: str, entities_field: str) -> tuple[str, list[JSON]]:
    mode = p.str(mode_field)
    if mode:
        return parse(raw, mode)
    entities = p.json(entities_field, "entities")
    if isinstance(entities, list):
        for e in entities:
            if not isinstance(e, dict) or e.get("offset", -1) < 0 or \
                    e.get("offset", 0) + e.get("length", 0) > utf16_len(raw):
                raise bad_request("can't parse entities: entity is out of the text")
        return raw, entities
    return raw, []
