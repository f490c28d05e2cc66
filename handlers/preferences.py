"""A person's own settings: /lang switches the language the bot speaks to them (buttons, one per catalogue)."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.texts import LANGUAGES
from bot.workflow import Refused
from handlers.context import BotContext, message_of, query_of

#: Callback data of a language button: ``lang|<code>``.
LANG_PATTERN = re.compile(r"^lang\|([a-z]{2})$")


async def cmd_lang(update: Update, context: BotContext) -> None:
    texts = context.services.texts
    # Each button is written in its own language, so anyone finds theirs whatever the bot speaks now.
    row = [InlineKeyboardButton(texts.get(lang, "lang.name"), callback_data=f"lang|{lang}") for lang in LANGUAGES]
    current = texts.get(context.lang(update), "lang.name")
    await message_of(update).reply_text(context.t(update, "lang.ask", current=current),
                                        reply_markup=InlineKeyboardMarkup([row]))


async def on_lang_button(update: Update, context: BotContext) -> None:
    query = query_of(update)
    found = LANG_PATTERN.match(query.data or "")
    s = context.services
    try:
        lang = await s.people.choose_language(query.from_user.id, found.group(1) if found else "")
    except Refused as refusal:
        await query.answer(context.t(update, refusal.key), show_alert=True)
        return
    s.chosen_langs[query.from_user.id] = lang
    s.seen_users[query.from_user.id] = lang  # already written with the choice
    done = s.texts.get(lang, "lang.chosen")
    await query.answer(done)
    try:
        await query.edit_message_text(done)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise
