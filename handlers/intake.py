"""The resident's intake in a private chat: parse the update, call one intake use-case, render the next step.

The flow (see intake.mmd): category → location → photos → description → summary → ticket. Where the resident is
comes from their draft row, looked up for every update, so a restart of the bot loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import Document, InlineKeyboardMarkup, Message, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, TelegramError

from bot.callbacks import IntakeButton
from bot.domain.intake import DescriptionRejected, Step
from bot.domain.numbers import format_number
from bot.domain.photos import ImageRejected, check_image
from bot.domain.places import PlaceName, match_place
from bot.workflow import Refused
from handlers import intake_views as views
from handlers.context import BotContext
from storage.records import Draft, Photo

log = logging.getLogger(__name__)

IMAGE_MIME_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


# -- showing a step -------------------------------------------------------------------------------------------

async def show_step(update: Update, context: BotContext, draft: Draft, ack: str | None = None) -> None:
    """Send the prompt of the step the draft is at, after `ack` (what the last answer did) if given: one message
    for both where the prompt allows it."""
    s = context.services
    lang = context.lang(update)
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    city, cfg = s.config.city, s.config.intake
    step = Step(draft.step)
    if step is Step.CATEGORY:
        text, markup = views.category_prompt(s.texts, lang, city, cfg.categories_per_page, draft)
    elif step is Step.LOCATION:
        text, markup = views.location_prompt(s.texts, lang)
    elif step is Step.PHOTOS:
        text, markup = views.photos_prompt(s.texts, lang, cfg, draft)
    elif step is Step.DESCRIPTION:
        text, markup = views.description_prompt(s.texts, lang, cfg), ReplyKeyboardRemove()
    else:
        text, markup = views.summary(s.texts, lang, city, draft, await s.intake.nearby_open(draft))
        if ack:  # the summary has inline buttons: a reply keyboard still showing must go first
            await context.bot.send_message(chat_id, ack, reply_markup=ReplyKeyboardRemove())
            ack = None
    if ack and isinstance(markup, InlineKeyboardMarkup):
        await context.bot.send_message(chat_id, ack, reply_markup=ReplyKeyboardRemove())
    elif ack:
        text = f"{ack}\n\n{text}"
    await context.bot.send_message(chat_id, text, reply_markup=markup)


async def _say(update: Update, context: BotContext, key: str, remove_keyboard: bool = False, **params: object
               ) -> None:
    await context.bot.send_message(
        update.effective_chat.id, context.t(update, key, **params),  # type: ignore[union-attr]
        reply_markup=ReplyKeyboardRemove() if remove_keyboard else None,
    )


async def _refused(update: Update, context: BotContext, refusal: Refused) -> None:
    await _say(update, context, refusal.key, **refusal.params)


# -- commands -------------------------------------------------------------------------------------------------

async def cmd_new(update: Update, context: BotContext) -> None:
    user = update.effective_user
    try:
        draft, resumed = await context.services.intake.begin(user.id, context.lang(update))  # type: ignore[union-attr]
    except Refused as refusal:
        await _refused(update, context, refusal)
        return
    if resumed:
        await _say(update, context, "intake.resumed")
    await show_step(update, context, draft)


async def cmd_cancel(update: Update, context: BotContext) -> None:
    had = await context.services.intake.cancel(update.effective_user.id)  # type: ignore[union-attr]
    await _say(update, context, "intake.cancelled" if had else "intake.nothing_to_cancel", remove_keyboard=True)


# -- messages -------------------------------------------------------------------------------------------------

async def on_private_message(update: Update, context: BotContext) -> None:
    """Every non-command message in a private chat: what it means depends on the draft's step."""
    message = update.effective_message
    user_id = update.effective_user.id  # type: ignore[union-attr]
    draft = await context.services.intake.draft(user_id)
    if draft is None:
        await _say(update, context, "common.not_understood")
        return
    step = Step(draft.step)
    try:
        if step is Step.CATEGORY:
            await _category_message(update, context, message)
        elif step is Step.LOCATION:
            await _location_message(update, context, message, draft)
        elif step is Step.PHOTOS:
            await _photos_message(update, context, message)
        elif step is Step.DESCRIPTION:
            await _description_message(update, context, message)
        else:
            await _say(update, context, "intake.summary_expected")
    except Refused as refusal:
        await _refused(update, context, refusal)


