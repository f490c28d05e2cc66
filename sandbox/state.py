"""Everything the emulated Telegram knows: bots, users, chats, messages, files, update queues, event log.

All of it lives in memory and in the event loop of the server; nothing here does I/O.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ApiError, bad_request, forbidden

JSON = dict[str, Any]
CALLBACK_TTL_S = 15 * 60


@dataclass
class Bot:
    token: str
    id: int
    username: str
    first_name: str
    updates: list[JSON] = field(default_factory=list)
    next_update_id: int = 1
    allowed_updates: list[str] | None = None
    webhook_url: str = ""
    webhook_secret: str | None = None
    webhook_error: tuple[int, str] | None = None
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    started: set[int] = field(default_factory=set)
    blocked_by: set[int] = field(default_factory=set)
    poll_generation: int = 0
    wakeup: asyncio.Condition = field(default_factory=asyncio.Condition)

    def user_dict(self) -> JSON:
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}


@dataclass
class Chat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    members: dict[int, str] = field(default_factory=dict)  # user id -> creator/administrator/member/left
    bot_ids: set[int] | None = None  # None: every bot, including bots that appear later
    migrated_to: int | None = None
    next_message_id: int = 1

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")


@dataclass
class Message:
    chat_id: int
    message_id: int
    date: int
    sender: JSON
    bot_id: int  # the bot whose conversation this is (private) or who sent it; 0 for user messages in groups
    outgoing: bool
    content: JSON
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False
    reply_to: int | None = None
    reply_keyboard: JSON | None = None  # a reply keyboard sent with the message (not part of the API object)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    path: str
    mime_type: str | None = None
    file_name: str | None = None
    meta: JSON = field(default_factory=dict)  # the API object (PhotoSize, Document …) sans ids
    siblings: list[str] = field(default_factory=list)  # all file_ids of one photo, small to large


@dataclass
class CallbackQuery:
    id: str
    bot_id: int
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False
    answer: JSON = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class State:
    """The in-memory world. One instance per ``Sandbox``; ``reset()`` empties it."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.bots: dict[str, Bot] = {}
        self.bots_by_id: dict[int, Bot] = {}
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, Chat] = {}
        self.messages: dict[tuple[int, int], Message] = {}
        self.chat_order: dict[int, list[int]] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackQuery] = {}
        self.events: list[JSON] = []
        self.events_changed = asyncio.Condition()
        self._user_ids = itertools.count(10001)
        self._group_ids = itertools.count(4001)
        self._supergroup_ids = itertools.count(1001000000001)
        self._file_seq = itertools.count(1)
        self._media_group_ids = itertools.count(13000000000000001)
        self._seq = 0

    # ---- bots -------------------------------------------------------------------------------------------
    def bot(self, token: str, username: str | None = None, first_name: str | None = None) -> Bot:
        """The bot for a well-formed token, registered on first sight."""
        bot = self.bots.get(token)
        bot_id = int(token.split(":", 1)[0])
        if bot is None:
            bot = Bot(token=token, id=bot_id, username=username or f"sandbox_{bot_id}_bot",
                      first_name=first_name or f"Sandbox bot {bot_id}")
            self.bots[token] = bot
            self.bots_by_id[bot_id] = bot
        else:
            bot.username = username or bot.username
            bot.first_name = first_name or bot.first_name
        return bot

    def default_bot(self, token: str | None) -> Bot:
        if token:
            return self.bot(token)
        if not self.bots:
            raise bad_request("no bot known yet: pass a token or let the bot call getMe first")
        return next(iter(self.bots.values()))

    # ---- users and chats ----------------------------------------------------------------------------------
    def add_user(self, first_name: str, last_name: str | None = None, username: str | None = None,
                 language_code: str | None = None, user_id: int | None = None) -> JSON:
        uid = user_id if user_id is not None else next(self._user_ids)
        while user_id is None and uid in self.users:
            uid = next(self._user_ids)
        user: JSON = {"id": uid, "is_bot": False, "first_name": first_name}
        for key, value in (("last_name", last_name), ("username", username), ("language_code", language_code)):
            if value:
                user[key] = value
        self.users[uid] = user
        self.chats[uid] = Chat(id=uid, type="private", members={uid: "member"})
        return user

    def add_group(self, title: str, member_ids: list[int], admin_ids: list[int] | None = None,
                  supergroup: bool = False, bot_tokens: list[str] | None = None) -> Chat:
        chat_id = -next(self._supergroup_ids) if supergroup else -next(self._group_ids)
        members: dict[int, str] = {}
        for i, uid in enumerate(member_ids):
            self.user(uid)
            members[uid] = "creator" if i == 0 else "member"
        for uid in admin_ids or []:
            self.user(uid)
            if members.get(uid) != "creator":
                members[uid] = "administrator"
        bot_ids = None if bot_tokens is None else {self.bot(t).id for t in bot_tokens}
        chat = Chat(id=chat_id, type="supergroup" if supergroup else "group", title=title, members=members,
                    bot_ids=bot_ids)
        self.chats[chat_id] = chat
        return chat

    def user(self, user_id: int) -> JSON:
        if user_id not in self.users:
            raise bad_request(f"unknown user {user_id}")
        return self.users[user_id]

    def chat_dict(self, chat: Chat) -> JSON:
        if chat.type == "private":
            user = self.users[chat.id]
            return {"id": chat.id, "type": "private",
                    **{k: user[k] for k in ("first_name", "last_name", "username") if k in user}}
        return {"id": chat.id, "type": chat.type, "title": chat.title,
                **({"all_members_are_administrators": False} if chat.type == "group" else {})}

    def bots_in(self, chat: Chat) -> list[Bot]:
        return [b for b in self.bots.values() if chat.bot_ids is None or b.id in chat.bot_ids]

    def chat_for_bot(self, bot: Bot, chat_id: int, *, sending: bool = True) -> Chat:
        """Resolve a chat_id as Telegram would for this bot, raising the errors Telegram gives."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request("group chat was upgraded to a supergroup chat",
                              {"migrate_to_chat_id": chat.migrated_to})
        if chat.type == "private":
            if chat.id in bot.blocked_by and sending:
                raise forbidden("bot was blocked by the user")
            if chat.id not in bot.started:
                raise forbidden("bot can't initiate conversation with a user") if sending else \
                    bad_request("chat not found")
        elif chat.bot_ids is not None and bot.id not in chat.bot_ids:
            raise forbidden(f"bot is not a member of the {'supergroup' if chat.type == 'supergroup' else 'group'}"
                            " chat")
        return chat

    # ---- messages ------------------------------------------------------------------------------------------
    def add_message(self, chat: Chat, sender: JSON, bot_id: int, outgoing: bool, content: JSON,
                    reply_to: int | None = None) -> Message:
        msg = Message(chat_id=chat.id, message_id=chat.next_message_id, date=int(time.time()), sender=sender,
                      bot_id=bot_id, outgoing=outgoing, content=content, reply_to=reply_to)
        chat.next_message_id += 1
        self.messages[(chat.id, msg.message_id)] = msg
        self.chat_order.setdefault(chat.id, []).append(msg.message_id)
        return msg

    def find_message(self, bot: Bot, chat_id: int, message_id: int) -> Message | None:
        msg = self.messages.get((chat_id, message_id))
        if msg is None or msg.deleted:
            return None
        chat = self.chats[chat_id]
        if chat.type == "private" and msg.bot_id != bot.id:
            return None
        return msg

    def render(self, msg: Message, *, with_reply: bool = True) -> JSON:
        """The Bot API Message object for the message's current state."""
        out: JSON = {"message_id": msg.message_id, "from": msg.sender, "chat": self.chat_dict(self.chats[msg.chat_id]),
                     "date": msg.date}
        if msg.edit_date is not None:
            out["edit_date"] = msg.edit_date
        if with_reply and msg.reply_to is not None:
            parent = self.messages.get((msg.chat_id, msg.reply_to))
            if parent is not None and not parent.deleted:
                out["reply_to_message"] = self.render(parent, with_reply=False)
        out.update(msg.content)
        return out

    def transcript_entry(self, msg: Message) -> JSON:
        entry = self.render(msg)
        entry.update(edit_count=msg.edit_count, deleted=msg.deleted, outgoing=msg.outgoing, bot_id=msg.bot_id)
        if msg.reply_keyboard:
            entry["reply_keyboard"] = msg.reply_keyboard
        return entry

    # ---- files ----------------------------------------------------------------------------------------------
    def add_file(self, data: bytes, folder: str, ext: str, meta: JSON | None = None, mime_type: str | None = None,
                 file_name: str | None = None) -> StoredFile:
        digest = hashlib.sha256(data).digest()
        unique = "AQAD" + base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")
        file_id = "BQAC" + secrets.token_urlsafe(30)
        path = f"{folder}/file_{next(self._file_seq)}.{ext}"
        stored = StoredFile(file_id=file_id, file_unique_id=unique, data=data, path=path, mime_type=mime_type,
                            file_name=file_name, meta=dict(meta or {}))
        self.files[file_id] = stored
        self.files_by_path[path] = stored
        return stored

    def file(self, file_id: str) -> StoredFile:
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def api_file(self, stored: StoredFile) -> JSON:
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, **stored.meta}

    def new_media_group_id(self) -> str:
        return str(next(self._media_group_ids))

    # ---- updates ---------------------------------------------------------------------------------------------
    async def enqueue(self, bot: Bot, kind: str, payload: JSON) -> None:
        """Queue an update of ``kind`` (message, callback_query, my_chat_member …) for ``bot``."""
        if bot.allowed_updates and kind not in bot.allowed_updates:
            return
        bot.updates.append({"update_id": bot.next_update_id, kind: payload})
        bot.next_update_id += 1
        async with bot.wakeup:
            bot.wakeup.notify_all()  # wakes a long poll or the webhook delivery task

    # ---- event log ---------------------------------------------------------------------------------------------
    async def log_event(self, kind: str, chat_id: int, bot_id: int, **data: Any) -> JSON:
        self._seq += 1
        event: JSON = {"seq": self._seq, "kind": kind, "chat_id": chat_id, "bot_id": bot_id,
                       "time": time.time(), **data}
        self.events.append(event)
        async with self.events_changed:
            self.events_changed.notify_all()
        return event

    @property
    def last_seq(self) -> int:
        return self._seq

    async def wait_events(self, after: int, chat_id: int | None, timeout: float,
                          kinds: frozenset[str] | None = None) -> list[JSON]:
        """Events after ``after`` (of ``chat_id`` and ``kinds`` when given), waiting up to ``timeout`` for one."""
        def matching() -> list[JSON]:
            return [e for e in self.events[after if after >= 0 else 0:]
                    if e["seq"] > after and (chat_id is None or e["chat_id"] == chat_id)
                    and (kinds is None or e["kind"] in kinds)]

        found = matching()
        if found or timeout <= 0:
            return found
        try:
            async with asyncio.timeout(timeout), self.events_changed:
                await self.events_changed.wait_for(lambda: bool(matching()))
        except TimeoutError:
            pass
        return matching()

    # ---- callback queries ------------------------------------------------------------------------------------
    def new_callback(self, bot: Bot, user_id: int, msg: Message, data: str) -> CallbackQuery:
        query = CallbackQuery(id=str(secrets.randbits(62)), bot_id=bot.id, user_id=user_id, chat_id=msg.chat_id,
                              message_id=msg.message_id, data=data, created=time.monotonic())
        self.callbacks[query.id] = query
        return query

    def open_callback(self, bot: Bot, query_id: str) -> CallbackQuery:
        query = self.callbacks.get(query_id)
        if (query is None or query.bot_id != bot.id or query.answered
                or time.monotonic() - query.created > CALLBACK_TTL_S):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return query
