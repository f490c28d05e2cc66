"""Our typed callback context: `context.services` instead of digging in bot_data; and typed accessors for the
parts of an update (or a job's context) that PTB types as optional but a handler's registration guarantees."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, Message, Update, User
from telegram.ext import Application, CallbackContext, ExtBot, Job, JobQueue

from bot.texts import language_for

if TYPE_CHECKING:
    from bot.services import Services


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]

    def lang(self, update: Update) -> str:
        """The language chosen with /lang, else the one Telegram reports (the gatekeeper loads the choice)."""
        user = update.effective_user
        if user is None:
            return language_for(None)
        return self.services.chosen_langs.get(user.id) or language_for(user.language_code)

    def t(self, update: Update, key: str, **params: object) -> str:
        return self.services.texts.get(self.lang(update), key, **params)


BotApp = Application[ExtBot, BotContext, dict, dict, dict, object]


class UpdateMismatch(RuntimeError):
    """A handler got an update without the part its registration promised: a wiring bug, not user input."""


def message_of(update: Update) -> Message:
    """The update's message (for message and command handlers)."""
    if update.effective_message is None:
        raise UpdateMismatch(f"update {update.update_id} has no message")
    return update.effective_message


def user_of(update: Update) -> User:
    """Who sent the update (the gatekeeper drops updates without one)."""
    if update.effective_user is None:
        raise UpdateMismatch(f"update {update.update_id} has no user")
    return update.effective_user


def chat_id_of(update: Update) -> int:
    """The chat the update happened in (a pressed button's message's chat for a callback query)."""
    if update.effective_chat is None:
        raise UpdateMismatch(f"update {update.update_id} has no chat")
    return update.effective_chat.id


def query_of(update: Update) -> CallbackQuery:
    """The pressed button (for callback query handlers)."""
    if update.callback_query is None:
        raise UpdateMismatch(f"update {update.update_id} is not a button press")
    return update.callback_query


def user_data_of(context: BotContext) -> dict[Any, Any]:
    """The per-user store (there is one for every update from a user)."""
    if context.user_data is None:
        raise UpdateMismatch("no user data in this context")
    return context.user_data


def job_queue_of(context: BotContext) -> JobQueue[BotContext]:
    """The application's job queue (installed: python-telegram-bot[job-queue])."""
    if context.job_queue is None:
        raise UpdateMismatch("the application has no job queue")
    return context.job_queue


def job_of(context: BotContext) -> Job[BotContext]:
    """The job a job callback runs for."""
    if context.job is None:
        raise UpdateMismatch("not a job's context")
    return context.job
