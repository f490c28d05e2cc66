"""The outbox sender: the only code that delivers what use-cases queued, and where Telegram's errors are met.

- 429 RetryAfter: the row waits exactly `retry_after` and is not counted as a failed attempt.
- 5xx / network errors / timeouts: retried with exponential back-off up to `max_attempts`, then `dead`.
  (A timed-out send may have arrived: the rule is "at worst twice, never zero times".)
- 403 blocked / deactivated: the user is marked unreachable and their pending rows are given up, visibly.
- ChatMigrated: the new chat id is recorded, pending rows are re-addressed, the row is sent again at once.
- Other 400s: permanent; the row is `dead` with Telegram's description kept for operators.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, InputMediaPhoto, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.clock import Clock
from bot.config import OutboxConfig
from storage import chats, outbox, tickets, users
from storage.db import Database
from storage.records import OutboxMessage

log = logging.getLogger(__name__)

#: How many chats the sender serves at once; the rate limiter still keeps the overall pace.
CHATS_AT_ONCE = 8


class OutboxSender:
    def __init__(self, db: Database, bot: Bot, clock: Clock, cfg: OutboxConfig) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.cfg = cfg
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        #: Told when a private chat's user turned out unreachable (blocked the bot), after the commit.
        self.on_unreachable: Callable[[int], None] = lambda user_id: None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def kick(self) -> None:
        """Something was queued: send it now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive anything one batch does
                log.exception("outbox batch failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.cfg.poll_interval_s)
            self._wake.clear()

    # -- one pass -------------------------------------------------------------------------------------------

    async def drain(self, limit: int = 200) -> int:
        """Send every row that is due now; returns how many were handled.

        Chats are served concurrently (a slow or rate-limited group does not hold up a resident's confirmation),
        each chat's rows strictly in order (the map pin and photos before the card, the card before its edits).
        """
        handled = 0
        while handled < limit:
            rows = await self.db.read(lambda c: outbox.due(c, self.clock.now(), limit=50))
            if not rows:
                break
            by_chat: dict[int, list[OutboxMessage]] = {}
            for row in rows:
                by_chat.setdefault(row.chat_id, []).append(row)
            gate = asyncio.Semaphore(CHATS_AT_ONCE)

            async def serve(chat_rows: list[OutboxMessage], gate: asyncio.Semaphore = gate) -> None:
                async with gate:
                    for row in chat_rows:
                        await self.send_one(row)

            await asyncio.gather(*(serve(chat_rows) for chat_rows in by_chat.values()))
            handled += len(rows)
        return handled

    async def send_one(self, row: OutboxMessage) -> None:
        """Try one row and record the outcome (sent, later, re-addressed, or dead) in one transaction."""
        try:
            message, after = await self._deliver(row)
        except _CardNotSentYet:
            until = self.clock.now() + timedelta(seconds=self.cfg.backoff_base_s)
            outcome = lambda c: outbox.retry_later(c, row.id, until, "card not sent yet",  # noqa: E731
                                                   count_attempt=False)
        except _CardNeverSent:
            outcome = lambda c: outbox.mark_dead(c, row.id, "the card this edits was never sent")  # noqa: E731
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            until = self.clock.now() + timedelta(seconds=wait)
            outcome = lambda c: outbox.retry_later(c, row.id, until, f"429 retry after {wait}s",  # noqa: E731
                                                   count_attempt=False)
        except ChatMigrated as error:
            new_id = error.new_chat_id
            log.info("chat %s migrated to %s", row.chat_id, new_id)
            outcome = lambda c: self._migrated(c, row.chat_id, new_id)  # noqa: E731
        except Forbidden as error:
            reason = f"403 {error.message}"
            outcome = lambda c: self._unreachable(c, row, reason)  # noqa: E731
            if row.chat_id > 0:
                self.on_unreachable(row.chat_id)
        except BadRequest as error:
            if "not modified" in error.message:  # an edit that was already applied
                outcome = lambda c: outbox.mark_sent(c, row.id, self.clock.now(), None)  # noqa: E731
            else:
                log.warning("outbox row %s refused by Telegram: %s", row.id, error.message)
                reason = f"400 {error.message}"
                outcome = lambda c: outbox.mark_dead(c, row.id, reason)  # noqa: E731
        except TelegramError as error:  # TimedOut and 5xx arrive as NetworkError, a TelegramError
            reason = f"{type(error).__name__}: {error.message}"
            outcome = lambda c: self._retry_or_give_up(c, row, reason)  # noqa: E731
        else:
            message_id = message.message_id if isinstance(message, Message) else None

            def outcome(c: sqlite3.Connection) -> None:
                outbox.mark_sent(c, row.id, self.clock.now(), message_id)
                if after is not None:
                    after(c)
        await self.db.write(outcome)

    def _migrated(self, c: sqlite3.Connection, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: pending rows, its unit binding and its cards move along."""
        outbox.move_chat(c, old_chat_id, new_chat_id, self.clock.now())
        chats.move_binding(c, old_chat_id, new_chat_id)

    def _retry_or_give_up(self, c: sqlite3.Connection, row: OutboxMessage, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.cfg.max_attempts:
            log.warning("outbox row %s given up after %s attempts", row.id, attempts)
            outbox.mark_dead(c, row.id, error)
            return
        delay = min(self.cfg.backoff_max_s, self.cfg.backoff_base_s * 2 ** (attempts - 1))
        outbox.retry_later(c, row.id, self.clock.now() + timedelta(seconds=delay), error)

    def _unreachable(self, c: sqlite3.Connection, row: OutboxMessage, error: str) -> None:
        outbox.mark_dead(c, row.id, f"403 {error}")
        if row.chat_id > 0:  # a private chat: the user blocked us or deleted their account
            users.mark_unreachable(c, row.chat_id, self.clock.now())
            outbox.mark_dead_for_chat(c, row.chat_id, f"403 {error}")

    async def _deliver(self, row: OutboxMessage) -> tuple[Any, Callable[[sqlite3.Connection], None] | None]:
        """Send one row; returns what Telegram answered and what to record with it (in the same transaction)."""
        chat_id, kind, params = row.chat_id, row.kind, dict(row.payload)
        markup = params.pop("reply_markup", None)
        if markup and markup.get("inline_keyboard"):
            params["reply_markup"] = InlineKeyboardMarkup.de_json(markup, self.bot)
        # No buttons: leave reply_markup out (an edit without one drops the card's old buttons).
        if kind == "message":
            return await self.bot.send_message(chat_id, **params), None
        if kind == "card":
            ticket_id, card_kind = params.pop("ticket_id"), params.pop("kind")
            message = await self.bot.send_message(chat_id, **params)
            log.info("card for ticket %s (%s) sent to chat %s", ticket_id, card_kind, chat_id)
            return message, lambda c: chats.card_sent(c, row.id, message.message_id)
        if kind == "edit_card":
            message_id = params.pop("message_id", None) or await self._card_message(params.pop("card_row", None))
            params.pop("card_row", None)
            return await self.bot.edit_message_text(chat_id=chat_id, message_id=message_id, **params), None
        if kind == "location":
            return await self.bot.send_location(chat_id, **params), None
        if kind == "venue":
            return await self.bot.send_venue(chat_id, **params), None
        if kind == "photos":
            return await self._send_photos(chat_id, params["photo_rows"])
        if kind == "photo_file":
            return await self.bot.send_photo(chat_id, Path(params["path"]).read_bytes(),
                                             caption=params.get("caption")), None
        if kind == "document_file":
            return await self.bot.send_document(chat_id, Path(params["path"]).read_bytes(),
                                                filename=params.get("filename"), caption=params.get("caption")), None
        raise ValueError(f"unknown outbox kind {kind!r}")

    async def _card_message(self, card_row: int | None) -> int:
        if card_row is None:
            raise _CardNeverSent
        status, message_id = await self.db.read(lambda c: outbox.sent_message_id(c, card_row))
        if status == "pending":
            raise _CardNotSentYet
        if status != "sent" or message_id is None:
            raise _CardNeverSent
        return message_id

    async def _send_photos(self, chat_id: int, photo_rows: list[int]
                           ) -> tuple[Any, Callable[[sqlite3.Connection], None] | None]:
        """One photo or an album; pictures we only have as bytes are uploaded once, then sent by file id."""
        stored = await self.db.read(lambda c: [tickets.photo_data(c, r) for r in photo_rows])
        media = [file_id or data for file_id, data in stored if file_id or data]
        if not media:
            return None, None
        if len(media) == 1:
            sent = [await self.bot.send_photo(chat_id, media[0])]
        else:
            sent = list(await self.bot.send_media_group(chat_id, [InputMediaPhoto(m) for m in media[:10]]))
        pairs = zip(photo_rows, stored, sent, strict=False)
        new_ids = [(row, msg.photo[-1].file_id) for row, (file_id, _), msg in pairs if file_id is None and msg.photo]

        def remember(c: sqlite3.Connection) -> None:
            for row_id, file_id in new_ids:
                tickets.remember_file_id(c, row_id, file_id)

        return sent[0], remember


class _CardNotSentYet(Exception):
    """The edit's card is still in the outbox: try the edit again a little later."""


class _CardNeverSent(Exception):
    """The edit's card could not be delivered: there is nothing to edit."""


def _seconds(retry_after: int | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
