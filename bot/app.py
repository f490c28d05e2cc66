"""The one wiring file: builds the python-telegram-bot Application from config, database and clock.

Nothing here knows whether the Bot API server is Telegram or the sandbox: only `telegram.base_url` differs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.api.server import ApiServer
from bot.callbacks import PATTERN as TICKET_BUTTON
from bot.callbacks import IntakeButton
from bot.clock import Clock
from bot.config import Config, WebhookConfig
from bot.logs import hold_back_libraries
from bot.send_limits import SharedRateLimiter
from bot.services import Services
from bot.telegram_http import AiohttpRequest
from bot.texts import LANGUAGES, Texts
from bot.updates import PerChatUpdateProcessor
from bot.webhook import InboxProcessor, WebhookServer
from handlers import admin, common, followups, hotline, intake, ops, preferences, reload, reports, status, tickets
from handlers.context import BotApp, BotContext
from scheduler import schedule
from scheduler.outbox import OutboxSender
from storage.db import Database
from storage.leadership import Leadership, PostgresLeadership, SoleProcess
from storage.running import RunningLock

log = logging.getLogger(__name__)

#: The command menu, in the order shown; descriptions come from the catalogue (cmd.<name>).
#: On a graceful stop, how long the outbox may go on sending what the last updates queued.
STOP_GRACE_S = 5.0
MENU = ("new", "status", "my", "cancel", "lang", "help")


def build_application(config: Config, db: Database, clock: Clock, token: str,
                      leadership: Leadership | None = None, shared_limits: bool = False) -> BotApp:
    """`shared_limits`: Telegram's send limits counted in the database for the bot as a whole (several webhook
    instances on PostgreSQL: `complaint-bot run --webhook` on a PostgreSQL URL); otherwise per process."""
    hold_back_libraries(token)  # however the bot is run: no request URLs (which hold the token) in the log
    tg = config.telegram
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .concurrent_updates(PerChatUpdateProcessor())
    )
    if tg.http_client == "aiohttp":
        # The same pools and timeouts PTB's builder gives its httpx requests below (bot/telegram_http.py).
        builder = builder.request(AiohttpRequest(
            connection_pool_size=256, connect_timeout=tg.connect_timeout_s, read_timeout=tg.read_timeout_s,
            write_timeout=tg.write_timeout_s, pool_timeout=1.0, media_write_timeout=20.0,
        )).get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=tg.poll_timeout_s + 10))
    else:
        builder = (
            builder.connect_timeout(tg.connect_timeout_s)
            .read_timeout(tg.read_timeout_s)
            .write_timeout(tg.write_timeout_s)
            .get_updates_read_timeout(tg.poll_timeout_s + 10)
        )
    if tg.rate_limiter:
        # Keep under Telegram's limits. Overall (30 messages/s): a leaky bucket of capacity 1 paces sends evenly,
        # where the default capacity of 30 lets a burst of 30 through and then 30 more within the same second.
        # Per group (20/min): the default bucket, so a liaison's button presses are answered at once; digests keep
        # the scheduler's share of a group's minute small. A 429 that still comes is the outbox's to handle.
        # Several webhook instances (PostgreSQL): the same limits counted in the database, for the bot as a whole.
        builder = builder.rate_limiter(
            SharedRateLimiter(db) if shared_limits and _shared(db) else
            AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 29, max_retries=0))
    app: BotApp = builder.build()  # type: ignore[assignment]
    services = Services.build(config, db, clock, Texts())
    # Who runs the once-only jobs (storage/leadership.py): on SQLite this process, always; on PostgreSQL the
    # holder of each job's advisory lock (a follower asks again every tick, so failover is within one interval).
    leadership = leadership or default_leadership(db)
    sender = OutboxSender(db, app.bot, clock, config.outbox, leadership=leadership)
    services.set_outbox_kick(sender.kick)
    sender.on_unreachable = services.forget_user
    sender.on_given_up = services.inquiries.undeliverable
    sender.on_migrated = lambda c, old, new: services.messages.follow_migration(c, old, new, clock.now())
    app.bot_data["services"] = services
    app.bot_data["outbox"] = sender
    app.bot_data["leadership"] = leadership
    _register(app)
    return app


def _shared(db: Database) -> bool:
    """Whether other processes may share this database (PostgreSQL: it has a URL, no file)."""
    return db.path is None and bool(getattr(db, "url", None))


def default_leadership(db: Database) -> Leadership:
    return PostgresLeadership(db.url) if _shared(db) else SoleProcess()  # type: ignore[attr-defined]


def _register(app: BotApp) -> None:
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    app.add_handler(TypeHandler(Update, common.gatekeeper), group=-1)
    app.add_handlers([
        CommandHandler("start", common.cmd_start, private),
        CommandHandler("help", common.cmd_help),
        CommandHandler("new", followups.cmd_new, private),
        CommandHandler("new", common.in_group_only_private, groups),
        # a resident's other private commands, typed in a group: told where to write (found by the fuzzer)
        CommandHandler(["start", "cancel", "my", "lang"], common.in_group_only_private, groups),
        CommandHandler("cancel", followups.cmd_cancel, private),
        CommandHandler("status", status.cmd_status),
        CommandHandler("my", status.cmd_my, private),
        CommandHandler("lang", preferences.cmd_lang, private),
        # administration and operators
        CommandHandler("code", admin.cmd_code, private),
        CommandHandler("bindings", admin.cmd_bindings, private),
        CommandHandler("unbind", admin.cmd_unbind, private),
        CommandHandler("liaison", admin.cmd_liaison, private),
        CommandHandler("supervisor", admin.cmd_supervisor, private),
        CommandHandler("operator", admin.cmd_operator, private),
        CommandHandler("unoperator", admin.cmd_unoperator, private),
        CommandHandler("call", hotline.cmd_call, private),
        CommandHandler("caller", hotline.cmd_caller, private),
        CommandHandler("ticket", ops.cmd_ticket, private),  # hotline operators' own view
        CommandHandler("reload", reload.cmd_reload, private),
        CommandHandler("bind", admin.cmd_bind, groups),
        CommandHandler("ticket", ops.cmd_ticket, groups),
        CommandHandler("open", ops.cmd_open, groups),
        CommandHandler("report", reports.cmd_report, groups),
        MessageHandler(filters.StatusUpdate.MIGRATE, admin.on_migrated),
        MessageHandler(private & filters.COMMAND, common.command_not_here),  # after every CommandHandler
        # buttons
        CallbackQueryHandler(intake.on_intake_button, pattern=IntakeButton.PATTERN),
        CallbackQueryHandler(tickets.on_ticket_button, pattern=TICKET_BUTTON),
        CallbackQueryHandler(preferences.on_lang_button, pattern=preferences.LANG_PATTERN),
        # free messages
        MessageHandler(private & ~filters.COMMAND, followups.on_private_message),
        MessageHandler(groups & ~filters.COMMAND & (filters.TEXT | filters.PHOTO), tickets.on_group_answer),
        CallbackQueryHandler(common.expired_button),
    ])
    app.add_error_handler(common.on_error)  # type: ignore[arg-type]


async def set_command_menu(app: BotApp) -> None:
    texts: Texts = app.bot_data["services"].texts
    for lang in LANGUAGES:
        commands = [BotCommand(name, texts.get(lang, f"cmd.{name}")) for name in MENU]
        # Chinese is the default menu; other languages are set for their language_code.
        code = None if lang == "zh" else lang
        await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)


@dataclass
class BotRunner:
    """Starts and stops the bot (polling or webhook, outbox sender) the same way for the CLI, the sandbox and
    tests. With `webhook` set, updates come by webhook into the inbox (bot/webhook.py) instead of polling."""

    app: BotApp
    poll_timeout_s: float = 30
    webhook: WebhookConfig | None = None
    webhook_secret: str = ""
    _started: bool = field(default=False, init=False)
    _lock: RunningLock | None = field(default=None, init=False)
    server: WebhookServer | None = field(default=None, init=False)
    inbox: InboxProcessor | None = field(default=None, init=False)
    #: The Open311 API, started with the bot when ``[open311] enabled`` (its ``url`` once listening).
    api: ApiServer | None = field(default=None, init=False)

    @property
    def services(self) -> Services:
        return self.app.bot_data["services"]

    @property
    def outbox(self) -> OutboxSender:
        return self.app.bot_data["outbox"]

    @property
    def leadership(self) -> Leadership:
        return self.app.bot_data["leadership"]

    async def start(self) -> None:
        # One bot per database, and `restore` can tell one runs (storage/running.py): raises DatabaseInUse.
        # (PostgreSQL has no file to lock: several instances may share it, see storage/pg.py)
        path = self.services.db.path
        self._lock = RunningLock(path).acquire() if path is not None else None
        await self.app.initialize()
        await set_command_menu(self.app)
        await self.app.start()
        self.outbox.start()
        # After downtime: recompute provisional deadlines, warn of the calendar's horizon, catch up the sweep.
        checks = await self.services.sweeper.startup()
        if checks["warn"]:
            log.warning("the working-day calendar ends on %s (%s days left): declare the next year",
                        checks["horizon"], checks["days_left"])
        if await self.leadership.try_acquire("sweep"):
            await self.services.sweeper.sweep()
        schedule.install(self.app)
        if self.services.config.open311.enabled:
            self.api = ApiServer(self.services)
            await self.api.start()
        self._started = True
        if self.webhook is not None:
            await self._start_webhook(self.webhook)
        else:
            await self.app.updater.start_polling(  # type: ignore[union-attr]
                poll_interval=0, timeout=int(self.poll_timeout_s), allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False)
        log.info("bot started as @%s (%s)", self.app.bot.username, "webhook" if self.webhook else "polling")

    async def _start_webhook(self, cfg: WebhookConfig) -> None:
        """The inbox first (what a crash left is processed), then our server, then Telegram is told where it is.
        The webhook stays registered when the bot stops: Telegram keeps the updates until we are back."""
        db, clock = self.services.db, self.services.clock
        self.inbox = InboxProcessor(db, self.app, clock, cfg,
                                    sole_process=isinstance(self.leadership, SoleProcess))
        await self.inbox.start()
        self.server = WebhookServer(db, self.app, clock, cfg, self.webhook_secret, self.inbox)
        port = await self.server.start()
        await self.app.bot.set_webhook(
            url=cfg.public_url(port), secret_token=self.webhook_secret,
            allowed_updates=list(cfg.allowed_updates) or Update.ALL_TYPES,
            max_connections=cfg.max_connections, drop_pending_updates=False)

    async def stop(self) -> None:
        if not self._started:
            if self._lock:
                self._lock.release()
            return
        self._started = False
        try:
            if self.api is not None:
                await self.api.stop()
                self.api = None
            if self.app.updater and self.app.updater.running:
                await self.app.updater.stop()
            if self.server is not None:  # nothing more is received (Telegram keeps it and retries) ...
                await self.server.stop()
                self.server = None
            if self.inbox is not None:  # ... what the inbox has in hand is finished
                await self.inbox.stop(grace_s=STOP_GRACE_S)
                self.inbox = None
            if self.app.running:
                await self.app.stop()  # finishes the updates being handled (and stops the job queue)
            await self.outbox.stop(grace_s=STOP_GRACE_S)  # ... then sends what they queued
            await self.leadership.release_all()
            await self.app.shutdown()
        finally:
            if self._lock:
                self._lock.release()

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
