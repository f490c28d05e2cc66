"""Operators' lookups in the coordination and supervision chats: /ticket NUMBER, /open UNIT."""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.cards import GROUP_LANG, route_reason, unit_name, when
from bot.domain.numbers import BadNumber, format_number, parse_number
from handlers.context import BotContext

MAX_TEXT = 4000


async def _operator_chat(update: Update, context: BotContext) -> bool:
    chat = update.effective_chat
    binding = await context.services.handling.binding(chat.id) if chat else None
    if binding is None or binding.role not in ("coordination", "supervision"):
        await update.effective_message.reply_text(context.t(update, "ops.only_here"))  # type: ignore[union-attr]
        return False
    return True


async def cmd_ticket(update: Update, context: BotContext) -> None:
    if not await _operator_chat(update, context):
        return
    s, message = context.services, update.effective_message
    assert message is not None
    g, city, lang = s.texts.get, s.config.city, GROUP_LANG
    try:
        number = parse_number(" ".join(context.args or []))
    except BadNumber:
        await message.reply_text(g(lang, "ops.ticket_usage"))
        return
    found = await s.handling.case(number)
    if found is None:
        await message.reply_text(g(lang, "status.not_found", number=format_number(number)))
        return
    t, events, helpers, photos = found
    lines = []
    for e in events:
        if e.actor_kind == "resident":
            who = g(lang, "ops.who_resident")
        elif e.actor_kind == "unit":
            who = g(lang, "ops.who_unit", unit=unit_name(city, e.unit, lang), actor=e.actor_id or "")
        elif e.actor_kind in ("coordinator", "supervisor"):
            who = g(lang, f"ops.who_{e.actor_kind}", actor=e.actor_id or "")
        else:
            who = g(lang, "ops.who_system")
        try:
            what = g(lang, f"event.{e.action}", unit=unit_name(city, e.unit, lang))
        except KeyError:
            what = e.action
        change = (g(lang, "ops.change", from_state=g(lang, f"state.{e.from_state}"),
                    to_state=g(lang, f"state.{e.to_state}")) if e.from_state and e.to_state else "")
        why = g(lang, "ops.why", reason=escape(e.reason)) if e.reason else ""
        lines.append(g(lang, "ops.timeline_line", when=when(e.at, city), who=escape(who), what=escape(what),
                       change=change, why=why))
    flags = [g(lang, "card.sensitive", rule=escape(t.sensitive))] if t.sensitive else []
    if t.escalated:
        flags.append(g(lang, "card.escalated"))
    text = g(lang, "ops.case", number=format_number(t.number), version=t.version, state=g(lang, f"state.{t.state}"),
             category=escape(city.category(t.category).name(lang)), cls=g(lang, f"cls.{t.deadline_class}"),
             district=escape(unit_name(city, t.district, lang)), unit=escape(unit_name(city, t.unit, lang)),
             lead=g(lang, "ops.lead_mark") if t.lead else "",
             helpers=escape("、".join(unit_name(city, h, lang) for h in helpers) or g(lang, "ops.none")),
             sign_due=when(t.sign_due_at, city), due=when(t.due_at, city), bounces=t.bounces,
             reopens=t.reopen_count, flags="\n".join(flags), description=escape(t.description), photos=photos,
             reason=escape(route_reason(s.texts, lang, city, t)), timeline="\n".join(lines))
    await message.reply_text(text[:MAX_TEXT])


async def cmd_open(update: Update, context: BotContext) -> None:
    if not await _operator_chat(update, context):
        return
    s, message = context.services, update.effective_message
    assert message is not None
    g, city, lang = s.texts.get, s.config.city, GROUP_LANG
    key = (context.args or [""])[0].strip().lower()
    try:
        unit = city.unit(key)
    except KeyError:
        await message.reply_text(g(lang, "ops.open_usage", units=", ".join(u.key for u in city.units)))
        return
    found = await s.handling.open_cases(unit.key)
    name = unit.name(lang)
    if not found:
        await message.reply_text(g(lang, "ops.open_empty", unit=escape(name)))
        return
    now = s.clock.now()
    lines = [g(lang, "ops.open_header", unit=escape(name), count=len(found))]
    for t in found:
        due_at = t.due_at or t.sign_due_at
        due = g(lang, "ops.due_at", due=when(due_at, city)) if due_at else g(lang, "ops.due_none")
        if due_at and due_at < now:
            due += " " + g(lang, "ops.overdue")
        lines.append(g(lang, "ops.open_line", number=format_number(t.number), state=g(lang, f"state.{t.state}"),
                       due=due))
    await message.reply_text("\n".join(lines)[:MAX_TEXT])
