"""Administration in chat: one-time codes, binding group chats, registering liaisons and social supervisors."""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.cards import unit_name
from bot.workflow import Refused
from bot.workflow.access import COORDINATION_ROLE
from bot.workflow.administration import OPERATOR, OPERATORS_ROLE
from handlers.context import BotContext


def _target(context: BotContext, lang: str, role: str, unit: str | None) -> str:
    if role == "unit" or (role == "liaison" and unit and unit != COORDINATION_ROLE):
        return unit_name(context.services.config.city, unit, lang)
    if role == OPERATORS_ROLE:
        return context.services.texts.get(lang, "hotline.target_operators")
    key = "admin.target_supervision" if role == "supervision" else "admin.target_coordination"
    return context.services.texts.get(lang, key)


# /code's forms: the words it takes → (purpose, role, unit, the reply's key, the target's role). The unit of a
# form with a unit is the second word.
_CODE_FORMS: dict[tuple[str, ...], tuple[str, str | None, bool, str, str]] = {
    ("unit", "*"): ("bind", "unit", True, "admin.code_bind", "unit"),
    ("coordination",): ("bind", "coordination", False, "admin.code_bind", "coordination"),
    ("supervision",): ("bind", "supervision", False, "admin.code_bind", "supervision"),
    ("liaison", "coordination"): ("liaison", None, False, "admin.code_liaison", "coordination"),
    ("liaison", "*"): ("liaison", None, True, "admin.code_liaison", "unit"),
    ("supervisor",): ("social_supervisor", None, False, "admin.code_supervisor", "supervisor"),
    ("operator",): (OPERATOR, None, False, "hotline.code_operator", OPERATORS_ROLE),
    ("operators",): ("bind", OPERATORS_ROLE, False, "admin.code_bind", OPERATORS_ROLE),
}


def _code_form(args: list[str]) -> tuple[tuple[str, str | None, bool, str, str], str | None] | None:
    """The form the words name and its unit, if any."""
    exact = _CODE_FORMS.get(tuple(args))
    if exact is not None:
        return exact, None
    if len(args) == 2 and (args[0], "*") in _CODE_FORMS:
        return _CODE_FORMS[(args[0], "*")], args[1]
    return None


async def cmd_code(update: Update, context: BotContext) -> None:
    """/code unit KEY | coordination | supervision | liaison KEY|coordination | supervisor"""
    s, user, message = context.services, update.effective_user, update.effective_message
    assert user is not None and message is not None
    if user.id not in s.config.admins:
        await message.reply_text(context.t(update, "admin.not_admin"))
        return
    form = _code_form([a.strip().lower() for a in (context.args or [])])
    if form is None or (form[0][2] and form[1] not in {u.key for u in s.config.city.units}):
        await message.reply_text(context.t(update, "admin.code_usage",
                                           units=", ".join(u.key for u in s.config.city.units))
                                 + "\n" + context.t(update, "hotline.code_usage"))
        return
    (purpose, role, _, reply_key, target_role), unit = form
    try:
        code = await s.admin.make_code(user.id, purpose, role, unit)
    except Refused as refusal:
        await message.reply_text(context.t(update, refusal.key))
        return
    target = _target(context, context.lang(update), target_role, unit)
    await message.reply_text(context.t(update, reply_key, code=code, hours=s.config.handling.code_ttl_hours,
                                       target=target))


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
    elif purpose == OPERATOR:
        await message.reply_text(context.t(update, "hotline.operator_registered"))
    else:
        await message.reply_text(context.t(update, "admin.supervisor_registered"))


async def cmd_liaison(update: Update, context: BotContext) -> None:
    await _register(update, context, "liaison")


async def cmd_supervisor(update: Update, context: BotContext) -> None:
    await _register(update, context, "social_supervisor")


async def cmd_operator(update: Update, context: BotContext) -> None:
    await _register(update, context, OPERATOR)


async def cmd_unoperator(update: Update, context: BotContext) -> None:
    """/unoperator USER_ID: an admin undoes an operator's registration (the ids are in /bindings)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    arg = (context.args or [""])[0]
    if not arg.isdigit():
        await message.reply_text(context.t(update, "hotline.unoperator_usage"))
        return
    try:
        done = await context.services.admin.remove_operator(user.id, int(arg))
    except Refused as refusal:
        await message.reply_text(context.t(update, refusal.key))
        return
    await message.reply_text(context.t(update, "hotline.operator_removed" if done else "hotline.not_an_operator",
                                       user_id=arg))


async def cmd_bindings(update: Update, context: BotContext) -> None:
    s = context.services
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    try:
        found = await s.admin.bindings(user.id)
    except Refused as refusal:
        await message.reply_text(context.t(update, refusal.key))
        return
    lang = context.lang(update)
    operators = await s.admin.operators(user.id)
    more = [context.t(update, "hotline.bindings_operators", ids=", ".join(f"<code>{i}</code>" for i in operators))
            ] if operators else []
    if not found:
        await message.reply_text("\n".join([context.t(update, "admin.bindings_empty"), *more]))
        return
    lines = [context.t(update, "admin.bindings_header")]
    lines += [context.t(update, "admin.bindings_line", target=escape(_target(context, lang, b.role, b.unit)),
                        title=escape(b.title or ""), chat_id=b.chat_id) for b in found]
    await message.reply_text("\n".join([*lines, *more]))


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
