"""Ticket buttons (unit cards, coordination cards, extension cards, the resident's rating) and the answers people
type in a group after the bot asked for a reason. Parse → one use-case → answer from the catalogue.

Both are tables: ``_ACTIONS`` maps each ``TicketOp`` to its handler, ``_ANSWERS`` each follow-up question to the
use-case its typed answer completes. A refusal (stranger, stale card, wrong state) is answered with its catalogue
text; anything else is a bug and goes to the error handler, logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, TelegramError

from bot import cards
from bot.callbacks import CARD_OPS, TicketButton, TicketOp
from bot.cards import EXTENSION_DAYS, RETURN_REASONS, unit_name
from bot.domain.deadlines import DeadlineClass
from bot.domain.lifecycle import TicketState
from bot.domain.rating import REASONS as RATING_REASONS
from bot.domain.rating import Satisfaction, pair_from_code, solved_from_code
from bot.workflow import Actor, Refused
from bot.workflow.resident_actions import WITHDRAW_REASONS
from handlers.context import BotContext
from storage.records import Photo, Ticket

log = logging.getLogger(__name__)

ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
ADMIN_CACHE_S = 300
Rows = list[list[dict[str, str]]]


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


def _markup(rows: Rows | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup.de_json({"inline_keyboard": rows}, None)


async def on_ticket_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    button = TicketButton.decode(query.data or "")
    if button is None:
        await query.answer(context.t(update, "common.button_expired"), show_alert=True)
        return
    chat_id, user_id = query.message.chat.id, query.from_user.id
    actor = Actor(user_id, chat_id, await is_chat_admin(context, chat_id, user_id))
    try:
        await _ACTIONS[TicketOp(button.op)](Press(update, context, query, actor, button))
    except Refused as refusal:
        await query.answer(context.t(update, refusal.key, **refusal.params), show_alert=True)
    finally:
        if button.op in _CARD_OPS:  # a card's button: was it pressed on a stray copy of the card?
            await context.services.unit.retire_copy(button.ticket_id, chat_id, query.message.message_id)


class Press:
    """One press of a ticket button: who, where, which button, and the small replies every handler needs."""

    def __init__(self, update: Update, context: BotContext, query: CallbackQuery, actor: Actor,
                 button: TicketButton) -> None:
        self.update, self.context, self.query, self.actor, self.button = update, context, query, actor, button
        self.s = context.services
        self.lang = self.s.group_lang

    @property
    def ids(self) -> tuple[Actor, int, int]:
        return self.actor, self.button.ticket_id, self.button.version

    @property
    def resident(self) -> tuple[int, int, int]:
        """(user id, ticket id, version) for the reporter's own buttons in their private chat."""
        return self.actor.user_id, self.button.ticket_id, self.button.version

    def text(self, key: str, **params: object) -> str:
        return self.s.texts.get(self.lang, key, **params)

    def button_to(self, op: TicketOp, t: Ticket, label: str, arg: str = "") -> dict[str, str]:
        return {"text": label, "callback_data": TicketButton(op, t.id, t.version, arg).encode()}

    async def done(self, key: str, **params: object) -> None:
        """Answer the press with what happened and put it in place of the follow-up question."""
        done = self.context.t(self.update, key, **params)
        await self.query.answer(done)
        await _retire(self.query, done)

    async def prompt(self, key: str, rows: Rows | None = None, **params: object) -> None:
        """Ask the presser something in their own language (a resident in their private chat)."""
        await self.query.answer()
        await self.context.bot.send_message(self.actor.chat_id, self.context.t(self.update, key, **params),
                                            reply_markup=_markup(rows))

    async def ask(self, text: str, rows: Rows | None = None) -> None:
        """Ask the presser a follow-up question under the card: buttons, or their next message in this chat."""
        message = self.query.message
        assert message is not None
        await self.query.answer()
        await self.context.bot.send_message(message.chat.id, text, reply_markup=_markup(rows),
                                            reply_to_message_id=message.message_id,
                                            allow_sending_without_reply=True)


# -- the unit ---------------------------------------------------------------------------------------------------

async def _accept(p: Press) -> None:
    await p.s.unit.accept(*p.ids)
    await p.query.answer(p.context.t(p.update, "done.accepted"))


async def _return(p: Press) -> None:
    t = await p.s.unit.ask_return_reason(*p.ids)
    rows = [[p.button_to(TicketOp.RETURN_REASON, t, p.text(f"ask.{key}"), str(i))]
            for i, key in enumerate(RETURN_REASONS)]
    await p.ask(p.text("ask.return_reason"), rows)


