"""The resident's intake in a private chat: parse the update, call one intake use-case, render the next step.

The flow (see intake.mmd): category → location → photos → description → summary → ticket. Where the resident is
comes from their draft row, looked up for every update, so a restart of the bot loses nothing. What an update
means at a step is a lookup in three tables:

- `_PROMPTS`: step → the prompt that asks for it;
- `_ON_MESSAGE`: step → what a typed message, a location or a picture does there (none at the summary, which
  expects a button);
- `_ON_BUTTON`: (step, op) → what a button does. A button whose step and op have no entry, or whose step is not
  the draft's, is stale and changes nothing.

The handlers decide nothing: matching, checking and counting are the `Intake` use-case's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, TelegramError

from bot.callbacks import IntakeButton, IntakeOp
from bot.domain.intake import DescriptionRejected, Step
from bot.domain.numbers import BadNumber, format_number, parse_number
from bot.domain.phones import BadPhone
from bot.workflow import AddedPhotos, Refused
from handlers import call_views
from handlers import intake_views as views
from handlers.context import (
    BotContext,
    chat_id_of,
    job_of,
    job_queue_of,
    message_of,
    query_of,
    user_data_of,
    user_of,
)
from handlers.pictures import document_bytes
from storage.records import Draft, Photo

log = logging.getLogger(__name__)

Prompt = Callable[[BotContext, str, Draft], Awaitable[tuple[str, views.Markup]]]
OnMessage = Callable[[Update, BotContext, Message], Awaitable[None]]
OnButton = Callable[[Update, BotContext, CallbackQuery, IntakeButton, Draft], Awaitable[None]]


# -- showing a step -------------------------------------------------------------------------------------------

async def show_step(update: Update, context: BotContext, draft: Draft, ack: str | None = None) -> None:
    """Send the prompt of the step the draft is at, after `ack` (what the last answer did) if given: one message
    for both where the prompt allows it."""
    chat_id = chat_id_of(update)
    text, markup = await _PROMPTS[Step(draft.step)](context, context.lang(update), draft)
    if ack and isinstance(markup, InlineKeyboardMarkup):  # a reply keyboard still showing must go first
        await context.bot.send_message(chat_id, ack, reply_markup=ReplyKeyboardRemove())
    elif ack:
        text = f"{ack}\n\n{text}"
    await context.bot.send_message(chat_id, text, reply_markup=markup)


async def _category_prompt(context: BotContext, lang: str, draft: Draft) -> tuple[str, views.Markup]:
    """The likeliest categories for the draft's description first, if it has one; else the full list."""
    s = context.services
    suggested = await s.intake.suggested_categories(draft)
    if suggested:
        return views.suggested_categories(s.texts, lang, s.config.city, draft, suggested)
    return views.category_prompt(s.texts, lang, s.config.city, s.config.intake.categories_per_page, draft)


async def _location_prompt(context: BotContext, lang: str, draft: Draft) -> tuple[str, views.Markup]:
    return views.location_prompt(context.services.texts, lang)


async def _photos_prompt(context: BotContext, lang: str, draft: Draft) -> tuple[str, views.Markup]:
    return views.photos_prompt(context.services.texts, lang, context.services.config.intake, draft)


async def _description_prompt(context: BotContext, lang: str, draft: Draft) -> tuple[str, views.Markup]:
    text = views.description_prompt(context.services.texts, lang, context.services.config.intake)
    return text, ReplyKeyboardRemove()


async def _summary_prompt(context: BotContext, lang: str, draft: Draft) -> tuple[str, views.Markup]:
    s = context.services
    if draft.is_call:  # no "follow instead" for an operator: the caller's own open cases were named at the phone
        text, markup = views.summary(s.texts, lang, s.config.city, draft, [])
        return call_views.caller_line(s.texts, lang, draft) + "\n\n" + text, markup
    return views.summary(s.texts, lang, s.config.city, draft, await s.intake.nearby_open(draft))


async def _caller_phone_prompt(context: BotContext, lang: str, draft: Draft) -> tuple[str, views.Markup]:
    return call_views.phone_prompt(context.services.texts, lang)


async def _caller_name_prompt(context: BotContext, lang: str, draft: Draft) -> tuple[str, views.Markup]:
    return call_views.name_prompt(context.services.texts, lang)


async def _say(update: Update, context: BotContext, key: str, remove_keyboard: bool = False, **params: object
               ) -> None:
    await context.bot.send_message(chat_id_of(update), context.t(update, key, **params),
                                   reply_markup=ReplyKeyboardRemove() if remove_keyboard else None)


