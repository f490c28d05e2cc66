"""Fuzzing the bot with generated Telegram updates: Hypothesis strategies and the harness that feeds them through
the real Application (``Application.process_update`` with updates built from JSON, replies going to the
emulator). Used by tests/e2e/test_fuzz.py (bounded) and bench/fuzz_bench.py (more examples).

What is generated (``updates()``): messages of every content type the bot may meet (text — commands, the
catalogue's button words, very long and odd Unicode —, photos real, malformed and claiming huge sizes, albums,
documents, stickers, voice, video, audio, animation, contacts, dice, locations in and out of range, venues,
service messages), with optional fields left out or odd (no language, no username, a bot as sender, an
anonymous admin writing as the group), edited messages, channel posts, callback queries with random data or
replayed from buttons the bot really drew, my_chat_member changes; from known and unknown users, in private
chats, the city's bound groups, an unbound group and a channel.

Properties checked after every update:

1. no exception reaches the error handler (a second handler records them);
2. every ticket is in a state of the lifecycle and its events walk it (bench/invariants.py);
3. every resident's message gets an answer, unless it is *deliberately ignored*. Deliberately ignored are:
   edited messages and channel posts (the bot acts on what is sent, not on corrections: a changed description
   must go through /my); anything from a bot; service messages (members joining or leaving, pins); in group
   chats everything but the commands in ``GROUP_ANSWERED`` and answers to a question the bot asked there (group
   talk is not for the bot; the administrators' commands are private, and an unknown one may be another
   bot's); and a message the per-user rate limit swallowed after its one polite notice. An answer is any message
   or edit by the bot in that chat within ``ANSWER_WAIT_S`` (real seconds; albums are answered after they
   settle).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st
from telegram import Update

from bench.invariants import InvariantReport, check_event_chains
from bot.clock import FakeClock
from bot.config import Config
from bot.domain.lifecycle import TicketState
from bot.texts import Texts
from sandbox.local import LocalSandbox
from sandbox.state import Bot

ANSWER_WAIT_S = 3.0
CHANNEL_ID = -1009999999999
ANON_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
COMMANDS = ("/start", "/help", "/new", "/cancel", "/status", "/my", "/lang", "/code", "/bindings", "/unbind",
            "/liaison", "/supervisor", "/reload", "/bind", "/ticket", "/open", "/report", "/nonsense")
#: Commands the bot answers in a group: its group commands and a resident's private ones (told to write
#: privately). The administrators' private commands and unknown ones (perhaps another bot's) are ignored there.
GROUP_ANSWERED = frozenset({"help", "new", "start", "cancel", "my", "lang", "status", "bind", "ticket", "open",
                            "report"})
_TEXTS = Texts()
#: Words a resident may type that the bot's keyboards use (reply keyboards send them as text).
BUTTON_WORDS = tuple(sorted({_TEXTS.get(lang, key) for lang in ("zh", "en") for key in (
    "intake.btn_no_photos", "intake.btn_confirm", "intake.btn_next")}))


# ---- strategies ------------------------------------------------------------------------------------------------

odd_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=60)
long_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=4000, max_size=5000)
texts = st.one_of(
    odd_text.filter(str.strip),
    long_text,
    st.sampled_from(BUTTON_WORDS) if BUTTON_WORDS else odd_text,
    st.tuples(st.sampled_from(COMMANDS), st.sampled_from(("", " ", " 123456789", " 000 000 001", " x" * 40,
                                                           " <b>&amp;", " 🙂", "@complaint_sandbox_bot")))
    .map(lambda p: p[0] + p[1]),
    st.just("\u200b\u202e\ufeff"), st.just("😀" * 300), st.just("<script>alert(1)</script> & \"'"),
)


@dataclass
class World:
    """Who and where the generated updates come from (filled by the harness from the emulator)."""

    users: list[dict[str, Any]]
    groups: list[int]  # bound groups, then an unbound one
    photos: list[list[dict[str, Any]]]  # stored PhotoSize lists: real pictures and malformed bytes
    documents: list[dict[str, Any]]
    replayed: list[str] = field(default_factory=list)  # callback data the bot really drew


def _user(draw: st.DrawFn, world: World) -> dict[str, Any]:
    user = dict(draw(st.sampled_from(world.users)))
    if draw(st.booleans()):
        user.pop("language_code", None)
    if draw(st.integers(0, 9)) == 0:
        user["language_code"] = draw(st.sampled_from(("xx", "zh-hans", "en-GB", "", "pt-br")))
    if draw(st.integers(0, 9)) == 0:
        user["first_name"] = draw(odd_text.filter(str.strip) | long_text.map(lambda t: t[:64]))
    return user


@st.composite
def message_content(draw: st.DrawFn, world: World) -> dict[str, Any]:
    kind = draw(st.sampled_from(("text", "text", "text", "photo", "album", "document", "sticker", "voice",
                                 "video", "audio", "animation", "contact", "dice", "location", "venue",
                                 "new_members", "left_member", "pinned", "caption_only_document")))
    if kind == "text":
        return {"text": draw(texts)}
    if kind in ("photo", "album"):
        sizes = [dict(s) for s in draw(st.sampled_from(world.photos))]
        if draw(st.booleans()):
            sizes[-1]["file_size"] = draw(st.sampled_from((0, 25 * 1024 * 1024, 2 ** 31)))
        out: dict[str, Any] = {"photo": sizes}
        if draw(st.booleans()):
            out["caption"] = draw(odd_text.filter(str.strip))
        if kind == "album":
            out["media_group_id"] = str(draw(st.integers(1, 5)))
        return out
    if kind in ("document", "caption_only_document"):
        doc = dict(draw(st.sampled_from(world.documents)))
        if draw(st.booleans()):
            doc["file_size"] = draw(st.sampled_from((0, 21 * 1024 * 1024, 2 ** 40)))
        if draw(st.booleans()):
            doc.pop("mime_type", None)
        if draw(st.booleans()):
            doc["file_name"] = draw(odd_text)
        return {"document": doc, **({"caption": draw(odd_text)} if kind == "caption_only_document" else {})}
    file_ref = {"file_id": "BQACfuzz" + str(draw(st.integers(0, 99))), "file_unique_id": "AQADfuzz"}
    if kind == "sticker":
        return {"sticker": {**file_ref, "type": "regular", "width": 512, "height": 512, "is_animated": False,
                            "is_video": False, **({"emoji": "🙂"} if draw(st.booleans()) else {})}}
    if kind == "voice":
        return {"voice": {**file_ref, "duration": draw(st.integers(0, 10 ** 6))}}
    if kind == "video":
        return {"video": {**file_ref, "width": 1, "height": 1, "duration": 1}}
    if kind == "audio":
        return {"audio": {**file_ref, "duration": 3}}
    if kind == "animation":
        return {"animation": {**file_ref, "width": 1, "height": 1, "duration": 1}}
    if kind == "contact":
        return {"contact": {"phone_number": draw(st.sampled_from(("+8613800000000", "", "123"))),
                            "first_name": draw(odd_text.filter(str.strip))}}
    if kind == "dice":
        return {"dice": {"emoji": "🎲", "value": draw(st.integers(1, 6))}}
    point = {"latitude": draw(st.floats(-90, 90)), "longitude": draw(st.floats(-180, 180))}
    if draw(st.booleans()):
        point = {"latitude": draw(st.floats(32.5, 33.2)), "longitude": draw(st.floats(115.5, 116.2))}
    if kind == "location":
        return {"location": point}
    if kind == "venue":
        return {"location": point, "venue": {"location": point, "title": draw(odd_text.filter(str.strip)),
                                             "address": draw(odd_text.filter(str.strip))}}
    member = _user(draw, world)
    if kind == "new_members":
        return {"new_chat_members": [member]}
    if kind == "left_member":
        return {"left_chat_member": member}
    return {"pinned_message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}


@st.composite
def update_payload(draw: st.DrawFn, world: World) -> tuple[str, dict[str, Any]]:
    """(the update's kind, its payload): one generated update."""
    kind = draw(st.sampled_from(("message", "message", "message", "message", "edited_message", "channel_post",
                                 "callback_query", "callback_query", "my_chat_member")))
    user = _user(draw, world)
    if kind == "channel_post":
        chat = {"id": CHANNEL_ID, "type": "channel", "title": "频道"}
        return kind, {"message_id": draw(st.integers(1, 10 ** 6)), "date": 0, "chat": chat,
                      **draw(message_content(world))}
    if kind == "my_chat_member":
        status = draw(st.sampled_from(("member", "kicked", "left")))
        bot = {"id": 4242, "is_bot": True, "first_name": "bot"}
        return kind, {"chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
                      "from": user, "date": 0, "old_chat_member": {"status": "member", "user": bot},
                      "new_chat_member": {"status": status, "user": bot,
                                          **({"until_date": 0} if status == "kicked" else {})}}
    in_group = draw(st.integers(0, 3)) == 0
    if in_group:
        chat = {"id": draw(st.sampled_from(world.groups)), "type": "group", "title": draw(odd_text)}
    else:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    if kind == "callback_query":
        # replayed data comes from buttons drawn so far: an index, so the draws stay the same as the list grows
        how, index, forged = draw(st.integers(0, 2)), draw(st.integers(0, 10 ** 6)), draw(st.text(max_size=64))
        seen = world.replayed[index % len(world.replayed)] if world.replayed else "x"
        data = forged if how == 0 else seen if how == 1 else seen[:-1] + "9"
        return kind, {"id": "0", "from": user, "chat_instance": "1", "data": data,
                      "message": {"message_id": 0, "date": 0, "chat": chat, "text": "·"}}
    payload: dict[str, Any] = {"message_id": draw(st.integers(1, 10 ** 6)), "date": 0, "chat": chat,
                               **draw(message_content(world))}
    sender = draw(st.sampled_from(("user", "user", "user", "bot", "anonymous"))) if in_group else "user"
    if sender == "user":
        payload["from"] = user
    elif sender == "bot":
        payload["from"] = {"id": 777000 + draw(st.integers(0, 9)), "is_bot": True, "first_name": "other bot"}
    else:
        payload["from"], payload["sender_chat"] = ANON_ADMIN, {"id": chat["id"], "type": "group", "title": "g"}
    if kind == "edited_message":
        payload["edit_date"] = 1
    if "text" in payload and payload["text"].startswith("/"):
        length = len(payload["text"].split(" ", 1)[0].split("@", 1)[0])
        payload["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return kind, payload


def update_lists(world: World, max_size: int = 6) -> st.SearchStrategy[list[tuple[str, dict[str, Any]]]]:
    return st.lists(update_payload(world), min_size=1, max_size=max_size)


# ---- the harness -----------------------------------------------------------------------------------------------

@dataclass
class FuzzStats:
    examples: int = 0
    updates: int = 0
    answered: int = 0
    ignored: Counter[str] = field(default_factory=Counter)


class FuzzHarness:
    """A LocalSandbox (emulator and the real Application) running in its own thread's event loop, so that
    Hypothesis (synchronous) can feed it one example at a time: ``feed(updates)`` returns what went wrong."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.clock = FakeClock()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-loop", daemon=True)
        self.local: LocalSandbox | None = None
        self.errors: list[tuple[object, BaseException]] = []
        self.stats = FuzzStats()
        self.world: World | None = None
        self._update_id = 10 ** 6

    def __enter__(self) -> FuzzHarness:
        self.thread.start()
        self._run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self._run(self.local.stop())  # type: ignore[union-attr]
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self, coro: Any, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> None:
        from sandbox import content
        from tests.images import jpeg

        self.local = LocalSandbox(self.config, clock=self.clock)
        await self.local.start()
        assert self.local.runner is not None and self.local.client is not None
        self.local.runner.app.add_error_handler(self._record_error)
        client, state = self.local.client, self.local.sandbox.state
        users = [await client.create_user(name, language_code=lang) for name, lang in (
            ("王芳", "zh"), ("Alice", "en"), ("张伟", None), ("Ωμέγα", "el"), ("\u202e反转", "zh"))]
        self.bot: Bot = state.bot(self.local.token)
        self.bot.started.update(u["id"] for u in users)
        unbound = await client.create_group("无关的群", [u["id"] for u in users])
        bound = [int(g["id"]) for g in self.local.groups.values()][:3]
        real = content.store_photo(state, jpeg())
        garbage = state.add_file(b"\xff\xd8\xff not really a jpeg", "photos", "jpg",
                                 {"width": 10, "height": 10, "file_size": 27}, mime_type="image/jpeg")
        empty = state.add_file(b"", "photos", "jpg", {"width": 1, "height": 1, "file_size": 0},
                               mime_type="image/jpeg")
        documents = [content.store_document(state, jpeg(), "photo.jpg", "image/jpeg"),
                     content.store_document(state, b"%PDF-1.4 broken", "a.pdf", "application/pdf"),
                     content.store_document(state, b"\x00" * 100, "x.jpg", "image/jpeg")]
        self.world = World(users=users, groups=[*bound, int(unbound["id"])],
                           photos=[real, [state.api_file(garbage)], [state.api_file(empty)]],
                           documents=documents)

    async def _record_error(self, update: object, context: Any) -> None:
        self.errors.append((update, context.error))

    def feed(self, updates: list[tuple[str, dict[str, Any]]]) -> list[str]:
        """Process the updates in order; the problems found (empty when every property held)."""
        self.stats.examples += 1
        return self._run(self._feed(updates))

    async def _feed(self, updates: list[tuple[str, dict[str, Any]]]) -> list[str]:
        assert self.local is not None and self.local.runner is not None and self.world is not None
        app, state, problems = self.local.runner.app, self.local.sandbox.state, []
        for kind, payload in updates:
            payload = self._materialise(kind, payload)
            self._update_id += 1
            update = Update.de_json({"update_id": self._update_id, kind: payload}, app.bot)
            before, errors_before = state.last_seq, len(self.errors)
            throttled = self._throttled(kind, payload)  # before: the limit is already full, so this one is dropped
            await app.process_update(update)
            self.stats.updates += 1
            for _, error in self.errors[errors_before:]:
                problems.append(f"{kind} reached the error handler: {type(error).__name__}: {error}"[:300])
            why_ignored = deliberately_ignored(kind, payload) or throttled
            if why_ignored:
                self.stats.ignored[why_ignored] += 1
            elif not errors_before < len(self.errors):
                chat_id = payload["chat"]["id"] if kind == "message" else payload["message"]["chat"]["id"]
                answered = await state.wait_events(before, chat_id if kind == "message" else None, ANSWER_WAIT_S,
                                                   frozenset({"message", "edit", "callback_answer"}))
                if answered:
                    self.stats.answered += 1
                else:
                    problems.append(f"no answer to a resident's {kind}: {_describe(payload)}")
            self._remember_buttons(state, before)
        problems += await self._check_tickets()
        return problems

    def _throttled(self, kind: str, payload: dict[str, Any]) -> str | None:
        """The per-user limit of messages a minute will swallow it (it is full already): the fuzzer's clock does
        not move, so a user the examples pick often reaches it; the limit answers once per burst, then is silent."""
        assert self.local is not None and self.local.runner is not None
        if kind != "message" or not (payload.get("from") or {}).get("id"):
            return None
        limit = self.local.runner.services.message_limit
        return "rate limit" if limit.retry_in(payload["from"]["id"], self.clock.now()) > timedelta(0) else None

    def _materialise(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """What Telegram would hold for the update: a message is in its chat (the bot replies to it, so its
        message_id is the emulator's); a callback query has a real query id and message to answer and edit."""
        assert self.local is not None
        state = self.local.sandbox.state
        if kind in ("message", "edited_message"):
            chat = state.chats.get(payload["chat"]["id"])
            if chat is None:
                return payload
            body = {k: v for k, v in payload.items() if k not in ("message_id", "date", "chat", "from")}
            owner = self.bot.id if chat.type == "private" else 0
            msg = state.add_message(chat, payload.get("from") or {}, owner, False, body)
            return {**payload, "message_id": msg.message_id}
        if kind != "callback_query":
            return payload
        chat = state.chats[payload["message"]["chat"]["id"]]
        msg = state.add_message(chat, self.bot.user_dict(), self.bot.id, True, {"text": "·"})
        query = state.new_callback(self.bot, payload["from"]["id"], msg, payload["data"])
        return {**payload, "id": query.id, "message": state.render(msg)}

    def _remember_buttons(self, state: Any, after: int) -> None:
        assert self.world is not None
        for event in state.events[after:]:
            markup = (event.get("message") or {}).get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    if data and data not in self.world.replayed:
                        self.world.replayed.append(data)

    async def _check_tickets(self) -> list[str]:
        assert self.local is not None and self.local.db is not None
        report = InvariantReport()

        def check(c: Any) -> None:
            states = {s.value for s in TicketState}
            for number, state in c.execute("SELECT number, state FROM tickets"):
                if state not in states:
                    report.fail(f"ticket {number} is in {state!r}, no state of the lifecycle")
            check_event_chains(c, report)

        await self.local.db.read(check)
        return report.violations


def deliberately_ignored(kind: str, payload: dict[str, Any]) -> str | None:
    """Why the bot need not answer this update (None: it must). See the module's docstring."""
    if kind in ("edited_message", "channel_post", "my_chat_member"):
        return kind
    if kind == "callback_query":
        return None
    sender = payload.get("from") or {}
    if sender.get("is_bot"):
        return "from a bot"
    if any(k in payload for k in ("new_chat_members", "left_chat_member", "pinned_message")):
        return "service message"
    if payload["chat"]["type"] != "private":
        text = payload.get("text") or ""
        if not text.startswith("/"):
            return "group talk"
        name = text[1:].split(" ", 1)[0].split("@", 1)[0]
        if name not in GROUP_ANSWERED:
            return "group command not for groups"
    return None


def _describe(payload: dict[str, Any]) -> str:
    kinds = [k for k in payload if k not in ("message_id", "date", "chat", "from", "entities")]
    text = payload.get("text") or payload.get("caption") or ""
    return f"{payload.get('chat', {}).get('type')} {kinds} {text[:40]!r}"
