"""/reload (admins, private chat): apply the edited config and city files without a restart, or say why not."""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.workflow import Refused
from handlers.context import BotContext, message_of, user_of


async def cmd_reload(update: Update, context: BotContext) -> None:
    s = context.services
    try:
        config = await s.reloader.reload(user_of(update).id)
    except Refused as refusal:
        params = {name: escape(str(value)) for name, value in refusal.params.items()}
        await message_of(update).reply_text(context.t(update, refusal.key, **params))
        return
    await message_of(update).reply_text(context.t(update, "reload.done", city=escape(config.city.name(
        context.lang(update))), units=len(config.city.units), categories=len(config.city.categories),
        places=len(config.city.places)))
