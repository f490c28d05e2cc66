"""A resident's private messages that continue something about an existing ticket, before the intake sees them:
the answer to a unit's question (a reply to the question's message, or after its 回复 button), material being
added (补充材料), a typed withdrawal reason (撤回), the typed reason of a rating. Anything else is the intake's.

What is pending is a row of ``pending_inputs`` for the private chat (``bot.workflow.access`` / ``storage.chats``);
``/new`` and ``/cancel`` end it, so a fresh draft's answers are never taken for a follow-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Message, Update

from bot.domain.numbers import format_number
from bot.workflow import Refused
from bot.workflow.inquiry import ANSWER_QUESTION
from bot.workflow.rating import REASON_QUESTION
from bot.workflow.resident_actions import MATERIAL, WITHDRAW
from handlers import intake
from handlers.context import BotContext, message_of, user_of
from handlers.pictures import document_bytes
from storage.chats import PendingInput
from storage.records import Photo

FollowUp = Callable[[Update, BotContext, PendingInput, Message], Awaitable[None]]


async def cmd_new(update: Update, context: BotContext) -> None:
    await context.services.residents.end_step(user_of(update).id)
    await intake.cmd_new(update, context)


async def cmd_cancel(update: Update, context: BotContext) -> None:
    await context.services.residents.end_step(user_of(update).id)
    await intake.cmd_cancel(update, context)


async def on_private_message(update: Update, context: BotContext) -> None:
    message, user = message_of(update), user_of(update)
    s = context.services
    try:
        reply = message.reply_to_message
        round_ = await s.inquiries.by_reply(user.id, reply.message_id) if reply is not None else None
        if round_ is not None:
            await _answer(update, context, round_.id, message)
            return
        pending = await s.unit.pending_question(user.id, user.id)
        follow_up = _FOLLOW_UPS.get(pending.action) if pending is not None else None
        if pending is not None and follow_up is not None:
            await follow_up(update, context, pending, message)
            return
    except Refused as refusal:
        await message.reply_text(context.t(update, refusal.key, **refusal.params))
        return
    await intake.on_private_message(update, context)


def _photo_of(message: Message) -> Photo | None:
    if not message.photo:
        return None
    size = message.photo[-1]
    return Photo(0, "photo", size.file_id, size.file_unique_id, None, size.width, size.height)


async def _answer(update: Update, context: BotContext, inquiry_id: int, message: Message) -> None:
    text = (message.text or message.caption or "").strip()
    photo = _photo_of(message)
    if not text and photo is None:
        raise Refused("inquiry.answer_expected")
    await context.services.inquiries.answer(user_of(update).id, inquiry_id, text, photo)
    await message.reply_text(context.t(update, "inquiry.answer_sent"))


async def _pending_answer(update: Update, context: BotContext, pending: PendingInput, message: Message) -> None:
    await _answer(update, context, int(pending.data.get("inquiry", 0)), message)


async def _material(update: Update, context: BotContext, pending: PendingInput, message: Message) -> None:
    s = context.services
    note = (message.text or message.caption or "").strip()
    photo = _photo_of(message)
    if photo is None and message.document is not None:
        data = await document_bytes(context, message.document, s.residents)
        checked = await s.residents.check_document_image(data)
        photo = Photo(0, "document", None, message.document.file_unique_id, checked.data, checked.width,
                      checked.height)
    if not note and photo is None:
        raise Refused("material.expected")
    added = await s.residents.add_material(user_of(update).id, pending.ticket_id, note, photo)
    await message.reply_text(context.t(update, "material.added", number=format_number(added.ticket.number),
                                       photos=added.photos, max=s.config.intake.max_photos))


async def _withdraw_reason(update: Update, context: BotContext, pending: PendingInput, message: Message) -> None:
    reason = (message.text or "").strip()
    if not reason:
        raise Refused("withdraw.reason_expected")
    t = await context.services.residents.withdraw(user_of(update).id, pending.ticket_id, pending.version, reason)
    await message.reply_text(context.t(update, "withdraw.done", number=format_number(t.number)))


async def _rating_reason(update: Update, context: BotContext, pending: PendingInput, message: Message) -> None:
    """The reason the bot asked a rater to type; anything but text is the intake's as usual."""
    if not message.text:
        await intake.on_private_message(update, context)
        return
    await context.services.rating.add_reason(user_of(update).id, pending.ticket_id, pending.version, message.text)
    await message.reply_text(context.t(update, "rates.reason_added"))


_FOLLOW_UPS: dict[str, FollowUp] = {ANSWER_QUESTION: _pending_answer, MATERIAL: _material,
                                    WITHDRAW: _withdraw_reason, REASON_QUESTION: _rating_reason}
