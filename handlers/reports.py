"""/report in the supervision group: the figures of any period as text, chart and ledger (.xlsx, or CSV with a
trailing ``csv``)."""

from __future__ import annotations

import logging
from datetime import date

from telegram import Update

from bot.workflow.reporting import CSV_FORMATS, FORMATS
from handlers.context import BotContext

log = logging.getLogger(__name__)
MAX_DAYS = 400


def _period(context: BotContext, args: list[str]) -> tuple[date, date] | None:
    """FROM TO (ISO dates, at most MAX_DAYS apart), or the last seven days without arguments; None if malformed."""
    if not args:
        return context.services.reporting.last_days(7)
    try:
        start, end = (date.fromisoformat(args[0]), date.fromisoformat(args[1])) if len(args) == 2 else (None, None)
    except ValueError:
        return None
    if start is None or end is None or end < start or (end - start).days > MAX_DAYS:
        return None
    return start, end


async def cmd_report(update: Update, context: BotContext) -> None:
    s, message, chat = context.services, update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    binding = await s.admin.binding(chat.id)
    if binding is None or binding.role != "supervision":
        await message.reply_text(context.t(update, "report.only_supervision"))
        return
    args = list(context.args or [])
    formats = FORMATS
    if args and args[-1].lower() == "csv":
        args.pop()
        formats = CSV_FORMATS
    period = _period(context, args)
    if period is None:
        await message.reply_text(context.t(update, "report.usage"))
        return
    start, end = period
    await message.reply_text(context.t(update, "report.generating", start=start.isoformat(), end=end.isoformat()))

    async def produce() -> None:  # a year's ledger takes minutes: never hold up other updates for it
        try:
            await s.reporting.queue(chat.id, start, end, formats)
        except Exception:
            log.exception("report %s..%s failed", start, end)
            await context.bot.send_message(chat.id, context.t(update, "common.error"))

    context.application.create_task(produce(), update=update, name=f"report-{start}-{end}")