async def _category_message(update: Update, context: BotContext, message: Message) -> None:
    s = context.services
    typed = (message.text or "").strip().casefold()
    for category in s.config.city.categories:
        if typed and typed in (category.name_zh.casefold(), category.name_en.casefold(), category.key):
            draft = await s.intake.choose_category(update.effective_user.id, category.key)  # type: ignore[union-attr]
            await _say(update, context, "intake.category_chosen", category=category.name(context.lang(update)))
            await show_step(update, context, draft)
            return
    await _say(update, context, "intake.category_expected")


def _place_names(context: BotContext) -> list[PlaceName]:
    names = context.bot_data.get("place_names")
    if names is None:
        names = [PlaceName(p.key, (p.name_zh, p.name_en, *p.aliases)) for p in context.services.config.city.places]
        context.bot_data["place_names"] = names
    return names


async def _location_message(update: Update, context: BotContext, message: Message, draft: Draft) -> None:
    s = context.services
    user_id = update.effective_user.id  # type: ignore[union-attr]
    point = message.location or (message.venue.location if message.venue else None)
    if point is not None:
        draft = await s.intake.set_point(user_id, point.latitude, point.longitude, "gps")
        await show_step(update, context, draft, ack=context.t(update, "intake.location_received"))
        return
    text = (message.text or "").strip()
    if not text:
        await _say(update, context, "intake.location_expected")
        return
    if text in s.texts.all_variants("intake.btn_skip"):
        draft = await s.intake.skip_location(user_id)
        await show_step(update, context, draft, ack=context.t(update, "intake.location_skipped"))
        return
    match = match_place(text[:200], _place_names(context))
    if match.exact:
        draft = await s.intake.set_place(user_id, match.exact)
        place = s.config.city.place(match.exact).name(context.lang(update))
        await show_step(update, context, draft, ack=context.t(update, "intake.place_matched", place=place))
        return
    draft = await s.intake.remember_place_text(user_id, text[:200])
    reply, markup = views.place_choice(s.texts, context.lang(update), s.config.city, draft, text[:200],
                                       match.candidates)
    await context.bot.send_message(update.effective_chat.id, reply, reply_markup=markup)  # type: ignore[union-attr]


async def _description_message(update: Update, context: BotContext, message: Message) -> None:
    if message.text is None:
        await _say(update, context, "intake.text_expected")
        return
    cfg = context.services.config.intake
    try:
        draft = await context.services.intake.set_description(update.effective_user.id, message.text)  # type: ignore[union-attr]
    except DescriptionRejected as bad:
        await _say(update, context, f"intake.description_{bad.reason}", length=bad.length,
                   min=cfg.description_min_chars, max=cfg.description_max_chars)
        return
    await show_step(update, context, draft)


# -- photos and albums ----------------------------------------------------------------------------------------

def _is_image_document(doc: Document) -> bool:
    name = (doc.file_name or "").lower()
    return (doc.mime_type or "") in IMAGE_MIME_TYPES or name.endswith(IMAGE_SUFFIXES)


