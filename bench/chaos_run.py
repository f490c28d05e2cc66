"""Crash-restart chaos: `complaint-bot run` as a separate process under scripted residents and liaisons, killed
with SIGKILL at seeded random instants and restarted each time; then the invariants of `bench/chaos_invariants.py`.

Used by the bounded test (tests/e2e/test_chaos.py, a few kills) and by `bench/chaos_bench.py` (20+ kills).

Several instances (`ChaosPlan.instances`, on a PostgreSQL `database`, webhook mode): N `run --webhook` processes
share the database behind a `front` (nginx in tests/e2e/test_multi_instance.py) that the emulator posts to; each
kill picks one instance at random and restarts it. Then also: each chat's replies in order, no 429 under the
emulator's Telegram-like flood limits (`flood_limits`), and the sweep once per interval (counted from the
instances' logs, one line per run).

The people act as people would: each looks at the bot's latest message in their chat, does what it asks, and
when no answer comes within `patience_s` (real time: the bot may be dead) looks again and repeats. Nothing here
asserts on time; the harness only waits for the world to settle.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import random
import re
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.chaos_invariants import Figures, check, due_now
from bot.config import load_config
from bot.texts import Texts
from sandbox.client import Person, SandboxClient, SandboxError
from sandbox.limits import FloodConfig
from sandbox.server import Sandbox
from storage import chats
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "4343:chaos_local_token_not_a_secret"
WEBHOOK_SECRET = "chaos_webhook_secret_not_a_secret"
STATION = (32.8906, 115.8149)
#: Where the residents stand, in turn: the station (颍州区) and a point inside five other districts, so the load
#: spreads over six units' liaisons instead of queueing behind one.
POINTS = (STATION, (33.0219, 115.6999), (32.9351, 116.0066), (33.2638, 115.3845), (32.8724, 115.2978),
          (33.3306, 115.677))
_TAG = re.compile(r"</?(?:b|i|code|u|s|a)(?:\s[^>]*)?>")
_NUMBER = re.compile(r"\b(\d{3} \d{3} \d{3})\b")
_TEXTS = Texts()
#: A liaison leaves a button alone after pressing it this often with no change to its message.
GIVE_UP_AFTER = 6


def zh(key: str, **params: object) -> str:
    """A catalogue text as the person reads it (HTML parsed away)."""
    return html.unescape(_TAG.sub("", _TEXTS.get("zh", key, **params)))


def first(key: str, **params: object) -> str:
    return zh(key, **params).splitlines()[0]


@dataclass(frozen=True)
class ChaosPlan:
    residents: int = 6
    kills: int = 3
    seed: int = 9
    #: A kill lands this long (uniform, seconds) after the previous start of the bot.
    kill_after_s: tuple[float, float] = (1.0, 4.0)
    #: How long a person waits for an answer before looking again and repeating (real time).
    patience_s: float = 3.0
    #: After the last kill: how long the people may take to finish (a bound for the harness, not an assertion).
    finish_within_s: float = 90.0
    #: `run --webhook`: the emulator delivers by webhook into the bot's inbox instead of being polled.
    webhook: bool = False
    #: How many bot processes share the database (more than one: webhook mode on PostgreSQL, behind a front).
    instances: int = 1
    #: The emulator answers 429 past Telegram's limits (30 messages/s per bot, 20/min per group).
    flood_limits: bool = False
    #: ``[reminders] sweep_interval_s`` (None: the default), short so a bounded run sees many sweeps.
    sweep_interval_s: int | None = None
    #: After the people finished: how long the instances keep running before they are stopped (real time), so
    #: the sweep is seen running in steady state too, not only between kills.
    linger_s: float = 0.0


@dataclass
class ChaosResult:
    figures: Figures
    kills: int
    restarts: int
    wall_s: float
    repeats: int
    confirmed: dict[int, set[str]]
    finished: int
    residents: int
    untracked_taps: int
    drafts_at_kills: list[set[int]] = field(default_factory=list)
    record: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def write_config(path: Path, db: Path | str, server_url: str, webhook_port: int | None = None,
                 public_url: str = "", sweep_interval_s: int | None = None, rate_limiter: bool = True) -> Path:
    """The smallest config the bot runs with, pointed at the emulator; limits raised for a load of residents.
    With `webhook_port`: the webhook server's table (the same port at every restart, as behind a proxy), and
    `public_url` the address Telegram posts to (the front) when there is one. `rate_limiter=False`: no client-side
    pacing under Telegram's limits (a throughput bench against the emulator, as bench/intake_bench.py)."""
    hook = f"[telegram.webhook]\nlisten_port = {webhook_port}\n" if webhook_port else ""
    if hook and public_url:
        hook += f'url = "{public_url}"\n'
    if sweep_interval_s:
        hook += f"[reminders]\nsweep_interval_s = {sweep_interval_s}\n"
    path.write_text(f"""
city = "{ROOT / 'examples/fuyang/city.toml'}"
[telegram]
base_url = "{server_url}/bot"
base_file_url = "{server_url}/file/bot"
poll_timeout_s = 1
{"" if rate_limiter else "rate_limiter = false"}
[storage]
database = "{db}"
[limits]
tickets_per_day = 50
messages_per_minute = 1000
[outbox]
poll_interval_s = 0.2
backoff_base_s = 0.5
{hook}""", encoding="utf-8")
    return path


