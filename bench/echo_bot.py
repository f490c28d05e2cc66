"""The baseline: a bare python-telegram-bot echo bot, polled exactly like ours.

It does the least a PTB bot can do per update (one reply, no database, no rendering), so the ratio of our
throughput to its throughput says how much our own code costs on top of PTB, HTTP and the emulator.
"""

from __future__ import annotations

from telegram import Update
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


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()


def build_echo(token: str, base_url: str, base_file_url: str) -> Application:  # type: ignore[type-arg]
    app = ApplicationBuilder().token(token).base_url(base_url).base_file_url(base_file_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
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
