"""Webhook mode: our own receipt path (an aiohttp server) and the inbox processor behind it.

Receipt (`WebhookServer`). Telegram posts each update to ``telegram.webhook.path`` with the secret token in the
``X-Telegram-Bot-Api-Secret-Token`` header. A request without the right token is answered 403 and changes
nothing. A good one is stored in the inbox (storage/inbox.py; the update id is the key, so a delivery Telegram
repeats is dropped) and answered 200 at once: Telegram retries on any non-2xx or slow answer, and nothing slow
happens before the answer. Only a failure to store it is answered 500 (Telegram then delivers it again).

Processing (`InboxProcessor`). One loop per process claims rows (atomically, with a lease, see storage/inbox.py)
and hands each to the Application through its update processor, exactly as polling does: different chats
concurrently, up to the processor's limit, a chat's updates one after the other (the claim never hands out a
chat's next row before the previous one is done, in this process or another). A row is marked done when PTB has
run its handlers (their errors go to the error handler, as always); leases of rows in hand are renewed while
they run. At start the rows a crash left are processed first; processed rows are pruned after a day.

What a crash can repeat: an update whose use-case committed but whose row was not yet marked done is processed
again at start (at least once, as for polling, whose offset is confirmed only with the next getUpdates). A
repeated delivery, the common case, is never processed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import socket
import sqlite3
import uuid
from datetime import timedelta

from aiohttp import web
from telegram import Update

from bot.clock import Clock
from bot.config import WebhookConfig
from bot.updates import PerChatUpdateProcessor
from handlers.context import BotApp
from storage import inbox
from storage.db import Database

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: How often the processor looks at the inbox without being woken (rows stored by another process, leases run
#: out) and how often it prunes.
POLL_INTERVAL_S = 1.0
PRUNE_EVERY_S = 3600.0
#: A row whose processing was started this many times (a crash each time) is given up, so it cannot keep
#: killing the bot or block its chat.
MAX_ATTEMPTS = 3


def worker_name() -> str:
    """This process, as it signs its claims: host, pid and a random part (a recycled pid is not the same)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def instance_name(cfg: WebhookConfig) -> str:
    """This instance, as it signs its claims when several share the inbox: host and the address it listens on."""
    return f"{socket.gethostname()}:{cfg.listen_host}:{cfg.listen_port}"


def chat_of(update: Update) -> int | None:
    """The chat whose order the update keeps: the same key the update processor uses when polling."""
    return PerChatUpdateProcessor._key(update)


