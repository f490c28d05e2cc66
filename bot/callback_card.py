"""The callback card (回访) of a hotline ticket, in the operators' chat (pure: ticket in, text and buttons out).

Once the unit has answered, an operator calls the caller back and records the rating with the same two questions
a resident answers (``bot.cards.rating_buttons``), or presses "not reached". The card names the caller's phone and
name: it is drawn for the operators' chat only, never for a unit's.
"""

from __future__ import annotations

from html import escape
from typing import Any

from bot.cards import action_buttons, place_line, rating_buttons, unit_name
from bot.config import City
from bot.domain.lifecycle import Card, TicketState
from bot.domain.numbers import format_number
from bot.texts import Texts
from storage.contacts import Contact
from storage.records import Ticket


def callback_card(texts: Texts, lang: str, city: City, t: Ticket, contact: Contact | None, tries: int,
                  max_tries: int, unreachable: bool) -> dict[str, Any]:
    g = texts.get
    lines = [
        g(lang, "hotline.callback_title", number=format_number(t.number)),
        g(lang, "card.category", category=escape(city.category(t.category).name(lang))),
        place_line(texts, lang, city, t),
        g(lang, "hotline.callback_answer", unit=escape(unit_name(city, t.unit, lang)), answer=escape(t.answer or "")),
        g(lang, "hotline.caller_line", phone=escape(contact.phone or "—") if contact else "—",
          name=escape(contact.name or "—") if contact else "—"),
        g(lang, "card.state", state=g(lang, f"state.{t.state}")),
    ]
    if tries:
        lines.append(g(lang, "hotline.callback_tries", tries=tries, max=max_tries))
    rows: list[list[dict[str, str]]] = []
    if t.state == TicketState.RESOLVED:
        rows = [*rating_buttons(texts, lang, t)["inline_keyboard"], *action_buttons(texts, lang, Card.CALLBACK, t)]
        lines.append(g(lang, "rates.ask"))  # the last line: the rating's question, as under a resident's answer
    elif unreachable:
        lines.append(g(lang, "hotline.callback_unreachable", tries=max_tries))
    elif t.solved or t.satisfaction:
        lines.append(g(lang, "hotline.callback_rated",
                       solved=g(lang, f"rates.btn_{t.solved}") if t.solved else "—",
                       satisfaction=g(lang, f"rates.btn_{t.satisfaction}") if t.satisfaction else "—"))
    return {"text": "\n".join(lines), "parse_mode": "HTML", "reply_markup": {"inline_keyboard": rows}}