async def _refused(update: Update, context: BotContext, refusal: Refused) -> None:
    await _say(update, context, refusal.key, **refusal.params)


def _category_name(context: BotContext, lang: str, key: str | None) -> str:
    return context.services.config.city.category(key or "").name(lang)


# -- commands -------------------------------------------------------------------------------------------------

async def cmd_new(update: Update, context: BotContext) -> None:
    try:
        draft, resumed = await context.services.intake.begin(user_of(update).id, context.lang(update))
    except Refused as refusal:
        await _refused(update, context, refusal)
        return
    if resumed:
        await _say(update, context, "intake.resumed")
    await show_step(update, context, draft)


async def cmd_cancel(update: Update, context: BotContext) -> None:
    had = await context.services.intake.cancel(user_of(update).id)
    await _say(update, context, "intake.cancelled" if had else "intake.nothing_to_cancel", remove_keyboard=True)


# -- messages -------------------------------------------------------------------------------------------------

async def on_private_message(update: Update, context: BotContext) -> None:
    """Every non-command message in a private chat (after ``handlers.followups``): what it means depends on the
    draft's step; without a draft, a description, a photo or a location starts one (describe-first)."""
    draft = await context.services.intake.draft(user_of(update).id)
    on_message = _describe_first if draft is None else _ON_MESSAGE.get(Step(draft.step))
    if on_message is None:
        await _say(update, context, "intake.summary_expected")
        return
    try:
        await on_message(update, context, message_of(update))
    except Refused as refusal:
        await _refused(update, context, refusal)


async def _describe_first(update: Update, context: BotContext, message: Message) -> None:
    """No draft: a description, a picture or a location starts one with it; the intake then asks for what is
    missing. A reply to an earlier message or a ticket number is not a complaint."""
    intake, user_id, lang = context.services.intake, user_of(update).id, context.lang(update)
    point = message.location or (message.venue.location if message.venue else None)
    if message.reply_to_message is not None or _is_ticket_number(message.text):
        await _say(update, context, "common.not_understood")
    elif point is not None:
        draft = await intake.start_with_point(user_id, lang, point.latitude, point.longitude)
        await show_step(update, context, draft, ack=context.t(update, "suggest.started_location"))
    elif message.photo or message.document:
        if message.document:  # not a picture, or too big: refused before any draft exists
            intake.check_document(message.document.mime_type, message.document.file_name,
                                  message.document.file_size)
        await intake.start_with_photos(user_id, lang, message.caption)
        await _say(update, context, "suggest.started_photo")
        await _photos_message(update, context, message)
    elif message.text:
        cfg = context.services.config.intake
        try:
            draft = await intake.start_with_description(user_id, lang, message.text)
        except DescriptionRejected as bad:
            key = "intake.description_too_long" if bad.reason == "too_long" else "suggest.describe_more"
            await _say(update, context, key, length=bad.length, min=cfg.description_min_chars,
                       max=cfg.description_max_chars)
            return
        await show_step(update, context, draft, ack=context.t(update, "suggest.started_description"))
    else:
        await _say(update, context, "common.not_understood")


def _is_ticket_number(text: str | None) -> bool:
    """Nine digits however typed (even with a wrong check digit): meant for /status, not a description."""
    try:
        parse_number(text or "")
    except BadNumber as bad:
        return bad.reason == "mistyped"
    return True


async def _category_message(update: Update, context: BotContext, message: Message) -> None:
    draft = await context.services.intake.typed_category(user_of(update).id, message.text or "")
    if draft is None:
        await _say(update, context, "intake.category_expected")
        return
    category = _category_name(context, context.lang(update), draft.category)
    await _say(update, context, "intake.category_chosen", category=category)
    await show_step(update, context, draft)


async def _location_message(update: Update, context: BotContext, message: Message) -> None:
    s = context.services
    user_id = user_of(update).id
    point = message.location or (message.venue.location if message.venue else None)
    if point is not None:
        draft = await s.intake.set_point(user_id, point.latitude, point.longitude, "gps")
        await show_step(update, context, draft, ack=context.t(update, "intake.location_received"))
        return
    text = (message.text or "").strip()
    if not text:
        await _say(update, context, "intake.location_expected")
    elif text in s.texts.all_variants("intake.btn_skip"):
        draft = await s.intake.skip_location(user_id)
        await show_step(update, context, draft, ack=context.t(update, "intake.location_skipped"))
    else:
        await _typed_place(update, context, text)