class InboxProcessor:
    def __init__(self, db: Database, app: BotApp, clock: Clock, cfg: WebhookConfig, *, sole_process: bool,
                 worker: str | None = None, poll_interval_s: float = POLL_INTERVAL_S) -> None:
        self.db = db
        self.app = app
        self.clock = clock
        self.cfg = cfg
        self.sole_process = sole_process
        # With several instances the name is the instance's own (host and listening address: no two running
        # processes can have it), so a restart after kill -9 takes its predecessor's claims back at once instead
        # of waiting for their leases (`lease_s`) to run out; other instances' claims still wait for theirs.
        self.worker = worker or (instance_name(cfg) if not sole_process and cfg.listen_port else worker_name())
        self.poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        self._stopping = False
        self._last_prune: float | None = None
        self._last_renew = 0.0

    def kick(self) -> None:
        """A row was stored (or one finished, which may free its chat's next): look now."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None

    async def start(self) -> None:
        """Recover, then process: where this process owns the database, claims left by a crash are dropped so
        their rows are processed at once (elsewhere their leases run out)."""
        if self.sole_process:
            released = await self.db.write(inbox.release_all)
        else:  # several instances: only this instance's own claims, from its run that crashed (same name)
            released = await self.db.write(lambda c: inbox.release_worker(c, self.worker))
        if released:
            log.info("inbox: %s update(s) left in hand by a crash are processed again", released)
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="inbox-processor")
        self.kick()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Claim nothing more; let the updates in hand finish (up to `grace_s`), then cancel what is left (its
        rows stay pending and are processed again at the next start)."""
        self._stopping = True
        self._wake.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        pending = list(self._in_hand.values())
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace_s)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # -- the loop -------------------------------------------------------------------------------------------

    def _limit(self) -> int:
        return max(1, self.app.update_processor.max_concurrent_updates)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            try:
                free = self._limit() - len(self._in_hand)
                if free > 0:
                    self._spawn(await self.db.write(lambda c, free=free: self._take(c, free)))
                await self._housekeeping(loop.time())
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive anything one pass does (a locked database, ...)
                log.exception("inbox pass failed")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)

    def _take(self, c: sqlite3.Connection, free: int) -> list[inbox.InboxRow]:
        """Inside a transaction: claim up to `free` rows, one statement each (a row started too often without
        finishing is marked failed instead)."""
        now = self.clock.now()
        lease = now + timedelta(seconds=self.cfg.lease_s)
        taken: list[inbox.InboxRow] = []
        while len(taken) < free and not self._stopping:
            row = inbox.claim(c, self.worker, now, lease)
            if row is None:
                break
            if row.attempts > MAX_ATTEMPTS:
                log.error("inbox: update %s was started %s times without finishing: given up", row.update_id,
                          row.attempts - 1)
                inbox.finish(c, row.update_id, self.worker, now, f"given up after {MAX_ATTEMPTS} unfinished attempts")
                continue
            taken.append(row)
        return taken

    def _spawn(self, rows: list[inbox.InboxRow]) -> None:
        for row in rows:
            self._in_hand[row.update_id] = asyncio.create_task(self._process(row), name=f"inbox-{row.update_id}")

    async def _process(self, row: inbox.InboxRow) -> None:
        error: str | None = None
        try:
            update = Update.de_json(json.loads(row.payload), self.app.bot)
            # Through the update processor, as polling does: its concurrency limit and per-chat order hold.
            await self.app.update_processor.process_update(update, self.app.process_update(update))
        except asyncio.CancelledError:
            self._in_hand.pop(row.update_id, None)
            raise
        except Exception as exc:  # PTB hands handler errors to the error handler; this is anything else
            log.exception("inbox: update %s could not be processed", row.update_id)
            error = f"{type(exc).__name__}: {exc}"[:500]
        # One hop: mark it done and claim what that frees (the chat's next update, most often).
        free = self._limit() - len(self._in_hand) + 1

        def finish_and_take(c: sqlite3.Connection) -> tuple[bool, list[inbox.InboxRow]]:
            done = inbox.finish(c, row.update_id, self.worker, self.clock.now(), error)
            return done, self._take(c, free)

        try:
            done, taken = await self.db.write(finish_and_take)
        except Exception:  # the row stays claimed: processed again when its lease runs out (or at start)
            log.exception("inbox: update %s was processed but could not be marked done", row.update_id)
            self._in_hand.pop(row.update_id, None)
            self.kick()
            return
        self._in_hand.pop(row.update_id, None)
        if not done:
            log.warning("inbox: update %s was taken over by another process before it finished here", row.update_id)
        self._spawn(taken)

    async def _housekeeping(self, now_s: float) -> None:
        if self._in_hand and now_s - self._last_renew >= self.cfg.lease_s / 3:
            self._last_renew = now_s
            until = self.clock.now() + timedelta(seconds=self.cfg.lease_s)
            ids = list(self._in_hand)
            await self.db.write(lambda c: inbox.renew(c, self.worker, ids, until))
        if self._last_prune is None or now_s - self._last_prune >= PRUNE_EVERY_S:
            self._last_prune = now_s
            before = self.clock.now() - timedelta(hours=self.cfg.keep_processed_hours)
            pruned = await self.db.write(lambda c: inbox.prune(c, before))
            if pruned:
                log.info("inbox: %s processed update(s) pruned", pruned)


class WebhookServer:
    """The HTTP endpoint Telegram (or nginx in front of it) posts updates to."""

    def __init__(self, db: Database, app: BotApp, clock: Clock, cfg: WebhookConfig, secret: str,
                 processor: InboxProcessor) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret token (Config.webhook_secret)")
        self.db = db
        self.app = app
        self.clock = clock
        self.cfg = cfg
        self._secret = secret.encode()
        self.processor = processor
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        #: What the receiver did, for operators (logged at stop) and tests.
        self.received = {"stored": 0, "repeated": 0, "refused": 0, "malformed": 0}

    async def start(self) -> int:
        web_app = web.Application(client_max_size=4 * 1024 * 1024)
        web_app.router.add_post(self.cfg.path, self._receive)
        self._runner = web.AppRunner(web_app, access_log=None)  # the access log would show every request
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.cfg.listen_host, self.cfg.listen_port)
        await site.start()
        addresses = self._runner.addresses
        self.port = addresses[0][1] if addresses else self.cfg.listen_port
        log.info("webhook: listening on %s:%s%s", self.cfg.listen_host, self.port, self.cfg.path)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            log.info("webhook: stopped (%s)", ", ".join(f"{k} {v}" for k, v in self.received.items()))

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self.received["refused"] += 1
            log.warning("webhook: refused a request from %s without the right secret token", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json(loads=json.loads)
            update = Update.de_json(data, self.app.bot)
            update_id = update.update_id
        except Exception:  # not an update: retrying it would not help, so say so without storing anything
            self.received["malformed"] += 1
            log.warning("webhook: a request with the right token but no update in it was dropped")
            return web.Response(status=400, text="not an update")
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        now = self.clock.now()
        stored = await self.db.write(lambda c: inbox.store(c, update_id, chat_of(update), payload, now))
        if stored:
            self.received["stored"] += 1
            self.processor.kick()
        else:
            self.received["repeated"] += 1
            log.info("webhook: update %s delivered again, already in the inbox", update_id)
        return web.Response(status=200, text="ok")