async def _picture_from(update: Update, context: BotContext, message: Message
                        ) -> tuple[Photo, tuple[float, float] | None] | None:
    """The picture in a message, checked; None after telling the resident what is wrong with it."""
    cfg = context.services.config.intake
    if message.photo:
        size = message.photo[-1]
        return Photo(0, "photo", size.file_id, size.file_unique_id, None, size.width, size.height,
                     message.media_group_id), None
    doc = message.document
    if doc is None:
        await _say(update, context, "intake.photo_expected")
        return None
    max_mb = cfg.max_image_bytes // (1024 * 1024)
    if not _is_image_document(doc):
        await _say(update, context, "photo.document_not_image")
        return None
    if doc.file_size and doc.file_size > cfg.max_image_bytes:
        await _say(update, context, "photo.too_big_bytes", max_mb=max_mb)
        return None
    try:
        file = await context.bot.get_file(doc.file_id)
        data = bytes(await file.download_as_bytearray())
    except BadRequest as error:
        if "too big" in error.message.lower():
            await _say(update, context, "photo.too_big_bytes", max_mb=max_mb)
            return None
        raise
    try:
        checked = await asyncio.to_thread(check_image, data, max_bytes=cfg.max_image_bytes,
                                          max_pixels=cfg.max_image_pixels)
    except ImageRejected as rejected:
        await _say(update, context, f"photo.{rejected.reason}", max_mb=max_mb)
        return None
    return Photo(0, "document", None, doc.file_unique_id, checked.data, checked.width, checked.height,
                 message.media_group_id), checked.gps


@dataclass
class _AlbumTally:
    added: int = 0
    ignored: int = 0
    from_exif: bool = False


async def _photos_message(update: Update, context: BotContext, message: Message) -> None:
    texts = context.services.texts
    if message.text and message.text.strip() in (texts.all_variants("intake.btn_done")
                                                  | texts.all_variants("intake.btn_no_photos")):
        draft = await context.services.intake.photos_done(update.effective_user.id)  # type: ignore[union-attr]
        await show_step(update, context, draft)
        return
    picture = await _picture_from(update, context, message)
    if picture is None:
        return
    photo, gps = picture
    user_id = update.effective_user.id  # type: ignore[union-attr]
    result = await context.services.intake.add_photos(user_id, [photo], gps)
    if not message.media_group_id:
        await _ack_photos(context, update.effective_chat.id, context.lang(update), result.draft,  # type: ignore[union-attr]
                          result.ignored, result.location_from_exif)
        return
    # An album arrives as one update per picture: acknowledge it once, when no more have come for a moment.
    tallies: dict[str, _AlbumTally] = context.user_data.setdefault("albums", {})  # type: ignore[union-attr]
    tally = tallies.setdefault(message.media_group_id, _AlbumTally())
    tally.added += result.added
    tally.ignored += result.ignored
    tally.from_exif |= result.location_from_exif
    name = f"album:{user_id}:{message.media_group_id}"
    for job in context.job_queue.get_jobs_by_name(name):  # type: ignore[union-attr]
        job.schedule_removal()
    context.job_queue.run_once(  # type: ignore[union-attr]
        _album_settled, context.services.config.intake.album_settle_s, name=name, user_id=user_id,
        chat_id=update.effective_chat.id, data=(message.media_group_id, context.lang(update)),  # type: ignore[union-attr]
    )


async def _album_settled(context: BotContext) -> None:
    job = context.job
    media_group_id, lang = job.data  # type: ignore[union-attr, misc]
    tally: _AlbumTally = context.user_data.get("albums", {}).pop(media_group_id, _AlbumTally())  # type: ignore[union-attr]
    draft = await context.services.intake.draft(job.user_id)  # type: ignore[union-attr, arg-type]
    if draft is None or draft.step != Step.PHOTOS:
        return
    await _ack_photos(context, job.chat_id, lang, draft, tally.ignored, tally.from_exif)  # type: ignore[union-attr, arg-type]


async def _ack_photos(context: BotContext, chat_id: int, lang: str, draft: Draft, ignored: int, from_exif: bool
                      ) -> None:
    s = context.services
    lines = []
    if from_exif:
        lines.append(s.texts.get(lang, "intake.location_from_exif"))
    if ignored:
        lines.append(s.texts.get(lang, "intake.photos_over_limit", ignored=ignored, max=s.config.intake.max_photos))
    lines.append(s.texts.get(lang, "intake.photo_received", count=draft.photo_count, max=s.config.intake.max_photos))
    await context.bot.send_message(chat_id, "\n".join(lines), reply_markup=views.photos_keyboard(s.texts, lang, draft))