async def _return_reason(p: Press) -> None:
    arg = p.button.arg
    index = int(arg) if arg.isdigit() and int(arg) < len(RETURN_REASONS) else 0
    await p.s.unit.return_case(*p.ids, p.text(f"ask.{RETURN_REASONS[index]}"))
    await p.done("done.returned")


def _preset_days(p: Press) -> tuple[int, ...]:
    """The preset buttons that fit within the configured maximum."""
    return tuple(days for days in EXTENSION_DAYS if days <= p.s.unit.max_extension_days)


async def _extension(p: Press) -> None:
    t = await p.s.unit.ask_extension_days(*p.ids)
    rows = [[p.button_to(TicketOp.EXTENSION_DAYS, t, str(days), str(days)) for days in _preset_days(p)],
            [p.button_to(TicketOp.EXTENSION_TYPED, t, p.text("ext.btn_other"))]]
    await p.ask(p.text("ask.ext_days"), [row for row in rows if row])


async def _extension_days(p: Press) -> None:
    arg = p.button.arg
    presets = _preset_days(p) or (1,)
    days = int(arg) if arg.isdigit() and int(arg) in presets else presets[0]
    await p.s.unit.ask_extension_reason(*p.ids, days)
    await p.query.answer()
    await _retire(p.query, p.text("ask.ext_reason", days=days))


async def _extension_typed(p: Press) -> None:
    await p.s.unit.ask_extension_typed_days(*p.ids)
    await p.query.answer()
    await _retire(p.query, p.text("ext.ask_days", max=p.s.unit.max_extension_days))


async def _resolve(p: Press) -> None:
    await p.s.unit.ask_answer(*p.ids)
    await p.ask(p.text("ask.resolve_answer"))


async def _ask_reporter(p: Press) -> None:
    await p.s.inquiries.ask_question(*p.ids)
    await p.ask(p.text("ask.inquiry_question"))


# -- the coordinators -------------------------------------------------------------------------------------------

async def _unit_picker(p: Press, t: Ticket, text_key: str, op: TicketOp) -> None:
    """Ask the coordinator to pick a unit (the lead, or the new responsible unit) under the card."""
    text = p.text(text_key, number=cards.format_number(t.number))
    await p.ask(text, cards.unit_picker(p.lang, p.s.config.city, t, op))


async def _lead(p: Press) -> None:
    t = await p.s.coordination.start_lead_pick(*p.ids)
    await _unit_picker(p, t, "ask.lead_pick", TicketOp.LEAD_CHOSEN)


async def _lead_chosen(p: Press) -> None:
    t, helpers = await p.s.coordination.choose_lead(*p.ids, p.button.arg)
    await p.query.answer()
    await _helpers_picker(p, t, p.button.arg, helpers)


async def _helper_toggled(p: Press) -> None:
    t, lead, helpers = await p.s.coordination.toggle_helper(*p.ids, p.button.arg)
    await p.query.answer()
    await _helpers_picker(p, t, lead, helpers)


async def _helpers_picker(p: Press, t: Ticket, lead: str, helpers: list[str]) -> None:
    city = p.s.config.city
    rows = cards.unit_picker(p.lang, city, t, TicketOp.HELPER_TOGGLED, exclude=frozenset({lead}),
                             chosen=frozenset(helpers))
    rows.append([p.button_to(TicketOp.LEAD_CONFIRMED, t, p.text("card.btn_done"))])
    names = "、".join(unit_name(city, h, p.lang) for h in helpers)
    await _edit(p.query, p.text("ask.helpers_pick", lead=unit_name(city, lead, p.lang), helpers=names), rows)


async def _lead_confirmed(p: Press) -> None:
    t = await p.s.coordination.assign_lead(*p.ids)
    await p.done("done.lead_assigned", unit=unit_name(p.s.config.city, t.unit, p.lang))


async def _redispatch(p: Press) -> None:
    t = await p.s.coordination.start_redispatch(*p.ids)
    await _unit_picker(p, t, "ask.redispatch_pick", TicketOp.REDISPATCH_TO)


async def _redispatch_to(p: Press) -> None:
    t = await p.s.coordination.redispatch(*p.ids, p.button.arg)
    await p.done("done.redispatched", unit=unit_name(p.s.config.city, t.unit, p.lang))


