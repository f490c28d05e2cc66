"""/status NUMBER for anyone, /my for one's own tickets."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update

from bot.domain.numbers import BadNumber, format_number
from bot.workflow import Refused
from handlers.context import BotContext, message_of, user_of
from handlers.status_views import my_tickets_markup, my_tickets_text, status_text


async def cmd_status(update: Update, context: BotContext) -> None:
    s = context.services
    lang = context.lang(update)
    text = " ".join(context.args or []).strip()
    if not text:
        reply = s.texts.get(lang, "status.usage")
    else:
        try:
            view = await s.lookup.status(text)
            reply = status_text(s.texts, lang, s.config.city, view)
        except BadNumber as bad:
            if bad.reason == "mistyped":
                reply = s.texts.get(lang, "status.mistyped", number=escape(text[:40]))
            else:
                reply = s.texts.get(lang, "status.garbage", text=escape(text[:40]))
        except Refused as refusal:
            reply = s.texts.get(lang, refusal.key, number=format_number(refusal.params["number"]))
    await message_of(update).reply_text(reply)


async def cmd_my(update: Update, context: BotContext) -> None:
    s = context.services
    lang = context.lang(update)
    mine, followed = await s.lookup.mine(user_of(update).id)
    markup = my_tickets_markup(s.texts, lang, mine)
    await message_of(update).reply_text(
        my_tickets_text(s.texts, lang, s.config.city, mine, followed),
        reply_markup=InlineKeyboardMarkup.de_json(markup, None) if markup else None)
