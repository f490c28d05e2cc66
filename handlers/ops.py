"""Operators' lookups in the coordination and supervision chats: /ticket NUMBER, /open UNIT."""

from __future__ import annotations

from html import escape

from telegram import Message, Update

from bot.cards import case_messages, open_case_line
from bot.domain.numbers import BadNumber, format_number, parse_number
from handlers.context import BotContext

MAX_TEXT = 4096  # Telegram's limit for one message


async def _operator_message(update: Update, context: BotContext, hotline: bool = False) -> Message | None:
    """The command's message if it was sent in an operators' chat; otherwise the refusal is answered.
    ``hotline``: the hotline operators' chat and an operator's private chat count too."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return None
    if hotline and update.effective_user and await context.services.hotline.may_see_callers(
            update.effective_user.id, chat.id):
        return message
    binding = await context.services.admin.binding(chat.id)
    if binding is None or binding.role not in ("coordination", "supervision"):
        await message.reply_text(context.t(update, "ops.only_here"))
        return None
    return message


async def cmd_ticket(update: Update, context: BotContext) -> None:
    message = await _operator_message(update, context, hotline=True)
    if message is None:
        return
    s = context.services
    lang = s.group_lang
    try:
        number = parse_number(" ".join(context.args or []))
    except BadNumber:
        await message.reply_text(s.texts.get(lang, "ops.ticket_usage"))
        return
    found = await s.cases.case(number)
    if found is None:
        await message.reply_text(s.texts.get(lang, "status.not_found", number=format_number(number)))
        return
    parts = case_messages(s.texts, lang, s.config.city, found.ticket, found.events, found.helpers,
                          found.photo_count, MAX_TEXT, found.names.at)
    user = update.effective_user
    if user is not None and await s.hotline.may_see_callers(user.id, message.chat.id):
        contact = await s.hotline.contact(found.ticket.id)
        if contact is not None and contact.phone:  # the caller: in an operator's or the operators' chat only
            parts.append(s.texts.get(lang, "hotline.caller_line", phone=escape(contact.phone),
                                     name=escape(contact.name or s.texts.get(lang, "hotline.no_name"))))
    for part in parts:
        await message.reply_text(part)


async def cmd_open(update: Update, context: BotContext) -> None:
    message = await _operator_message(update, context)
    if message is None:
        return
    s = context.services
    g, city, lang = s.texts.get, s.config.city, s.group_lang
    key = (context.args or [""])[0].strip().lower()
    try:
        unit = city.unit(key)
    except KeyError:
        await message.reply_text(g(lang, "ops.open_usage", units=", ".join(u.key for u in city.units)))
        return
    found = await s.cases.open_cases(unit.key)
    name = unit.name(lang)
    if not found:
        await message.reply_text(g(lang, "ops.open_empty", unit=escape(name)))
        return
    now = s.clock.now()
    lines = [g(lang, "ops.open_header", unit=escape(name), count=len(found))]
    lines += [open_case_line(s.texts, lang, city, t, now) for t in found]
    await message.reply_text("\n".join(lines)[:MAX_TEXT])
