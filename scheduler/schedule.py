"""Our crontab: one table of scheduled jobs on PTB's JobQueue (APScheduler). Each job is a thin call into a
use-case; what must outlive a restart (deadlines, reminders sent) is in the database, not in the scheduler.
`complaint-bot sweep --once` runs the same calls by hand."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import time

from bot.config import WEEKDAYS
from bot.services import Services
from bot.workflow.limits import forget_old_hits
from handlers.context import BotApp, BotContext
from storage.leadership import Leadership

log = logging.getLogger(__name__)

JOB_KWARGS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 300}


async def sweep_job(context: BotContext) -> None:
    services = context.services
    result = await services.sweeper.sweep()
    if not services.intake.caching:  # several instances count limits in the database: forget the old hits
        await forget_old_hits(services.db, services.clock.now().timestamp())
    # One line per run, also when nothing was due: with several instances it shows which one swept, and that
    # the sweep ran once per interval (bench/chaos_run.py counts these lines).
    log.info("sweep: %s reminders, %s overdue, %s escalated, %s auto-closed, %s messages to %s chats",
             result.reminders, result.overdue, result.escalated, result.auto_closed, result.messages, result.chats)


async def morning_job(context: BotContext) -> None:
    queued = await context.services.sweeper.morning_digest()
    log.info("morning digest: %s messages", queued)


async def daily_report_job(context: BotContext) -> None:
    reporting = context.services.reporting
    chat = await reporting.supervision_chat()
    if chat is not None:
        start, end = reporting.yesterday()
        await reporting.queue(chat, start, end, frozenset({"text", "png"}), key="daily")


async def weekly_report_job(context: BotContext) -> None:
    reporting = context.services.reporting
    chat = await reporting.supervision_chat()
    if chat is not None:
        start, end = reporting.last_week()
        await reporting.queue(chat, start, end, frozenset({"text", "png", "xlsx"}), key="weekly")


def _led(name: str, job: Callable[[BotContext], Awaitable[None]]) -> Callable[[BotContext], Awaitable[None]]:
    """The job runs in the process leading `name` only (storage/leadership.py); every other process asks to
    lead at each tick, so when the leader dies another takes over within one interval."""

    async def run(context: BotContext) -> None:
        leadership: Leadership = context.application.bot_data["leadership"]
        if await leadership.try_acquire(name):
            await job(context)

    run.__name__ = job.__name__
    return run


def _ptb_weekday(name: str) -> int:
    """PTB's run_daily counts days from Sunday = 0."""
    return (WEEKDAYS.index(name) + 1) % 7


def _local(hhmm: str, services: Services) -> time:
    return time.fromisoformat(hhmm).replace(tzinfo=services.config.city.timezone)


def install(app: BotApp) -> None:
    """Register the jobs (replacing earlier ones of the same name)."""
    services: Services = app.bot_data["services"]
    queue = app.job_queue
    if queue is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("python-telegram-bot's JobQueue is not available")
    cfg = services.config.reminders
    jobs = (
        ("sweep", lambda: queue.run_repeating(_led("sweep", sweep_job), interval=cfg.sweep_interval_s,
                                              first=cfg.sweep_interval_s, name="sweep", job_kwargs=JOB_KWARGS)),
        ("morning-digest", lambda: queue.run_daily(
            _led("digests", morning_job),
            time=time.fromisoformat(cfg.morning_digest_at).replace(tzinfo=services.config.city.timezone),
            name="morning-digest", job_kwargs=JOB_KWARGS)),
        ("daily-report", lambda: queue.run_daily(
            _led("reports", daily_report_job), time=_local(services.config.reports.daily_at, services),
            name="daily-report", job_kwargs=JOB_KWARGS)),
        ("weekly-report", lambda: queue.run_daily(
            _led("reports", weekly_report_job), time=_local(services.config.reports.weekly_at, services),
            days=(_ptb_weekday(services.config.reports.weekly_on),), name="weekly-report", job_kwargs=JOB_KWARGS)),
    )
    for name, add in jobs:
        for old in queue.get_jobs_by_name(name):
            old.schedule_removal()
        add()
