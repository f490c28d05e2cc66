"""Our typed callback context: `context.services` instead of digging in bot_data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.texts import language_for

if TYPE_CHECKING:
    from bot.services import Services


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]

    def lang(self, update: Update) -> str:
        user = update.effective_user
        return language_for(user.language_code if user else None)

    def t(self, update: Update, key: str, **params: object) -> str:
        return self.services.texts.get(self.lang(update), key, **params)


BotApp = Application[ExtBot, BotContext, dict, dict, dict, object]
