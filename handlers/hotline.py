"""Hotline operators (代录) in their private chat: /call files a caller's complaint through the resident's own
intake steps (handlers.intake, after the caller's phone and name); /caller PHONE lists a number's tickets. And the
callback card's "not reached" button in the operators' chat (the card's rating buttons are the resident's own,
handled in handlers.tickets)."""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.domain.intake import Step
from bot.domain.phones import BadPhone
from bot.workflow import Refused
from handlers import call_views, intake
from handlers.context import BotContext, message_of, user_of


async def cmd_call(update: Update, context: BotContext) -> None:
    """/call [PHONE]: start (or resume) a call; a number typed after the command is the caller's."""
    s, user = context.services, user_of(update)
    try:
        draft, resumed = await s.intake.begin_call(user.id, context.lang(update))
    except Refused as refusal:
        await message_of(update).reply_text(context.t(update, refusal.key, **refusal.params))
        return
    await s.residents.end_step(user.id)  # a follow-up of the operator's own is not the call's
    await message_of(update).reply_text(context.t(update, "hotline.call_resumed" if resumed
                                                  else "hotline.call_started"))
    typed = " ".join(context.args or [])
    if typed and draft.step == Step.CALLER_PHONE:
        await intake.take_caller_phone(update, context, typed)
        return
    await intake.show_step(update, context, draft)


async def cmd_caller(update: Update, context: BotContext) -> None:
    """/caller PHONE: every ticket of that number, newest first (operators only)."""
    s, message, lang = context.services, message_of(update), context.lang(update)
    typed = " ".join(context.args or [])
    if not typed:
        await message.reply_text(context.t(update, "hotline.caller_usage"))
        return
    try:
        phone, found = await s.intake.caller_tickets(user_of(update).id, typed)
    except Refused as refusal:
        await message.reply_text(context.t(update, refusal.key, **refusal.params))
        return
    except BadPhone as bad:
        await message.reply_text(context.t(update, "hotline.phone_service" if bad.reason == "service"
                                           else "hotline.phone_refused"))
        return
    if not found:
        await message.reply_text(context.t(update, "hotline.caller_none", phone=escape(phone)))
        return
    header = context.t(update, "hotline.caller_header", phone=escape(phone), count=len(found))
    await message.reply_text(header + "\n" + call_views.case_lines(s.texts, lang, s.config.city, found))
