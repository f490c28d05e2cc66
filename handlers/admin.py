"""Administration in chat: one-time codes, binding group chats, registering liaisons and social supervisors."""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.cards import unit_name
from bot.workflow import Refused
from bot.workflow.access import COORDINATION_ROLE
from handlers.context import BotContext


def _target(context: BotContext, lang: str, role: str, unit: str | None) -> str:
    if role == "unit" or (role == "liaison" and unit and unit != COORDINATION_ROLE):
        return unit_name(context.services.config.city, unit, lang)
    key = "admin.target_supervision" if role == "supervision" else "admin.target_coordination"
    return context.services.texts.get(lang, key)


async def cmd_code(update: Update, context: BotContext) -> None:
    """/code unit KEY | coordination | supervision | liaison KEY|coordination | supervisor"""
    s = context.services
    user = update.effective_user
    message = update.effective_message
    assert user is not None and message is not None
    lang = context.lang(update)
    if user.id not in s.config.admins:
        await message.reply_text(context.t(update, "admin.not_admin"))
        return
    args = [a.strip().lower() for a in (context.args or [])]
    usage = context.t(update, "admin.code_usage", units=", ".join(u.key for u in s.config.city.units))
    hours = s.config.handling.code_ttl_hours
    try:
        if len(args) == 2 and args[0] == "unit":
            code = await s.admin.make_code(user.id, "bind", "unit", args[1])
            reply = context.t(update, "admin.code_bind", code=code, hours=hours, target=_target(context, lang, "unit",
                                                                                              args[1]))
        elif len(args) == 1 and args[0] in ("coordination", "supervision"):
            code = await s.admin.make_code(user.id, "bind", args[0], None)
            reply = context.t(update, "admin.code_bind", code=code, hours=hours,
                              target=_target(context, lang, args[0], None))
        elif len(args) == 2 and args[0] == "liaison":
            unit = None if args[1] == "coordination" else args[1]
            code = await s.admin.make_code(user.id, "liaison", None, unit)
            target = _target(context, lang, "coordination" if unit is None else "unit", unit)
            reply = context.t(update, "admin.code_liaison", code=code, hours=hours, target=target)
        elif args == ["supervisor"]:
            code = await s.admin.make_code(user.id, "social_supervisor", None, None)
            reply = context.t(update, "admin.code_supervisor", code=code, hours=hours)
        else:
            reply = usage
    except KeyError:
        reply = usage
    except Refused as refusal:
        reply = context.t(update, refusal.key)
    await message.reply_text(reply)


async def cmd_bind(update: Update, context: BotContext) -> None:
    """/bind CODE in a group chat."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    assert message is not None and user is not None and chat is not None
    if not context.args:
        await message.reply_text(context.t(update, "admin.bind_usage"))
        return
    try:
        binding = await context.services.admin.bind(user.id, chat.id, chat.title, context.args[0])
    except Refused as refusal:
        await message.reply_text(context.t(update, refusal.key))
        return
    lang = context.services.group_lang
    target = _target(context, lang, binding.role, binding.unit)
    await message.reply_text(context.services.texts.get(lang, "admin.bound", target=escape(target)))


async def _register(update: Update, context: BotContext, purpose: str) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if not context.args:
        await message.reply_text(context.t(update, "admin.code_invalid"))
        return
    try:
        unit = await context.services.admin.register(user.id, context.args[0], purpose)
    except Refused as refusal:
        await message.reply_text(context.t(update, refusal.key))
        return
    lang = context.lang(update)
    if purpose == "liaison":
        role = "coordination" if unit == COORDINATION_ROLE else "unit"
        target = _target(context, lang, role, unit)
        await message.reply_text(context.t(update, "admin.liaison_registered", target=escape(target)))
    else:
        await message.reply_text(context.t(update, "admin.supervisor_registered"))


async def cmd_liaison(update: Update, context: BotContext) -> None:
    await _register(update, context, "liaison")


async def cmd_supervisor(update: Update, context: BotContext) -> None:
    await _register(update, context, "social_supervisor")


async def cmd_bindings(update: Update, context: BotContext) -> None:
    s = context.services
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if user.id not in s.config.admins:
        await message.reply_text(context.t(update, "admin.not_admin"))
        return
    lang = context.lang(update)
    found = await s.admin.bindings()
    if not found:
        await message.reply_text(context.t(update, "admin.bindings_empty"))
        return
    lines = [context.t(update, "admin.bindings_header")]
    lines += [context.t(update, "admin.bindings_line", target=escape(_target(context, lang, b.role, b.unit)),
                        title=escape(b.title or ""), chat_id=b.chat_id) for b in found]
    await message.reply_text("\n".join(lines))


async def cmd_unbind(update: Update, context: BotContext) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    arg = (context.args or [""])[0]
    if not arg.lstrip("-").isdigit():
        await message.reply_text(context.t(update, "admin.unbind_usage"))
        return
    try:
        done = await context.services.admin.unbind(user.id, int(arg))
    except Refused as refusal:
        await message.reply_text(context.t(update, refusal.key))
        return
    await message.reply_text(context.t(update, "admin.unbound" if done else "admin.not_bound", chat_id=arg))


async def on_migrated(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its binding, cards and pending messages follow the new chat id."""
    message = update.effective_message
    if message is not None and message.migrate_to_chat_id:
        await context.services.admin.chat_migrated(message.chat.id, message.migrate_to_chat_id)
