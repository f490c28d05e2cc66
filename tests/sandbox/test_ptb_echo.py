"""A real python-telegram-bot Application polls the sandbox and answers a scripted user."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox.client import SandboxClient
from sandbox.server import Sandbox

from .conftest import TOKEN, make_jpeg


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("房产物业", callback_data="cat:housing")]])
    await update.effective_message.reply_text("请选择类别", reply_markup=keyboard)


async def _photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    biggest = update.effective_message.photo[-1]
    data = await (await biggest.get_file()).download_as_bytearray()
    await update.effective_message.reply_text(f"photo {biggest.width}x{biggest.height} {len(data)} bytes")


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"got {query.data}")
    await query.edit_message_text(f"已选择 {query.data}")


async def test_ptb_application_echoes_a_scripted_user(sandbox: Sandbox, client: SandboxClient) -> None:
    app = ApplicationBuilder().token(TOKEN).base_url(sandbox.bot_base_url).base_file_url(
        sandbox.file_base_url).build()
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CallbackQueryHandler(_button))
    app.add_handler(MessageHandler(filters.PHOTO, _photo))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    alice = await client.person("李雷", language_code="zh")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await alice.say("你好")
            reply = await alice.expect(contains="echo", timeout=10)
            assert reply["text"] == "echo: 你好"

            await alice.say("/start")
            await alice.expect(contains="类别", timeout=10)
            answer = await alice.tap("房产物业")
            assert answer == {"answered": True, "text": "got cat:housing", "show_alert": False, "url": None}
            edited = await alice.expect(contains="已选择", timeout=10)
            assert edited["text"] == "已选择 cat:housing"
            assert "reply_markup" not in edited  # editMessageText without a markup drops the keyboard

            await alice.send_photo(make_jpeg((2000, 1000)))
            sized = await alice.expect(contains="photo", timeout=10)
            assert sized["text"].startswith("photo 1280x640 ")
        finally:
            await app.updater.stop()
            await app.stop()
    transcript = await alice.transcript()
    assert [m["outgoing"] for m in transcript] == [False, True, False, True, False, True]
