"""The baseline: a bare python-telegram-bot echo bot, polled exactly like ours.

It does the least a PTB bot can do per update (one reply, no database, no rendering), so the ratio of our
throughput to its throughput says how much our own code costs on top of PTB, HTTP and the emulator.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

#: Not a secret: the emulator accepts any well-formed token.
ECHO_TOKEN = "4343:bench_echo_token_not_a_secret"


#: The echo carries one inline button, so the baseline resident can tap as often as an intake does.
_AGAIN = InlineKeyboardMarkup([[InlineKeyboardButton("again", callback_data="again")]])


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer every message with one reply: its text, or the kind of thing it was (location, photo)."""
    message = update.effective_message
    if message is None:
        return
    if message.text:
        reply = message.text
    elif message.location:
        reply = f"location {message.location.latitude:.4f},{message.location.longitude:.4f}"
    elif message.photo:
        reply = f"photo {message.photo[-1].width}x{message.photo[-1].height}"
    else:
        reply = "?"
    await message.reply_text(reply, reply_markup=_AGAIN)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()


def build_echo(token: str, base_url: str, base_file_url: str) -> Application:  # type: ignore[type-arg]
    app = ApplicationBuilder().token(token).base_url(base_url).base_file_url(base_file_url).build()
    app.add_handler(MessageHandler(filters.ALL, _echo))
    app.add_handler(CallbackQueryHandler(_answer))
    return app


class EchoBot:
    """Start/stop the echo Application; polling as our BotRunner polls (poll_interval=0, timeout=1)."""

    def __init__(self, token: str, base_url: str, base_file_url: str) -> None:
        self.app = build_echo(token, base_url, base_file_url)

    async def start(self) -> None:
        await self.app.initialize()
        await self.app.start()
        await self.app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.app.updater and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
