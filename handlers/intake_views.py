"""Pure rendering of the intake: a draft (and its context) → the prompt's text and keyboard."""

from __future__ import annotations

import math
from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.callbacks import IntakeButton, IntakeOp
from bot.config import City, IntakeConfig
from bot.domain.intake import Step
from bot.domain.numbers import format_number
from bot.place_words import point_in_words
from bot.texts import Texts
from bot.workflow import Nearby
from storage.records import Draft

#: What a prompt carries under its text.
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def _button(text: str, draft: Draft, step: Step, op: IntakeOp, arg: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=IntakeButton(draft.id, step, op, arg).encode())


#: The PAGE button's arg that goes back from the full list to the suggested categories.
SUGGESTED_PAGE = "s"


def suggested_categories(texts: Texts, lang: str, city: City, draft: Draft, keys: list[str]
                         ) -> tuple[str, InlineKeyboardMarkup]:
    """The category step of a draft with a description: the likeliest categories, then "other categories"."""
    rows = [[_button(city.category(key).name(lang), draft, Step.CATEGORY, IntakeOp.CATEGORY, key)] for key in keys]
    rows.append([_button(texts.get(lang, "suggest.btn_other"), draft, Step.CATEGORY, IntakeOp.PAGE, "0")])
    return texts.get(lang, "suggest.ask_category"), InlineKeyboardMarkup(rows)


def category_prompt(texts: Texts, lang: str, city: City, per_page: int, draft: Draft, page: int = 0,
                    suggested: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    """One page of every category; `suggested`: the draft has suggestions to go back to."""
    cats = city.categories
    pages = max(1, math.ceil(len(cats) / per_page))
    page = min(max(page, 0), pages - 1)
    shown = cats[page * per_page:(page + 1) * per_page]
    rows = [[_button(c.name(lang), draft, Step.CATEGORY, IntakeOp.CATEGORY, c.key) for c in shown[i:i + 2]]
            for i in range(0, len(shown), 2)]
    nav = []
    if page > 0:
        nav.append(_button(texts.get(lang, "intake.btn_prev"), draft, Step.CATEGORY, IntakeOp.PAGE, str(page - 1)))
    if page < pages - 1:
        nav.append(_button(texts.get(lang, "intake.btn_next"), draft, Step.CATEGORY, IntakeOp.PAGE, str(page + 1)))
    if nav:
        rows.append(nav)
    if suggested:
        rows.append([_button(texts.get(lang, "suggest.btn_back"), draft, Step.CATEGORY, IntakeOp.PAGE,
                             SUGGESTED_PAGE)])
    return texts.get(lang, "intake.ask_category", page=page + 1, pages=pages), InlineKeyboardMarkup(rows)


def location_prompt(texts: Texts, lang: str) -> tuple[str, ReplyKeyboardMarkup]:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(texts.get(lang, "intake.btn_share_location"), request_location=True)],
         [KeyboardButton(texts.get(lang, "intake.btn_skip"))]],
        resize_keyboard=True, one_time_keyboard=True,
    )
    return texts.get(lang, "intake.ask_location"), keyboard


def place_choice(texts: Texts, lang: str, city: City, draft: Draft, text: str, candidates: tuple[str, ...]
                 ) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[_button(city.place(key).name(lang), draft, Step.LOCATION, IntakeOp.PLACE, key)] for key in candidates]
    rows.append([_button(texts.get(lang, "intake.btn_use_as_typed"), draft, Step.LOCATION, IntakeOp.PLACE_TEXT),
                 _button(texts.get(lang, "intake.btn_skip"), draft, Step.LOCATION, IntakeOp.SKIP)])
    key = "intake.place_candidates" if candidates else "intake.place_not_found"
    return texts.get(lang, key, text=escape(text)), InlineKeyboardMarkup(rows)


def photos_keyboard(texts: Texts, lang: str, draft: Draft) -> ReplyKeyboardMarkup:
    """A reply keyboard: pressing it is a plain message, and the prompt that shows it can also replace the
    location step's keyboard in the same message (an inline keyboard could not)."""
    key = "intake.btn_no_photos" if draft.photo_count == 0 else "intake.btn_done"
    return ReplyKeyboardMarkup([[KeyboardButton(texts.get(lang, key))]], resize_keyboard=True)


def photos_prompt(texts: Texts, lang: str, cfg: IntakeConfig, draft: Draft, ack: str | None = None
                  ) -> tuple[str, ReplyKeyboardMarkup]:
    """The photo step's prompt, after an acknowledgement of the location step when there is one."""
    text = texts.get(lang, "intake.ask_photos", max=cfg.max_photos)
    return (f"{ack}\n\n{text}" if ack else text), photos_keyboard(texts, lang, draft)


def description_prompt(texts: Texts, lang: str, cfg: IntakeConfig) -> str:
    return texts.get(lang, "intake.ask_description", min=cfg.description_min_chars, max=cfg.description_max_chars)


def location_label(texts: Texts, lang: str, city: City, draft: Draft) -> str:
    source = draft.location_source
    if source == "place" and draft.place_key:
        return texts.get(lang, "intake.location_place", place=escape(city.place(draft.place_key).name(lang)))
    if source == "text":
        return texts.get(lang, "intake.location_text", text=escape(draft.place_text or ""))
    if source in ("gps", "exif"):
        where = texts.get(lang, f"intake.location_{'point' if source == 'gps' else 'exif'}")
        return texts.get(lang, "where.shared", source=where,
                         words=point_in_words(texts, lang, city, draft.lat, draft.lon))  # type: ignore[arg-type]
    return texts.get(lang, "intake.location_none")


def summary(texts: Texts, lang: str, city: City, draft: Draft, nearby: list[Nearby]
            ) -> tuple[str, InlineKeyboardMarkup]:
    category = city.category(draft.category).name(lang) if draft.category else "—"
    text = texts.get(lang, "intake.summary", category=escape(category),
                     location=location_label(texts, lang, city, draft), photos=draft.photo_count,
                     description=escape(draft.description or ""))
    rows: list[list[InlineKeyboardButton]] = []
    if nearby:
        lines = [texts.get(lang, "intake.duplicates_intro")]
        lines += [texts.get(lang, "intake.duplicate_line", number=format_number(n.ticket.number),
                            state=texts.get(lang, f"state.{n.ticket.state}"), distance=round(n.distance_m))
                  for n in nearby]
        lines.append(texts.get(lang, "intake.duplicates_question"))
        text += "\n\n" + "\n".join(lines)
        rows += [[_button(texts.get(lang, "intake.btn_follow", number=format_number(n.ticket.number)),
                          draft, Step.SUMMARY, IntakeOp.FOLLOW, n.ticket.number)] for n in nearby]

    def edit(key: str, field: Step) -> InlineKeyboardButton:
        return _button(texts.get(lang, key), draft, Step.SUMMARY, IntakeOp.EDIT, field)

    rows += [
        [_button(texts.get(lang, "intake.btn_confirm"), draft, Step.SUMMARY, IntakeOp.SUBMIT)],
        [edit("intake.btn_edit_category", Step.CATEGORY), edit("intake.btn_edit_location", Step.LOCATION)],
        [edit("intake.btn_edit_photos", Step.PHOTOS), edit("intake.btn_edit_description", Step.DESCRIPTION)],
        [_button(texts.get(lang, "intake.btn_cancel"), draft, Step.SUMMARY, IntakeOp.DISCARD)],
    ]
    return text, InlineKeyboardMarkup(rows)
