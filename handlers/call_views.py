"""Pure rendering of an operator's call (代录): the caller steps' prompts and a caller's tickets."""

from __future__ import annotations

from html import escape

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.cards import when
from bot.config import City
from bot.domain.numbers import format_number
from bot.texts import Texts
from storage.records import Draft, Ticket


def phone_prompt(texts: Texts, lang: str) -> tuple[str, ReplyKeyboardRemove]:
    return texts.get(lang, "hotline.ask_phone"), ReplyKeyboardRemove()


def name_prompt(texts: Texts, lang: str) -> tuple[str, ReplyKeyboardMarkup]:
    keyboard = [[KeyboardButton(texts.get(lang, "hotline.btn_skip_name"))]]
    return texts.get(lang, "hotline.ask_name"), ReplyKeyboardMarkup(keyboard, resize_keyboard=True,
                                                                     one_time_keyboard=True)


def caller_line(texts: Texts, lang: str, draft: Draft) -> str:
    """The summary's first line for a call: who the complaint is filed for."""
    return texts.get(lang, "hotline.summary_caller", phone=escape(draft.caller_phone or "—"),
                     name=escape(draft.caller_name or texts.get(lang, "hotline.no_name")))


def case_lines(texts: Texts, lang: str, city: City, found: list[Ticket]) -> str:
    """A caller's tickets, one line each: number, date, category, state."""
    return "\n".join(texts.get(lang, "hotline.case_line", number=format_number(t.number),
                               date=when(t.created_at, city)[:10],
                               category=escape(city.category(t.category).name(lang)),
                               state=texts.get(lang, f"state.{t.state}")) for t in found)
