"""The group chats' digests, rendered from the catalogue (pure): the sweep's reminder / overdue / escalation
digest and the morning list of a unit's open cases. The sweep decides what is due; this draws it, in the group
language, split into messages under Telegram's limit at line boundaries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cards import open_case_line, unit_name, when
from bot.config import City
from bot.domain.html_text import split_message
from bot.domain.numbers import format_number
from bot.texts import Texts
from storage.records import Ticket

MAX_MESSAGE = 4000  # under Telegram's 4096, with room for the "(part n)" mark


def working_hours(texts: Texts, lang: str, seconds: float) -> str:
    hours = max(0.0, seconds) / 3600
    shown = f"{hours:.0f}" if hours >= 10 else f"{hours:.1f}"
    return texts.get(lang, "remind.working_hours", hours=shown)


def deadline_line(texts: Texts, lang: str, city: City, key: str, t: Ticket, column: str, **more: Any) -> str:
    """One deadline of a case (``column``: ``sign_due_at`` or ``due_at``) in a digest; ``key`` says which kind."""
    g = texts.get
    return g(lang, key, number=format_number(t.number), category=city.category(t.category).name(lang),
             what=g(lang, "remind.what_sign" if column == "sign_due_at" else "remind.what_handle"),
             due=when(getattr(t, column), city), unit=unit_name(city, t.unit, lang),
             provisional=g(lang, "remind.provisional") if t.deadline_provisional else "", **more)


def reminder_digest(texts: Texts, lang: str, soon: list[str], overdue: list[str], escalated: list[str]
                    ) -> list[str]:
    """The sections that have lines, as messages; a digest in several parts says which part each is."""
    g = texts.get
    sections = [(g(lang, "remind.soon_header", count=len(soon)), soon),
                (g(lang, "remind.overdue_header", count=len(overdue)), overdue),
                (g(lang, "remind.escalation_header", count=len(escalated)), escalated)]
    lines: list[str] = []
    for header, items in sections:
        if items:
            lines += ([""] if lines else []) + [header, *items]
    parts = split_message(lines, MAX_MESSAGE)
    if len(parts) == 1:
        return parts
    return [part + "\n" + g(lang, "remind.continued", part=i) for i, part in enumerate(parts, start=1)]


def morning_digest(texts: Texts, lang: str, city: City, unit: str, cases: list[Ticket], now: datetime) -> list[str]:
    """A unit's open cases by due time, the same line /open draws for each."""
    header = texts.get(lang, "remind.morning_header", unit=unit_name(city, unit, lang), count=len(cases))
    return split_message([header, *(open_case_line(texts, lang, city, t, now) for t in cases)], MAX_MESSAGE)
