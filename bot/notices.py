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
    category = city.category(ticket.category).name(lang)
    return {
        "text": texts.get(lang, "notice.registered", number=format_number(ticket.number),
                          raw_number=ticket.number, category=escape(category)),
        "parse_mode": "HTML",
    }
