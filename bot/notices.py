"""Messages a change sends through the outbox, rendered in the recipient's language when the change is written.

Each returns the Bot API parameters of a sendMessage (minus chat_id), stored as the outbox row's payload.
"""

from __future__ import annotations

from html import escape
from typing import Any

from bot.config import City
from bot.domain.numbers import format_number
from bot.texts import Texts
from storage.records import Ticket


def ticket_registered(texts: Texts, lang: str, ticket: Ticket, city: City) -> dict[str, Any]:
    """The confirmation, with where the ticket went when routing dispatched it at once."""
    category = city.category(ticket.category).name(lang)
    dispatched = ""
    if ticket.unit:
        dispatched = "\n" + texts.get(lang, "notify.dispatched", number=format_number(ticket.number),
                                       unit=escape(city.unit(ticket.unit).name(lang)))
    text = texts.get(lang, "notice.registered", number=format_number(ticket.number), raw_number=ticket.number,
                     category=escape(category), dispatched=dispatched)
    return {"text": text, "parse_mode": "HTML"}


def call_registered(texts: Texts, lang: str, ticket: Ticket, city: City) -> dict[str, Any]:
    """The operator's confirmation of a call filed for a caller: the number to read out, where it went."""
    category = city.category(ticket.category).name(lang)
    unit = escape(city.unit(ticket.unit).name(lang)) if ticket.unit else texts.get(lang, "hotline.no_unit_yet")
    text = texts.get(lang, "hotline.registered", number=format_number(ticket.number), raw_number=ticket.number,
                     category=escape(category), unit=unit)
    return {"text": text, "parse_mode": "HTML"}
