"""Handlers every audience shares: the gatekeeper, /start and /help, expired buttons, the error handler."""

from __future__ import annotations

import logging
import math

from telegram import ReplyKeyboardRemove, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers.context import BotContext, message_of, query_of, user_data_of, user_of

log = logging.getLogger(__name__)


async def gatekeeper(update: Update, context: BotContext) -> None:
    """Group -1: per-user message rate limit, answered politely once per burst, before anything else runs."""
    user = update.effective_user
    if user is None or user.is_bot:
        raise ApplicationHandlerStop
    s = context.services
    now = s.clock.now()
    user_data = user_data_of(context)
    retry_in = await s.count_message(user.id, now)
    if retry_in is None:
        user_data.pop("throttled", None)
        if user.id not in s.chosen_langs:
            s.chosen_langs[user.id] = await s.people.chosen_language(user.id)
        await _remember_name(update, context)
        lang = context.lang(update)
        if s.seen_users.get(user.id) != lang:
            await s.intake.remember_user(user.id, lang)
            s.seen_users[user.id] = lang
        return
    if not user_data.get("throttled"):
        user_data["throttled"] = True
        seconds = max(1, math.ceil(retry_in.total_seconds()))
        text = context.t(update, "limits.messages_per_minute", seconds=seconds)
        if update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat:
            await context.bot.send_message(update.effective_chat.id, text)
    elif update.callback_query:
        await update.callback_query.answer()
    raise ApplicationHandlerStop


async def _remember_name(update: Update, context: BotContext) -> None:
    """Someone acting in a group (staff: residents write in private) is recorded under the name Telegram gives
    now, once per change, so /ticket can name who acted."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type == "private":
        return
    s = context.services
    if s.seen_names.get(user.id) != user.full_name:
        await s.people.record_name(user.id, user.full_name)
        s.seen_names[user.id] = user.full_name


async def cmd_start(update: Update, context: BotContext) -> None:
    s = context.services
    city = s.config.city.name(context.lang(update))
    await message_of(update).reply_text(context.t(update, "start.welcome", city=city),
                                        reply_markup=ReplyKeyboardRemove())
    draft = await s.intake.draft(user_of(update).id)
    if draft is not None:
        from handlers.intake import show_step  # a resumed draft: show where the resident left off

        await message_of(update).reply_text(context.t(update, "intake.resumed"))
        await show_step(update, context, draft)


async def cmd_help(update: Update, context: BotContext) -> None:
    await message_of(update).reply_text(
        context.t(update, "help.text", max_photos=context.services.config.intake.max_photos))


async def in_group_only_private(update: Update, context: BotContext) -> None:
    await message_of(update).reply_text(context.t(update, "common.group_ignored"))


async def command_not_here(update: Update, context: BotContext) -> None:
    """A command nothing handles in a private chat (unknown, or one for group chats): say so, never silence."""
    await message_of(update).reply_text(context.t(update, "commands.not_here"))


async def expired_button(update: Update, context: BotContext) -> None:
    """Last resort for callback data we do not recognise (an old or forged button)."""
    await query_of(update).answer(context.t(update, "common.button_expired"), show_alert=True)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (never the message text) and tell the person something went wrong."""
    error = context.error
    kind = type(error).__name__
    log.error("update failed: %s", kind, exc_info=error if not isinstance(error, TelegramError) else None)
    if not isinstance(update, Update) or isinstance(error, Forbidden):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(context.t(update, "common.error"), show_alert=True)
        elif update.effective_chat and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, context.t(update, "common.error"))
    except TelegramError:
        log.warning("could not tell the user about a failed update (%s)", kind)