class BotProcess:
    """`python -m bot.cli run` against the emulator; killed with SIGKILL and started again."""

    def __init__(self, config: Path, log: Path, webhook: bool = False, env: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        self.config = config
        self.port = port
        self.log = log
        self.webhook = webhook
        self.env = env or {}
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
               "PYTHONPATH": str(ROOT), **self.env}
        mode = ["--webhook"] if self.webhook else []
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", "--config", str(self.config), *mode, env=env,
                stdout=out, stderr=out, cwd=ROOT)
        self.starts += 1

    async def listening(self, within_s: float = 60.0) -> None:
        """Until its webhook server accepts connections (it is up: stored updates are processed)."""
        deadline = time.monotonic() + within_s
        while self.port and time.monotonic() < deadline and self.running:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            await asyncio.sleep(0.1)

    async def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()

    async def stop(self) -> int:
        """SIGTERM, as an operator stops it; the exit code."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        return await asyncio.wait_for(self.proc.wait(), 60)


def bot_processes(work: Path, db: Path | str, server_url: str, ports: list[int | None], public: str = "",
                  webhook: bool = False, sweep_interval_s: int | None = None,
                  rate_limiter: bool = True) -> list[BotProcess]:
    """One BotProcess per port (not started), each with its config (work/chaos{i}.toml) and log (work/bot{i}.log),
    all on `db`; also used by bench/pg_bench.py's multi-instance intake."""
    # A few pooled connections per instance: N instances share the server's max_connections (see the README).
    pool = {"COMPLAINT_BOT_DB_POOL": "4"} if isinstance(db, str) else {}
    return [BotProcess(write_config(work / f"chaos{i or ''}.toml", db, server_url, port, public, sweep_interval_s,
                                    rate_limiter),
                       work / f"bot{i or ''}.log", webhook, pool, port) for i, port in enumerate(ports)]


class World:
    """The emulator with the city's group chats bound to their units, and the people's shared tallies."""

    def __init__(self, server: Sandbox, client: SandboxClient, patience_s: float) -> None:
        self.server = server
        self.client = client
        self.patience_s = patience_s
        self.repeats = 0
        self.untracked_taps = 0
        self.refused: list[str] = []

    async def settle(self, person: Person, chat: int, seen: int, patience_s: float | None = None) -> bool:
        """Wait up to `patience_s` for a bot message or edit in `chat` after event `seen`, then until the chat
        is quiet for a moment (a step's messages arrive together); False when nothing came."""
        deadline = time.monotonic() + (patience_s or self.patience_s)
        while True:  # the person's own messages and the answers to presses are events too: pass over them
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.repeats += 1
                return False
            events = await self.client.events(chat, seen, remaining)
            if [e for e in events if e["kind"] in ("message", "edit")]:
                break
            seen = max((e["seq"] for e in events), default=seen)
        while events:
            seen = max(e["seq"] for e in events)
            events = await self.client.events(chat, seen, 0.3)
        return True


def _buttons(message: dict[str, Any]) -> list[str]:
    return [b.get("text", "") for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row if "callback_data" in b]