async def _deadline_class(p: Press) -> None:
    if p.button.arg:
        await p.s.coordination.change_class(*p.ids, p.button.arg)
        await p.done("done.class_changed", cls=p.text(f"cls.{p.button.arg}"))
        return
    t = await p.s.coordination.check_coordinator(*p.ids)
    rows = [[p.button_to(TicketOp.DEADLINE_CLASS, t, p.text(f"cls.{cls}"), cls)] for cls in DeadlineClass]
    await p.ask(p.text("ask.class_pick", number=cards.format_number(t.number)), rows)


async def _reject(p: Press) -> None:
    await p.s.coordination.ask_reject_reason(*p.ids)
    await p.ask(p.text("ask.reject_reason"))


async def _decide(p: Press, approve_op: TicketOp, decide: Callable[..., Awaitable[object]], approved: str,
                  denied: str) -> None:
    """A coordinator's approve or deny press on a request's card (its arg: the request's id)."""
    if not p.button.arg.isdigit():
        raise Refused("deny.stale")
    approve = p.button.op == approve_op
    await decide(*p.ids, int(p.button.arg), approve)
    await p.query.answer(p.context.t(p.update, approved if approve else denied))


async def _extension_decision(p: Press) -> None:
    await _decide(p, TicketOp.APPROVE_EXTENSION, p.s.coordination.decide_extension, "done.extension_approved",
                  "done.extension_denied")


async def _merge(p: Press) -> None:
    t = await p.s.merging.ask_number(*p.ids)
    await p.ask(p.text("merge.ask_number", number=cards.format_number(t.number)))


async def _propose_merge(p: Press) -> None:
    t = await p.s.merging.ask_proposal(*p.ids)
    await p.ask(p.text("merge.ask_number_unit", number=cards.format_number(t.number)))


async def _merge_decision(p: Press) -> None:
    await _decide(p, TicketOp.APPROVE_MERGE, p.s.merging.decide, "merge.done_approved", "merge.done_denied")


# -- the resident -----------------------------------------------------------------------------------------------
# The rating is one message edited in place: the answer and "was it solved?", then "how satisfied?", then what
# was rated and the reason buttons. The texts are edited directly (the presser's own action); the buttons that
# must not stay live are also owed through the outbox.

async def _solved(p: Press) -> None:
    solved = solved_from_code(p.button.arg)
    if solved is None:
        raise Refused("deny.stale")
    t = await p.s.rating.check(p.actor.user_id, p.button.ticket_id, p.button.version)
    lang = p.context.lang(p.update)
    question = p.s.texts.get(lang, "rates.ask_satisfaction", solved=p.s.texts.get(lang, f"rates.btn_{solved}"))
    await p.query.answer()
    await _edit_rating(p.query, question, cards.satisfaction_buttons(p.s.texts, lang, t, solved))


async def _rated(p: Press) -> None:
    pair = pair_from_code(p.button.arg)
    if pair is None:
        raise Refused("deny.stale")
    solved, satisfaction = pair
    rated = await p.s.rating.rate(p.actor.user_id, p.button.ticket_id, p.button.version, solved, satisfaction)
    lang = p.context.lang(p.update)
    g = p.s.texts.get
    line = g(lang, "rates.done", solved=g(lang, f"rates.btn_{solved}"),
             satisfaction=g(lang, f"rates.btn_{satisfaction}"))
    markup = None
    if rated.ask_reason:
        line += "\n" + g(lang, "rates.ask_reason")
        markup = cards.reason_buttons(p.s.texts, lang, rated.rated)
    await p.query.answer(p.context.t(p.update, "done.rated"))
    await _edit_rating(p.query, line, markup)


async def _rate_legacy(p: Press) -> None:
    """A one-tap button on an answer sent before the rating asked two questions."""
    satisfaction = Satisfaction.SATISFIED if p.button.op == TicketOp.SATISFIED else Satisfaction.DISSATISFIED
    await p.s.rating.rate(p.actor.user_id, p.button.ticket_id, p.button.version, None, satisfaction)
    await p.query.answer(p.context.t(p.update, "done.rated"))
    await _retire(p.query, None)  # at once; the same removal is also owed through the outbox


async def _answer_inquiry(p: Press) -> None:
    """The reporter pressed 回复 under a unit's question: their next message is the answer."""
    if not p.button.arg.isdigit():
        raise Refused("deny.stale")
    await p.s.inquiries.start_answer(p.actor.user_id, p.button.ticket_id, int(p.button.arg))
    await p.prompt("inquiry.answer_prompt")