async def _typed_place(update: Update, context: BotContext, text: str) -> None:
    s = context.services
    lang = context.lang(update)
    typed = await s.intake.typed_place(user_of(update).id, text)
    if typed.exact:
        place = s.config.city.place(typed.exact).name(lang)
        await show_step(update, context, typed.draft, ack=context.t(update, "intake.place_matched", place=place))
        return
    reply, markup = views.place_choice(s.texts, lang, s.config.city, typed.draft, typed.text, typed.candidates)
    await context.bot.send_message(chat_id_of(update), reply, reply_markup=markup)


async def _description_message(update: Update, context: BotContext, message: Message) -> None:
    if message.text is None:
        await _say(update, context, "intake.text_expected")
        return
    cfg = context.services.config.intake
    try:
        draft = await context.services.intake.set_description(user_of(update).id, message.text)
    except DescriptionRejected as bad:
        await _say(update, context, f"intake.description_{bad.reason}", length=bad.length,
                   min=cfg.description_min_chars, max=cfg.description_max_chars)
        return
    await show_step(update, context, draft)


async def _caller_phone_message(update: Update, context: BotContext, message: Message) -> None:
    await take_caller_phone(update, context, message.text or "")


async def take_caller_phone(update: Update, context: BotContext, text: str) -> None:
    """An operator's call: the caller's number (refused politely, naming the accepted forms, if it is none);
    the caller's open cases are named so that the operator can avoid a duplicate."""
    s, lang = context.services, context.lang(update)
    try:
        found = await s.intake.set_caller_phone(user_of(update).id, text)
    except BadPhone as bad:
        await _say(update, context, "hotline.phone_service" if bad.reason == "service" else "hotline.phone_refused")
        return
    ack = context.t(update, "hotline.phone_taken", phone=found.draft.caller_phone)
    if found.open_tickets:
        ack += "\n" + context.t(update, "hotline.open_cases", count=len(found.open_tickets),
                                lines=call_views.case_lines(s.texts, lang, s.config.city, found.open_tickets))
    await show_step(update, context, found.draft, ack=ack)


async def _caller_name_message(update: Update, context: BotContext, message: Message) -> None:
    text = (message.text or "").strip()
    if not text:
        await _say(update, context, "hotline.ask_name")
        return
    skipped = text in context.services.texts.all_variants("hotline.btn_skip_name")
    draft = await context.services.intake.set_caller_name(user_of(update).id, None if skipped else text)
    ack = (context.t(update, "hotline.name_skipped") if draft.caller_name is None
           else context.t(update, "hotline.name_taken", name=escape(draft.caller_name)))
    await show_step(update, context, draft, ack=ack)


# -- photos and albums ----------------------------------------------------------------------------------------

async def _photos_message(update: Update, context: BotContext, message: Message) -> None:
    texts = context.services.texts
    if message.text and message.text.strip() in (texts.all_variants("intake.btn_done")
                                                  | texts.all_variants("intake.btn_no_photos")):
        draft = await context.services.intake.photos_done(user_of(update).id)
        await show_step(update, context, draft)
        return
    added = await _add_picture(update, context, message)
    if added.exif_outside and message.media_group_id:
        await _tell_exif_outside(update, context, message.media_group_id)
    if message.media_group_id:
        _acknowledge_album_later(update, context, message.media_group_id)
    else:
        await _ack_photos(context, chat_id_of(update), context.lang(update), added)


async def _add_picture(update: Update, context: BotContext, message: Message) -> AddedPhotos:
    """Add the message's picture (a photo, or an image sent as a file) to the draft; Refused if there is none."""
    intake, user_id = context.services.intake, user_of(update).id
    if message.photo:
        size = message.photo[-1]
        photo = Photo(0, "photo", size.file_id, size.file_unique_id, None, size.width, size.height,
                      message.media_group_id)
        return await intake.add_photos(user_id, [photo], None)
    doc = message.document
    if doc is None:
        raise Refused("intake.photo_expected")
    data = await document_bytes(context, doc, intake)
    return await intake.add_document_image(user_id, data, doc.file_unique_id, message.media_group_id)


def _exif_outside_text(context: BotContext, lang: str) -> str:
    s = context.services
    return s.texts.get(lang, "where.exif_outside", city=s.config.city.name(lang),
                       button=s.texts.get(lang, "intake.btn_edit_location"))


async def _tell_exif_outside(update: Update, context: BotContext, media_group_id: str) -> None:
    """An album's pictures outside the city: said once per album (the album's tally does not carry it)."""
    user_data = user_data_of(context)
    if user_data.get("exif_outside_album") == media_group_id:
        return
    user_data["exif_outside_album"] = media_group_id
    await context.bot.send_message(chat_id_of(update), _exif_outside_text(context, context.lang(update)))