def _text(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


async def _latest(client: SandboxClient, chat: int) -> dict[str, Any] | None:
    for message in reversed(await client.messages(chat)):
        if message.get("outgoing") and not message.get("deleted"):
            return message
    return None


async def resident(world: World, person: Person, index: int, confirmed: set[str], done: asyncio.Event) -> None:
    """File one complaint, then rate the answer when it comes; repeat a step whenever no answer comes."""
    client, chat = world.client, person.private
    rng = random.Random(index)
    lat, lon = POINTS[index % len(POINTS)]
    point = (lat + rng.uniform(-0.002, 0.002), lon + rng.uniform(-0.002, 0.002))
    description = f"第 {index} 号路灯白天一直亮着，晚上却不亮，已经一个星期了。"
    unanswered = 0  # steps in a row that got no answer
    waiting_since = 0.0  # when the person pressed 提交 (0: not waiting for a confirmation)
    registered, closed = first("notice.registered", number="", raw_number="", category="", dispatched=""), None
    while True:
        seen = await client.seq()
        messages = [m for m in await client.messages(chat) if m.get("outgoing")]
        for m in messages:
            found = _NUMBER.search(_text(m))
            if registered in _text(m) and found:
                confirmed.add(found.group(1).replace(" ", ""))
                closed = zh("notify.closed", number=found.group(1))
        if closed and any(closed in _text(m) for m in messages):
            done.set()
            return
        latest = next((m for m in reversed(messages) if not m.get("deleted")), None)
        text, buttons = (_text(latest), _buttons(latest)) if latest else ("", [])
        if closed:  # filed: wait for the answer, then rate it
            for label in (zh("rates.btn_solved"), zh("rates.btn_satisfied")):
                if any(label in _buttons(m) for m in messages):
                    with contextlib.suppress(SandboxError, aiohttp.ClientError):
                        await _press(person, messages, label)
                    break
            await world.settle(person, chat, seen)
            continue
        confirm_shown = any(zh("intake.btn_confirm") in _buttons(m) for m in messages[-3:])
        if waiting_since and not confirm_shown and time.monotonic() - waiting_since < 10 * world.patience_s:
            await world.settle(person, chat, seen)  # pressed 提交: a person waits for the number, not /new
            continue
        waiting_since = time.monotonic() if confirm_shown else 0.0
        try:
            if unanswered >= 2:  # the same step twice without an answer (a stale button's alert): start again
                await person.say("/new")  # ... which resumes the draft at its step
            else:
                await _step(person, messages, text, buttons, point, description)
        except (SandboxError, aiohttp.ClientError) as error:  # the emulator refused (a stale button): look again
            world.refused.append(repr(error))
        unanswered = 0 if await world.settle(person, chat, seen) or unanswered >= 2 else unanswered + 1


async def _step(person: Person, messages: list[dict[str, Any]], text: str, buttons: list[str],
                point: tuple[float, float], description: str) -> None:
    """What the bot's latest message asks for."""
    recent = messages[-3:]  # the summary may be followed by the open cases nearby, with their own buttons
    if zh("intake.submitted") in text:
        return  # confirmed: the confirmation is on its way through the outbox
    if "城市管理" in buttons:
        await _press(person, messages, "城市管理")
    elif first("intake.ask_location") in text:
        await person.share_location(*point)
    elif first("intake.ask_photos", max=0).split("（")[0] in text:
        await person.say(zh("intake.btn_no_photos"))
    elif first("intake.ask_description", min=0, max=0).split("（")[0] in text:
        await person.say(description)
    elif any(zh("intake.btn_confirm") in _buttons(m) for m in recent):
        await _press(person, recent, zh("intake.btn_confirm"))
    else:  # anything else (a lost reply, a stale button, nothing yet): ask again, as a person would
        await person.say("/new")


async def _press(person: Person, messages: list[dict[str, Any]], label: str, chat: int | None = None) -> None:
    """Press the button on the latest message that has it, without waiting for the answer (the bot may be dead:
    the person sees what changes, or looks again)."""
    await person.client.press(person.id, person.private if chat is None else chat,
                              _with(messages, label)["message_id"], button_text=label)


def _with(messages: list[dict[str, Any]], label: str) -> dict[str, Any]:
    return next(m for m in reversed(messages) if label in _buttons(m))


async def liaison(world: World, person: Person, chat: int, stop: asyncio.Event) -> None:
    """Sign for every card that offers it and resolve it with an answer; a button that keeps answering no
    (an untracked copy of a card, whose buttons nobody redraws) is left alone after a few tries."""
    client = world.client
    sign, resolve, ask = "签收", "办结", first("ask.resolve_answer")
    tried: dict[tuple[int, int, str], int] = {}  # (message, its edits, button) -> presses
    reply = "已安排维修人员更换了路灯控制器，今晚起恢复正常。"
    while not stop.is_set():
        seen = await client.seq()
        messages = [m for m in await client.messages(chat) if m.get("outgoing") and not m.get("deleted")]
        latest = messages[-1] if messages else None
        if latest is not None and ask in _text(latest):
            await person.say(reply, chat=chat)
            await world.settle(person, chat, seen)
            continue
        target = next(((m, label) for m in messages for label in (sign, resolve)
                       if label in _buttons(m) and tried.get(_tap_key(m, label), 0) < GIVE_UP_AFTER), None)
        if target is None:
            await client.events(chat, seen, 1.0)
            continue
        message, label = target
        key = _tap_key(message, label)
        tried[key] = tried.get(key, 0) + 1
        if tried[key] == GIVE_UP_AFTER:
            world.untracked_taps += 1
            world.refused.append(f"left alone: {label} on {chat}/{key[0]} ({_text(message)[:30]!r})")
        pressed: dict[str, Any] = {}
        with contextlib.suppress(SandboxError, aiohttp.ClientError):
            query = await client.press(person.id, chat, message["message_id"], button_text=label)
            pressed = await client.callback_answer(query, world.patience_s)
        if not pressed.get("answered"):  # the bot is down or lost the press: look again, press again
            world.repeats += 1
            await client.events(chat, seen, world.patience_s)
            continue
        await world.settle(person, chat, seen, patience_s=1.0)


def _tap_key(message: dict[str, Any], label: str) -> tuple[int, int, str]:
    return message["message_id"], message.get("edit_count", 0), label


def _select(db: Path | str, sql: str) -> list[Any]:
    """Rows of one query, read from outside the bot (the SQLite file read-only, or a PostgreSQL connection)."""
    if isinstance(db, str):
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            return conn.execute(sql).fetchall()  # type: ignore[arg-type]
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as c:
        return c.execute(sql).fetchall()


def _drafts(db: Path | str) -> set[int]:
    return {row[0] for row in _select(db, "SELECT user_id FROM drafts")}


def emulator_record(server: Sandbox) -> list[dict[str, Any]]:
    """Every message the bot delivered, as the emulator holds it (chat, message id, text, edits)."""
    state = server.state
    return [{"chat_id": m.chat_id, "message_id": m.message_id, "text": _text(m.content),
             "edit_count": m.edit_count, "deleted": m.deleted}
            for m in state.messages.values() if m.outgoing]


#: Given the instances' local ports, runs the front (a load balancer) and yields the URL Telegram posts to.
Front = Callable[[list[int]], contextlib.AbstractContextManager[str]]


async def run_chaos(plan: ChaosPlan, work: Path, progress: Callable[[str], None] = lambda line: None, *,
                    database: str | None = None, front: Front | None = None) -> ChaosResult:
    """The whole run: world, bot process(es), people, kills, the finish, the invariants. `database`: a
    PostgreSQL URL (default: a SQLite file in `work`); `front`: a load balancer before the instances."""
    if plan.instances > 1 and not (plan.webhook and database and front):
        raise ValueError("several instances need webhook mode, a PostgreSQL database and a front")
    began = time.monotonic()
    work.mkdir(parents=True, exist_ok=True)
    db: Path | str = database or work / "chaos.sqlite3"
    ports = [_free_port() for _ in range(plan.instances)] if plan.webhook else [None]
    stack = contextlib.ExitStack()
    public = stack.enter_context(front([p for p in ports if p])) if front else ""  # may skip: nothing started yet
    server = Sandbox()
    await server.start(port=0)
    if plan.flood_limits:
        server.flood.configure(FloodConfig(enabled=True))
    client = SandboxClient(server.url, token=TOKEN)
    bots = bot_processes(work, db, server.url, ports, public, plan.webhook, plan.sweep_interval_s)
    bot = bots[0]
    stop_liaisons = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        await client.create_bot(TOKEN, username="chaos_bot")
        config = load_config(work / "chaos.toml")
        world = World(server, client, plan.patience_s)
        liaisons = await _bind_groups(client, config, db)
        for one in bots:
            await one.start()
        if len(bots) > 1:  # all of them up before the people start (the chaos is in the kills)
            await asyncio.gather(*(one.listening() for one in bots))
        confirmed: dict[int, set[str]] = {}
        done: list[asyncio.Event] = []
        for i in range(plan.residents):
            person = await client.person(f"居民{i}", language_code="zh")
            confirmed[person.id], event = set(), asyncio.Event()
            done.append(event)
            tasks.append(asyncio.create_task(resident(world, person, i, confirmed[person.id], event)))
        for who, chat in liaisons:
            tasks.append(asyncio.create_task(liaison(world, who, chat, stop_liaisons)))
        rng = random.Random(plan.seed)
        drafts_at_kills: list[set[int]] = []
        for k in range(plan.kills):
            await asyncio.sleep(rng.uniform(*plan.kill_after_s))  # the chaos itself: a random instant
            victim = bots[rng.randrange(len(bots))]
            await victim.kill()
            drafts_at_kills.append(_drafts(db))
            progress(f"kill {k + 1}/{plan.kills} (instance {bots.index(victim)}): "
                     f"{sum(e.is_set() for e in done)}/{plan.residents} residents done")
            await victim.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in done)), plan.finish_within_s)
        stop_liaisons.set()
        for task in tasks:
            task.cancel()
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, Exception):
                progress(f"a scripted person failed: {outcome!r}")
        await _outbox_quiet(db, plan.patience_s * 10)  # the people stopped: what the bot owes goes out
        if plan.linger_s:
            await asyncio.sleep(plan.linger_s)
        for one in bots:
            exit_code = await one.stop()
            if exit_code != 0:
                progress(f"the bot exited with {exit_code} on SIGTERM; see {one.log}")
        if _pending_due(db):  # the last updates were handled during the stop: the next start sends what they owed
            await bot.start()
            await _outbox_quiet(db, plan.patience_s * 10)
            await bot.stop()
        record = emulator_record(server)
        figures = check(db, record, kills=plan.kills, drafts_at_kills=drafts_at_kills,
                        confirmed=confirmed)
        figures.flood_429 = server.stats.flood_429
        if plan.instances > 1 or plan.sweep_interval_s:
            figures.count_sweeps(sweep_runs([one.log for one in bots]), plan.sweep_interval_s or 60)
        return ChaosResult(figures=figures, kills=plan.kills, restarts=sum(one.starts for one in bots) - len(bots),
                           wall_s=time.monotonic() - began, repeats=world.repeats, confirmed=confirmed,
                           finished=sum(e.is_set() for e in done), residents=plan.residents,
                           untracked_taps=world.untracked_taps, drafts_at_kills=drafts_at_kills,
                           record=record, refused=world.refused)
    finally:
        for task in tasks:
            task.cancel()
        for one in bots:
            if one.running:
                await one.kill()
        await client.close()
        await server.stop()
        stack.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _bind_groups(client: SandboxClient, config: Any, db_path: Path | str) -> list[tuple[Person, int]]:
    """The units' group chats, each with its liaison, bound as /code and /bind would (before the bot starts)."""
    db = await Database.open(db_path)
    out: list[tuple[Person, int]] = []
    try:
        for group in config.city.groups:
            unit = config.city.unit(group.unit).name_zh if group.unit else group.title
            user = await client.create_user(f"联络员-{unit}", language_code="zh")
            chat = await client.create_group(group.title, member_ids=[user["id"]], admin_ids=[user["id"]])
            await db.write(lambda c, chat=chat, group=group: chats.bind(
                c, chat["id"], group.role, group.unit, group.title, 0, _now()))
            out.append((Person(client, user, None, await client.seq()), chat["id"]))
    finally:
        await db.close()
    return out


def _now() -> Any:
    from bot.clock import SystemClock

    return SystemClock().now()


async def _outbox_quiet(db: Path | str, within_s: float) -> None:
    """Wait until the outbox holds no row due now (the restarted bot has sent what it owed)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and _pending_due(db):
        await asyncio.sleep(0.5)


def _pending_due(db: Path | str) -> bool:
    return due_now(r[0] for r in _select(db, "SELECT not_before FROM outbox WHERE status = 'pending'"))


_SWEEP_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO scheduler\.schedule: sweep: ")


def sweep_runs(logs: list[Path]) -> list[float]:
    """When the scheduled sweep ran, in any instance (its one log line per run), as sorted epoch seconds."""
    from datetime import datetime as dt

    found = []
    for log in logs:
        if log.exists():
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
                m = _SWEEP_LINE.match(line)
                if m:
                    found.append(dt.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return sorted(found)
