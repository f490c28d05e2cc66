"""A picture a resident sent as a file, fetched for checking: the size and type are checked before the download
(the intake's photo step and material added later share this)."""

from __future__ import annotations

from telegram import Document
from telegram.error import BadRequest

from bot.workflow.intake_photos import PictureChecks
from handlers.context import BotContext


async def document_bytes(context: BotContext, doc: Document, checks: PictureChecks) -> bytes:
    """The file's bytes, if it says it is an image of a fitting size; Refused otherwise (or when Telegram says
    it is too big to download, or getFile cannot tell its size): no byte is read before both sizes are checked."""
    checks.check_document(doc.mime_type, doc.file_name, doc.file_size)
    try:
        stored = await context.bot.get_file(doc.file_id)
    except BadRequest as error:
        if "too big" in error.message.lower():
            raise checks.too_big() from None
        raise
    checks.check_stored_size(stored.file_size)  # what the server says of the file, before reading it
    return bytes(await stored.download_as_bytearray())
