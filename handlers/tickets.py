"""Ticket buttons (unit cards, coordination cards, extension cards, the resident's rating) and the answers people
type in a group after the bot asked for a reason. Parse → one use-case → answer from the catalogue."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, TelegramError

from bot import cards
from bot.callbacks import TicketButton
from bot.cards import EXTENSION_DAYS, RETURN_REASONS, unit_name
from bot.workflow import Actor, Refused
from handlers.context import BotContext
from storage.records import Photo, Ticket

log = logging.getLogger(__name__)

ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
ADMIN_CACHE_S = 300


async def is_chat_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Whether Telegram says the user administers the group (cached for a few minutes)."""
    if chat_id > 0:
        return False
    cache: dict[tuple[int, int], tuple[bool, float]] = context.bot_data.setdefault("chat_admins", {})
    now = context.services.clock.now().timestamp()
    hit = cache.get((chat_id, user_id))
    if hit and now - hit[1] < ADMIN_CACHE_S:
        return hit[0]
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
        admin = member.status in ADMIN_STATUSES
    except TelegramError:
        admin = False
    cache[(chat_id, user_id)] = (admin, now)
    return admin


def _markup(rows: list[list[dict[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup.de_json({"inline_keyboard": rows}, None)  # type: ignore[return-value]


async def on_ticket_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    button = TicketButton.decode(query.data or "")
    if button is None:
        await query.answer(context.t(update, "common.button_expired"), show_alert=True)
        return
    chat_id, user_id = query.message.chat.id, query.from_user.id
    actor = Actor(user_id, chat_id, await is_chat_admin(context, chat_id, user_id))
    action = _ACTIONS.get(button.op)
    if action is None:
        await query.answer(context.t(update, "common.button_expired"), show_alert=True)
        return
    try:
        await action(update, context, query, actor, button)
    except Refused as refusal:
        await query.answer(context.t(update, refusal.key, **refusal.params), show_alert=True)
    except KeyError:  # a unit or class key that does not exist: a forged button
        await query.answer(context.t(update, "deny.stale"), show_alert=True)


# -- the unit ---------------------------------------------------------------------------------------------------

async def _accept(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton) -> None:
    await context.services.handling.accept(actor, b.ticket_id, b.version)
    await q.answer(context.t(update, "done.accepted"))


async def _return(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton) -> None:
    t = await context.services.handling.ask_return_reason(actor, b.ticket_id, b.version)
    texts = context.services.texts
    rows = [[{"text": texts.get(cards.GROUP_LANG, f"ask.{key}"),
              "callback_data": TicketButton("rr", t.id, t.version, str(i)).encode()}]
            for i, key in enumerate(RETURN_REASONS)]
    await q.answer()
    await _ask_in_group(context, q, texts.get(cards.GROUP_LANG, "ask.return_reason"), rows)


async def _return_reason(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton
                         ) -> None:
    index = int(b.arg) if b.arg.isdigit() and int(b.arg) < len(RETURN_REASONS) else 0
    reason = context.services.texts.get(cards.GROUP_LANG, f"ask.{RETURN_REASONS[index]}")
    await context.services.handling.return_(actor, b.ticket_id, b.version, reason)
    await q.answer(context.t(update, "done.returned"))
    await _retire(q, context.t(update, "done.returned"))


async def _extension(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton) -> None:
    t = await context.services.handling.ask_extension_days(actor, b.ticket_id, b.version)
    rows = [[{"text": str(days), "callback_data": TicketButton("xd", t.id, t.version, str(days)).encode()}
             for days in EXTENSION_DAYS]]
    await q.answer()
    await _ask_in_group(context, q, context.services.texts.get(cards.GROUP_LANG, "ask.ext_days"), rows)


async def _extension_days(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton
                          ) -> None:
    days = int(b.arg) if b.arg.isdigit() and int(b.arg) in EXTENSION_DAYS else EXTENSION_DAYS[0]
    await context.services.handling.ask_extension_reason(actor, b.ticket_id, b.version, days)
    await q.answer()
    await _retire(q, context.services.texts.get(cards.GROUP_LANG, "ask.ext_reason", days=days))


async def _resolve(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton) -> None:
    await context.services.handling.ask_answer(actor, b.ticket_id, b.version)
    await q.answer()
    await _ask_in_group(context, q, context.services.texts.get(cards.GROUP_LANG, "ask.resolve_answer"), None)


# -- the coordinators -------------------------------------------------------------------------------------------

async def _unit_picker(context: BotContext, q: CallbackQuery, t: Ticket, text_key: str, op: str) -> None:
    """Ask the coordinator to pick a unit (the lead, or the new responsible unit) under the card."""
    s = context.services
    await q.answer()
    text = s.texts.get(cards.GROUP_LANG, text_key, number=cards.format_number(t.number))
    await _ask_in_group(context, q, text, cards.unit_picker(s.texts, s.config.city, t, op))


async def _lead(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton) -> None:
    t = await context.services.handling.start_lead_pick(actor, b.ticket_id, b.version)
    await _unit_picker(context, q, t, "ask.lead_pick", "ld")


async def _lead_chosen(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton
                       ) -> None:
    s = context.services
    t, helpers = await s.handling.choose_lead(actor, b.ticket_id, b.version, b.arg)
    await q.answer()
    await _helpers_picker(context, q, t, b.arg, helpers)


async def _helper_toggled(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton
                          ) -> None:
    t, lead, helpers = await context.services.handling.toggle_helper(actor, b.ticket_id, b.version, b.arg)
    await q.answer()
    await _helpers_picker(context, q, t, lead, helpers)


async def _helpers_picker(context: BotContext, q: CallbackQuery, t: Ticket, lead: str, helpers: list[str]) -> None:
    s = context.services
    city, lang = s.config.city, cards.GROUP_LANG
    rows = cards.unit_picker(s.texts, city, t, "hp", exclude=frozenset({lead}), chosen=frozenset(helpers))
    rows.append([{"text": s.texts.get(lang, "card.btn_done"),
                  "callback_data": TicketButton("go", t.id, t.version).encode()}])
    names = "、".join(unit_name(city, h, lang) for h in helpers)
    text = s.texts.get(lang, "ask.helpers_pick", lead=unit_name(city, lead, lang), helpers=names)
    await _edit(q, text, rows)


async def _lead_confirmed(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton
                          ) -> None:
    t = await context.services.handling.assign_lead(actor, b.ticket_id, b.version)
    done = context.t(update, "done.lead_assigned", unit=unit_name(context.services.config.city, t.unit, "zh"))
    await q.answer(done)
    await _retire(q, done)


async def _redispatch(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton) -> None:
    t = await context.services.handling.start_redispatch(actor, b.ticket_id, b.version)
    await _unit_picker(context, q, t, "ask.redispatch_pick", "rdu")


async def _redispatch_to(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton
                         ) -> None:
    t = await context.services.handling.redispatch(actor, b.ticket_id, b.version, b.arg)
    done = context.t(update, "done.redispatched", unit=unit_name(context.services.config.city, t.unit, "zh"))
    await q.answer(done)
    await _retire(q, done)


async def _deadline_class(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton
                          ) -> None:
    s = context.services
    if not b.arg:
        t = await s.handling.check_coordinator(actor, b.ticket_id, b.version)
        rows = [[{"text": s.texts.get(cards.GROUP_LANG, f"cls.{cls}"),
                  "callback_data": TicketButton("cls", t.id, t.version, cls).encode()}]
                for cls in ("immediate", "general", "complex")]
        await q.answer()
        text = s.texts.get(cards.GROUP_LANG, "ask.class_pick", number=cards.format_number(t.number))
        await _ask_in_group(context, q, text, rows)
        return
    await s.handling.change_class(actor, b.ticket_id, b.version, b.arg)
    done = s.texts.get(cards.GROUP_LANG, "done.class_changed", cls=s.texts.get(cards.GROUP_LANG, f"cls.{b.arg}"))
    await q.answer(done)
    await _retire(q, done)


async def _reject(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton) -> None:
    await context.services.handling.ask_reject_reason(actor, b.ticket_id, b.version)
    await q.answer()
    await _ask_in_group(context, q, context.services.texts.get(cards.GROUP_LANG, "ask.reject_reason"), None)


async def _extension_decision(update: Update, context: BotContext, q: CallbackQuery, actor: Actor,
                              b: TicketButton) -> None:
    if not b.arg.isdigit():
        raise Refused("deny.stale")
    approve = b.op == "xa"
    await context.services.handling.decide_extension(actor, b.ticket_id, b.version, int(b.arg), approve)
    await q.answer(context.t(update, "done.extension_approved" if approve else "done.extension_denied"))


# -- the resident -----------------------------------------------------------------------------------------------

async def _rate(update: Update, context: BotContext, q: CallbackQuery, actor: Actor, b: TicketButton) -> None:
    await context.services.handling.rate(actor.user_id, b.ticket_id, b.version, satisfied=b.op == "sat")
    await q.answer(context.t(update, "done.rated"))
    await _retire(q, None)


Action = Callable[[Update, BotContext, CallbackQuery, Actor, TicketButton], Awaitable[None]]
_ACTIONS: dict[str, Action] = {
    "acc": _accept, "ret": _return, "rr": _return_reason, "ext": _extension, "xd": _extension_days,
    "res": _resolve, "lead": _lead, "ld": _lead_chosen, "hp": _helper_toggled, "go": _lead_confirmed,
    "rd": _redispatch, "rdu": _redispatch_to, "cls": _deadline_class, "rej": _reject,
    "xa": _extension_decision, "xn": _extension_decision, "sat": _rate, "dis": _rate,
}


# -- typed answers in a group -----------------------------------------------------------------------------------

async def on_group_answer(update: Update, context: BotContext) -> None:
    """A message in a group: the answer to a question the bot asked this person here, or nothing to us."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    s = context.services
    question = await s.handling.pending_question(message.chat.id, user.id)
    if question is None or question.action == "lead":
        return  # ordinary conversation in the group: not for the bot
    text = (message.text or message.caption or "").strip()
    if not text:
        await message.reply_text(context.t(update, "deny.text_needed"))
        return
    actor = Actor(user.id, message.chat.id, await is_chat_admin(context, message.chat.id, user.id))
    h, tid, ver = s.handling, question.ticket_id, question.version
    try:
        if question.action == "return":
            await h.return_(actor, tid, ver, text)
            done = "done.returned"
        elif question.action == "extension":
            await h.request_extension(actor, tid, ver, int(question.data.get("days", EXTENSION_DAYS[0])), text)
            done = "done.extension_requested"
        elif question.action == "resolve":
            photo = None
            if message.photo:
                size = message.photo[-1]
                photo = Photo(0, "photo", size.file_id, size.file_unique_id, None, size.width, size.height)
            await h.resolve(actor, tid, ver, text, photo)
            done = "done.resolved"
        elif question.action == "reject":
            await h.reject(actor, tid, ver, text)
            done = "done.rejected"
        else:
            return
    except Refused as refusal:
        await message.reply_text(context.t(update, refusal.key, **refusal.params))
        return
    await message.reply_text(context.t(update, done))


# -- small helpers ----------------------------------------------------------------------------------------------

async def _ask_in_group(context: BotContext, q: CallbackQuery, text: str, rows: list[list[dict[str, str]]] | None
                        ) -> None:
    """Ask the presser a follow-up question under the card: buttons, or their next message in this chat."""
    assert q.message is not None
    await context.bot.send_message(q.message.chat.id, text, reply_markup=_markup(rows) if rows else None,
                                   reply_to_message_id=q.message.message_id, allow_sending_without_reply=True)


async def _edit(q: CallbackQuery, text: str, rows: list[list[dict[str, str]]] | None) -> None:
    try:
        await q.edit_message_text(text, reply_markup=_markup(rows) if rows else None)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


async def _retire(q: CallbackQuery, text: str | None) -> None:
    """The question message has done its job: replace it with what happened (or just drop its buttons)."""
    try:
        if text is None:
            await q.edit_message_reply_markup(reply_markup=None)
        else:
            await q.edit_message_text(text)
    except BadRequest as error:
        if "not modified" not in error.message:
            log.warning("could not retire a question message: %s", error.message)

