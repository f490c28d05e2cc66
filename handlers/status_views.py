"""Pure rendering of what anyone may see of a ticket (no reporter, no contact, no description)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from bot import cards
from bot.config import City
from bot.domain.numbers import format_number
from bot.place_words import point_in_words
from bot.texts import Texts
from bot.workflow import StatusView
from storage.records import Event, Ticket


def _when(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else "—"


def _event_line(texts: Texts, lang: str, city: City, event: Event) -> str:
    unit = city.unit(event.unit).name(lang) if event.unit else ""
    what = texts.get(lang, f"event.{event.action}", unit=unit)
    if event.action == "rejected" and event.reason:  # the reason is written for the resident to read
        what += texts.get(lang, "ops.why", reason=event.reason)
    return texts.get(lang, "status.timeline_line", when=_when(event.at, city.timezone), what=escape(what))


def _due(texts: Texts, lang: str, t: Ticket, tz: ZoneInfo) -> str:
    """The handling deadline; while the unit has not signed for it yet, the sign-for deadline."""
    mark = texts.get(lang, "card.provisional") if t.deadline_provisional else ""
    if t.due_at:
        return _when(t.due_at, tz) + mark
    if t.sign_due_at and t.state == "dispatched":
        return texts.get(lang, "card.sign_due", due=_when(t.sign_due_at, tz)) + mark
    return texts.get(lang, "status.not_yet")


def status_text(texts: Texts, lang: str, city: City, view: StatusView) -> str:
    t, tz = view.ticket, city.timezone
    unit = city.unit(t.unit).name(lang) if t.unit else texts.get(lang, "status.not_yet")
    if t.lat is not None and t.lon is not None and not t.place_key and not t.place_text:
        district = point_in_words(texts, lang, city, t.lat, t.lon)  # a shared or EXIF point, in words
    else:
        district = escape(city.unit(t.district).name(lang) if t.district else texts.get(lang,
                                                                                       "status.unknown_district"))
    merged = ""
    if view.merged_into:
        merged = "\n" + texts.get(lang, "merge.status_merged", into=format_number(view.merged_into),
                                   raw_into=view.merged_into)
    return texts.get(
        lang, "status.view",
        number=format_number(t.number), state=texts.get(lang, f"state.{t.state}"),
        category=escape(city.category(t.category).name(lang)), district=district,
        created=_when(t.created_at, tz), updated=_when(t.updated_at, tz), unit=escape(unit),
        due=_due(texts, lang, t, tz), photos=view.photo_count,
        timeline="\n".join(_event_line(texts, lang, city, e) for e in view.timeline),
    ) + merged


def my_tickets_text(texts: Texts, lang: str, city: City, mine: list[Ticket], followed: list[Ticket]) -> str:
    if not mine and not followed:
        return texts.get(lang, "my.empty")

    def line(t: Ticket) -> str:
        return texts.get(lang, "my.line", number=format_number(t.number),
                         category=escape(city.category(t.category).name(lang)),
                         state=texts.get(lang, f"state.{t.state}"),
                         date=t.created_at.astimezone(city.timezone).strftime("%Y-%m-%d"))

    parts = []
    if mine:
        parts.append("\n".join([texts.get(lang, "my.header"), *map(line, mine)]))
    if followed:
        parts.append("\n".join([texts.get(lang, "my.followed_header"), *map(line, followed)]))
    return "\n\n".join(parts)


#: How many of the reporter's own tickets /my offers buttons for (the newest first).
MY_BUTTON_ROWS = 10


def my_tickets_markup(texts: Texts, lang: str, mine: list[Ticket]) -> dict | None:
    """One row of buttons (补充材料, 撤回) per own ticket whose state offers any; None when there is none."""
    rows = [row for row in (cards.my_buttons(texts, lang, t) for t in mine) if row][:MY_BUTTON_ROWS]
    return {"inline_keyboard": rows} if rows else None