async def _add_material(p: Press) -> None:
    t = await p.s.residents.start_material(*p.resident)
    done = [[p.button_to(TicketOp.MATERIAL_DONE, t, p.context.t(p.update, "material.btn_done"))]]
    await p.prompt("material.prompt", done, number=cards.format_number(t.number), max=p.s.config.intake.max_photos)


async def _material_done(p: Press) -> None:
    await p.s.residents.end_step(p.actor.user_id)
    await p.done("material.done")


async def _withdraw(p: Press) -> None:
    t = await p.s.residents.start_withdraw(*p.resident)
    rows = [[p.button_to(TicketOp.WITHDRAW_REASON, t, p.context.t(p.update, f"withdraw.reason_{key}"), str(i))]
            for i, key in enumerate(WITHDRAW_REASONS)]
    await p.prompt("withdraw.ask_reason", rows, number=cards.format_number(t.number))


async def _withdraw_reason(p: Press) -> None:
    arg = p.button.arg
    index = int(arg) if arg.isdigit() and int(arg) < len(WITHDRAW_REASONS) else 0
    reason = p.context.t(p.update, f"withdraw.reason_{WITHDRAW_REASONS[index]}")
    t = await p.s.residents.withdraw(*p.resident, reason)
    await p.done("withdraw.done", number=cards.format_number(t.number))


async def _reason(p: Press) -> None:
    user, ticket_id, rated_version, arg = p.actor.user_id, p.button.ticket_id, p.button.version, p.button.arg
    if arg == "w":
        await p.s.rating.ask_reason_text(user, ticket_id, rated_version)
        await p.query.answer()
        await p.context.bot.send_message(user, p.context.t(p.update, "rates.ask_reason_text"))
        return
    if not arg.isdigit() or int(arg) >= len(RATING_REASONS):
        raise Refused("deny.stale")
    # stored in the group language: the operators read it in the timeline
    reason = p.text(f"rates.reason_{RATING_REASONS[int(arg)]}")
    await p.s.rating.add_reason(user, ticket_id, rated_version, reason)
    await p.query.answer(p.context.t(p.update, "rates.reason_added"))
    await _retire(p.query, None)


# -- the operators' callback card (its rating buttons are the resident's: _solved, _rated) -----------------------

async def _not_reached(p: Press) -> None:
    t, tries = await p.s.hotline.not_reached(*p.ids)
    most = p.s.config.hotline.callback_tries
    key = "hotline.not_reached_done" if t.state == TicketState.RESOLVED else "hotline.unreachable_done"
    await p.query.answer(p.context.t(p.update, key, tries=tries, max=most))


_CARD_OPS = frozenset(op.value for op in CARD_OPS.values())

_ACTIONS: dict[TicketOp, Callable[[Press], Awaitable[None]]] = {
    TicketOp.ACCEPT: _accept, TicketOp.RETURN: _return, TicketOp.RETURN_REASON: _return_reason,
    TicketOp.EXTEND: _extension, TicketOp.EXTENSION_DAYS: _extension_days,
    TicketOp.EXTENSION_TYPED: _extension_typed, TicketOp.RESOLVE: _resolve,
    TicketOp.LEAD: _lead, TicketOp.LEAD_CHOSEN: _lead_chosen, TicketOp.HELPER_TOGGLED: _helper_toggled,
    TicketOp.LEAD_CONFIRMED: _lead_confirmed, TicketOp.REDISPATCH: _redispatch,
    TicketOp.REDISPATCH_TO: _redispatch_to, TicketOp.DEADLINE_CLASS: _deadline_class, TicketOp.REJECT: _reject,
    TicketOp.APPROVE_EXTENSION: _extension_decision, TicketOp.DENY_EXTENSION: _extension_decision,
    TicketOp.ASK_REPORTER: _ask_reporter, TicketOp.ANSWER_INQUIRY: _answer_inquiry,
    TicketOp.ADD_MATERIAL: _add_material, TicketOp.MATERIAL_DONE: _material_done, TicketOp.WITHDRAW: _withdraw,
    TicketOp.WITHDRAW_REASON: _withdraw_reason,
    TicketOp.MERGE: _merge, TicketOp.PROPOSE_MERGE: _propose_merge, TicketOp.APPROVE_MERGE: _merge_decision,
    TicketOp.DENY_MERGE: _merge_decision,
    TicketOp.SOLVED: _solved, TicketOp.RATED: _rated, TicketOp.REASON: _reason,
    TicketOp.SATISFIED: _rate_legacy, TicketOp.DISSATISFIED: _rate_legacy,
    TicketOp.NOT_REACHED: _not_reached,
}