# -- buttons --------------------------------------------------------------------------------------------------

async def on_intake_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    s = context.services
    user_id = query.from_user.id  # type: ignore[union-attr]
    button = IntakeButton.decode(query.data or "")  # type: ignore[union-attr]
    draft = await s.intake.draft(user_id)
    if button is None or draft is None or draft.id != button.draft_id:
        await query.answer(context.t(update, "intake.no_draft" if draft is None else "intake.stale_button"),  # type: ignore[union-attr]
                           show_alert=True)
        return
    if draft.step != button.step:
        await query.answer(context.t(update, "intake.stale_button"), show_alert=True)  # type: ignore[union-attr]
        return
    try:
        await _press(update, context, button, draft)
    except Refused as refusal:
        await query.answer(context.t(update, refusal.key, **refusal.params), show_alert=True)  # type: ignore[union-attr]


async def _press(update: Update, context: BotContext, button: IntakeButton, draft: Draft) -> None:
    query = update.callback_query
    s = context.services
    lang = context.lang(update)
    user_id = query.from_user.id  # type: ignore[union-attr]
    op = button.op
    if button.step is Step.CATEGORY and op == "pg":
        await query.answer()  # type: ignore[union-attr]
        text, markup = views.category_prompt(s.texts, lang, s.config.city, s.config.intake.categories_per_page,
                                             draft, int(button.arg or 0))
        await _edit(query, text, markup)
        return
    if button.step is Step.CATEGORY and op == "cat":
        try:
            draft = await s.intake.choose_category(user_id, button.arg)
        except KeyError:
            raise Refused("intake.stale_button") from None
        await query.answer()  # type: ignore[union-attr]
        await _edit(query, s.texts.get(lang, "intake.category_chosen",
                                       category=s.config.city.category(button.arg).name(lang)))
    elif button.step is Step.LOCATION and op in ("pl", "pt", "skip"):
        if op == "pl":
            try:
                draft = await s.intake.set_place(user_id, button.arg)
            except KeyError:
                raise Refused("intake.stale_button") from None
            ack = s.texts.get(lang, "intake.place_matched", place=s.config.city.place(button.arg).name(lang))
        elif op == "pt":
            draft = await s.intake.use_place_text(user_id)
            ack = s.texts.get(lang, "intake.location_received")
        else:
            draft = await s.intake.skip_location(user_id)
            ack = s.texts.get(lang, "intake.location_skipped")
        await query.answer()  # type: ignore[union-attr]
        await _edit(query, None)
        await show_step(update, context, draft, ack=ack)
        return
    elif button.step is Step.SUMMARY and op == "ok":
        ticket = await s.intake.confirm(user_id, lang)
        await query.answer(s.texts.get(lang, "intake.submitted"))  # type: ignore[union-attr]
        await _edit(query, None)
        log.info("ticket %s registered", ticket.number)
        return
    elif button.step is Step.SUMMARY and op == "fw":
        ticket = await s.intake.follow_instead(user_id, button.arg)
        await query.answer()  # type: ignore[union-attr]
        await _edit(query, None)
        await context.bot.send_message(query.message.chat.id, s.texts.get(  # type: ignore[union-attr]
            lang, "intake.followed", number=format_number(ticket.number), raw_number=ticket.number))
        return
    elif button.step is Step.SUMMARY and op == "x":
        await s.intake.cancel(user_id)
        await query.answer()  # type: ignore[union-attr]
        await _edit(query, s.texts.get(lang, "intake.cancelled"))
        return
    elif button.step is Step.SUMMARY and op == "ed" and button.arg in {f.value for f in Step}:
        draft = await s.intake.edit(user_id, Step(button.arg))
        await query.answer()  # type: ignore[union-attr]
        await _edit(query, None)
    else:
        raise Refused("intake.stale_button")
    await show_step(update, context, draft)


async def _edit(query, text: str | None, markup=None) -> None:  # type: ignore[no-untyped-def]
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