@dataclass(frozen=True)
class _AlbumAck:
    """What the album's acknowledgement job needs; the tally itself is in the database (see bot.workflow.intake)."""

    user_id: int
    chat_id: int
    media_group_id: str
    lang: str
    since: datetime | None = None  # when this instance took its latest picture of the album


def _acknowledge_album_later(update: Update, context: BotContext, media_group_id: str) -> None:
    """An album arrives as one update per picture: acknowledge it once, when no more have come for a moment."""
    ack = _AlbumAck(user_of(update).id, chat_id_of(update), media_group_id, context.lang(update),
                    context.services.clock.now())
    name = f"album:{ack.user_id}:{media_group_id}"
    jobs = job_queue_of(context)
    for job in jobs.get_jobs_by_name(name):
        job.schedule_removal()
    jobs.run_once(_album_settled, context.services.config.intake.album_settle_s, name=name, data=ack,
                  user_id=ack.user_id, chat_id=ack.chat_id)


async def _album_settled(context: BotContext) -> None:
    ack = job_of(context).data
    if not isinstance(ack, _AlbumAck):
        raise TypeError(f"an album job with {ack!r}")
    added = await context.services.intake.album_settled(ack.user_id, ack.media_group_id, ack.since)
    if added is not None:
        await _ack_photos(context, ack.chat_id, ack.lang, added)


async def _ack_photos(context: BotContext, chat_id: int, lang: str, added: AddedPhotos) -> None:
    s = context.services
    max_photos = s.config.intake.max_photos
    lines = []
    if added.location_from_exif:
        lines.append(s.texts.get(lang, "intake.location_from_exif"))
    if added.exif_outside:  # a single picture; an album's is told at once (see _tell_exif_outside)
        lines.append(_exif_outside_text(context, lang))
    if added.ignored:
        lines.append(s.texts.get(lang, "intake.photos_over_limit", ignored=added.ignored, max=max_photos))
    lines.append(s.texts.get(lang, "intake.photo_received", count=added.draft.photo_count, max=max_photos))
    await context.bot.send_message(chat_id, "\n".join(lines),
                                   reply_markup=views.photos_keyboard(s.texts, lang, added.draft))


# -- buttons --------------------------------------------------------------------------------------------------

async def on_intake_button(update: Update, context: BotContext) -> None:
    query = query_of(update)
    button = IntakeButton.decode(query.data or "")
    draft = await context.services.intake.draft(query.from_user.id)
    if button is None or draft is None or draft.id != button.draft_id:
        await query.answer(context.t(update, "intake.no_draft" if draft is None else "intake.stale_button"),
                           show_alert=True)
        return
    try:
        await _button_handler(button, draft)(update, context, query, button, draft)
    except Refused as refusal:
        await query.answer(context.t(update, refusal.key, **refusal.params), show_alert=True)
        if refusal.key == "intake.stale_button" and draft.step != button.step:
            # The draft moved on but its prompt may never have arrived (a crash between saving the step and
            # replying): the latest message would be this old one, so the current step is asked again.
            await show_step(update, context, draft)


def _button_handler(button: IntakeButton, draft: Draft) -> OnButton:
    """What the button does at the draft's step; Refused for a button of another step or an unknown op."""
    press = _ON_BUTTON.get((button.step, IntakeOp(button.op))) if button.op in _OPS else None
    if press is None or draft.step != button.step:
        raise Refused("intake.stale_button")
    return press


async def _page(update: Update, context: BotContext, query: CallbackQuery, button: IntakeButton, draft: Draft
                ) -> None:
    s, lang = context.services, context.lang(update)
    await query.answer()
    if button.arg == views.SUGGESTED_PAGE:
        text, markup = await _category_prompt(context, lang, draft)
    else:
        page = int(button.arg) if button.arg.isdigit() else 0
        text, markup = views.category_prompt(s.texts, lang, s.config.city, s.config.intake.categories_per_page,
                                             draft, page, suggested=bool(draft.description))
    await _edit(query, text, markup)  # type: ignore[arg-type]


async def _category(update: Update, context: BotContext, query: CallbackQuery, button: IntakeButton, draft: Draft
                    ) -> None:
    lang = context.lang(update)
    draft = await context.services.intake.choose_category(query.from_user.id, button.arg)
    await query.answer()
    await _edit(query, context.t(update, "intake.category_chosen",
                                 category=_category_name(context, lang, button.arg)))
    await show_step(update, context, draft)