# -- typed answers in a group -----------------------------------------------------------------------------------

#: A typed answer's handler returns the catalogue key of the reply, or the key with its parameters.
Answer = Callable[[BotContext, Actor, int, int, str, dict, Message], Awaitable[str | tuple[str, dict]]]


async def _typed_return(context: BotContext, actor: Actor, tid: int, ver: int, text: str, data: dict,
                        message: Message) -> str:
    await context.services.unit.return_case(actor, tid, ver, text)
    return "done.returned"


async def _typed_extension(context: BotContext, actor: Actor, tid: int, ver: int, text: str, data: dict,
                           message: Message) -> str:
    await context.services.unit.request_extension(actor, tid, ver, int(data.get("days", EXTENSION_DAYS[0])), text)
    return "done.extension_requested"


async def _typed_extension_days(context: BotContext, actor: Actor, tid: int, ver: int, text: str, data: dict,
                                message: Message) -> tuple[str, dict]:
    days = await context.services.unit.typed_extension_days(actor, tid, ver, text)
    return "ask.ext_reason", {"days": days}


async def _typed_answer(context: BotContext, actor: Actor, tid: int, ver: int, text: str, data: dict,
                        message: Message) -> str:
    photo = None
    if message.photo:
        size = message.photo[-1]
        photo = Photo(0, "photo", size.file_id, size.file_unique_id, None, size.width, size.height)
    await context.services.unit.resolve(actor, tid, ver, text, photo)
    return "done.resolved"


async def _typed_rejection(context: BotContext, actor: Actor, tid: int, ver: int, text: str, data: dict,
                           message: Message) -> str:
    await context.services.coordination.reject(actor, tid, ver, text)
    return "done.rejected"


async def _typed_question(context: BotContext, actor: Actor, tid: int, ver: int, text: str, data: dict,
                          message: Message) -> str:
    await context.services.inquiries.send_question(actor, tid, ver, text)
    return "done.inquiry_sent"


async def _typed_merge(context: BotContext, actor: Actor, tid: int, ver: int, text: str, data: dict,
                       message: Message) -> str:
    await context.services.merging.merge(actor, tid, ver, text)
    return "merge.done_merged"


async def _typed_proposal(context: BotContext, actor: Actor, tid: int, ver: int, text: str, data: dict,
                          message: Message) -> str:
    await context.services.merging.propose(actor, tid, ver, text)
    return "merge.done_proposed"


_ANSWERS: dict[str, Answer] = {"return": _typed_return, "extension": _typed_extension, "resolve": _typed_answer,
                               "reject": _typed_rejection, "extension_days": _typed_extension_days,
                               "inquiry": _typed_question, "merge": _typed_merge, "propose_merge": _typed_proposal}


async def on_group_answer(update: Update, context: BotContext) -> None:
    """A message in a group: the answer to a question the bot asked this person here, or nothing to us."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    question = await context.services.unit.pending_question(message.chat.id, user.id)
    answer = _ANSWERS.get(question.action) if question else None
    if question is None or answer is None:
        return  # ordinary conversation in the group (or a picker waiting for a tap): not for the bot
    text = (message.text or message.caption or "").strip()
    if not text:
        await message.reply_text(context.t(update, "deny.text_needed"))
        return
    actor = Actor(user.id, message.chat.id, await is_chat_admin(context, message.chat.id, user.id))
    try:
        done = await answer(context, actor, question.ticket_id, question.version, text, question.data, message)
    except Refused as refusal:
        await message.reply_text(context.t(update, refusal.key, **refusal.params))
        return
    key, params = done if isinstance(done, tuple) else (done, {})
    await message.reply_text(context.t(update, key, **params))


# -- small helpers ----------------------------------------------------------------------------------------------

async def _edit(q: CallbackQuery, text: str, rows: Rows | None) -> None:
    try:
        await q.edit_message_text(text, reply_markup=_markup(rows))
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


async def _edit_rating(q: CallbackQuery, line: str, markup: dict | None) -> None:
    """The rating message in place: its text up to the question line, then ``line``, and ``markup``."""
    message = q.message
    assert isinstance(message, Message)
    body = (message.text_html or "").rsplit("\n", 1)[0]
    try:
        await q.edit_message_text(body + "\n" + line, reply_markup=_markup(markup["inline_keyboard"]) if markup
                                  else None)
    except BadRequest as error:
        if "not modified" not in error.message:
            log.warning("could not edit a rating message: %s", error.message)


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