async def _place(update: Update, context: BotContext, query: CallbackQuery, button: IntakeButton, draft: Draft
                 ) -> None:
    draft = await context.services.intake.set_place(query.from_user.id, button.arg)
    place = context.services.config.city.place(button.arg).name(context.lang(update))
    await _location_done(update, context, query, draft, context.t(update, "intake.place_matched", place=place))


async def _place_text(update: Update, context: BotContext, query: CallbackQuery, button: IntakeButton,
                      draft: Draft) -> None:
    draft = await context.services.intake.use_place_text(query.from_user.id)
    await _location_done(update, context, query, draft, context.t(update, "intake.location_received"))


async def _skip(update: Update, context: BotContext, query: CallbackQuery, button: IntakeButton, draft: Draft
                ) -> None:
    draft = await context.services.intake.skip_location(query.from_user.id)
    await _location_done(update, context, query, draft, context.t(update, "intake.location_skipped"))


async def _location_done(update: Update, context: BotContext, query: CallbackQuery, draft: Draft, ack: str
                         ) -> None:
    await query.answer()
    await _edit(query, None)
    await show_step(update, context, draft, ack=ack)


async def _submit(update: Update, context: BotContext, query: CallbackQuery, button: IntakeButton, draft: Draft
                  ) -> None:
    ticket = await context.services.intake.confirm(query.from_user.id, context.lang(update))
    await query.answer(context.t(update, "intake.submitted"))
    await _edit(query, None)
    log.info("ticket %s registered", ticket.number)


async def _follow(update: Update, context: BotContext, query: CallbackQuery, button: IntakeButton, draft: Draft
                  ) -> None:
    ticket = await context.services.intake.follow_instead(query.from_user.id, button.arg)
    await query.answer()
    await _edit(query, None)
    await context.bot.send_message(chat_id_of(update), context.t(
        update, "intake.followed", number=format_number(ticket.number), raw_number=ticket.number))


async def _discard(update: Update, context: BotContext, query: CallbackQuery, button: IntakeButton, draft: Draft
                   ) -> None:
    await context.services.intake.cancel(query.from_user.id)
    await query.answer()
    await _edit(query, context.t(update, "intake.cancelled"))


async def _reopen(update: Update, context: BotContext, query: CallbackQuery, button: IntakeButton, draft: Draft
                  ) -> None:
    """From the summary, change one field (the button's arg names its step)."""
    if button.arg not in _STEPS:
        raise Refused("intake.stale_button")
    draft = await context.services.intake.edit(query.from_user.id, Step(button.arg))
    await query.answer()
    await _edit(query, None)
    await show_step(update, context, draft)


async def _edit(query: CallbackQuery, text: str | None, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace a pressed message's text (or just drop its buttons), ignoring 'message is not modified'."""
    try:
        if text is None:
            await query.edit_message_reply_markup(reply_markup=None)
        else:
            await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise
    except TelegramError:
        # The edit is cosmetic; the state change is already committed. Never fail the press for it.
        log.warning("could not edit a pressed intake message", exc_info=True)


# -- the step table -------------------------------------------------------------------------------------------

_PROMPTS: dict[Step, Prompt] = {
    Step.CATEGORY: _category_prompt,
    Step.LOCATION: _location_prompt,
    Step.PHOTOS: _photos_prompt,
    Step.DESCRIPTION: _description_prompt,
    Step.SUMMARY: _summary_prompt,
    Step.CALLER_PHONE: _caller_phone_prompt,
    Step.CALLER_NAME: _caller_name_prompt,
}

_ON_MESSAGE: dict[Step, OnMessage] = {
    Step.CATEGORY: _category_message,
    Step.LOCATION: _location_message,
    Step.PHOTOS: _photos_message,
    Step.DESCRIPTION: _description_message,
    Step.CALLER_PHONE: _caller_phone_message,
    Step.CALLER_NAME: _caller_name_message,
}

_ON_BUTTON: dict[tuple[Step, IntakeOp], OnButton] = {
    (Step.CATEGORY, IntakeOp.PAGE): _page,
    (Step.CATEGORY, IntakeOp.CATEGORY): _category,
    (Step.LOCATION, IntakeOp.PLACE): _place,
    (Step.LOCATION, IntakeOp.PLACE_TEXT): _place_text,
    (Step.LOCATION, IntakeOp.SKIP): _skip,
    (Step.SUMMARY, IntakeOp.SUBMIT): _submit,
    (Step.SUMMARY, IntakeOp.FOLLOW): _follow,
    (Step.SUMMARY, IntakeOp.DISCARD): _discard,
    (Step.SUMMARY, IntakeOp.EDIT): _reopen,
}

_OPS = frozenset(op.value for op in IntakeOp)
_STEPS = frozenset(step.value for step in Step)
