"""The outbox sender: the only code that delivers what use-cases queued, and where Telegram's errors are met.

Order. A chat's rows go out strictly in the order they were queued (the map pin and photos before the card, the
card before its edits, an edit before the next edit). A row that failed and waits for its retry (429, 5xx, timeout)
holds back every later row of the same chat, in this pass and in later ones, until it is sent or given up; other
chats go on. Rows scheduled for later on purpose (quiet hours: `not_before` in the future, never tried) hold
nothing back. An edit whose card (or a `drop_buttons` whose message) is itself scheduled for later waits for it
without holding the chat.

Card edits. An edit of a card is never sent after a newer one of the same card (same chat and message id, or same
`card_row`): before it goes out, a newer queued edit makes it `superseded` (last_error "superseded by row N"), and
when an edit is sent, older edits of that card still queued are superseded by it.

- 429 RetryAfter: the row waits exactly `retry_after` and is not counted as a failed attempt.
- 5xx / network errors / timeouts: retried with exponential back-off up to `max_attempts`, then `dead`.
  (A timed-out send may have arrived: the rule is "at worst twice, never zero times".)
- 403 blocked / deactivated: the user is marked unreachable and their pending rows are given up, visibly.
- ChatMigrated: the new chat id is recorded, pending rows are re-addressed, the row is sent again at once.
- Other 400s: permanent; the row is `dead` with Telegram's description kept for operators.

Kinds: message, card, edit_card (`message_id` or `card_row`), drop_buttons (`message_id` or `source_row`: the
message's keyboard is removed, or replaced by the payload's `reply_markup`; "not modified" counts as done),
location, venue, photos, photo (one stored picture, `photo_row`, with a caption), photo_file, document_file. A
message or photo may reply to a card that is still on its way (`reply_card_row`: the card's outbox row); it waits
for it, and goes without the reply if it never went.
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
from storage.leadership import Leadership, SoleProcess
from storage.records import OutboxMessage

log = logging.getLogger(__name__)

#: How many chats the sender serves at once; the rate limiter still keeps the overall pace.
CHATS_AT_ONCE = 8


class OutboxSender:
    def __init__(self, db: Database, bot: Bot, clock: Clock, cfg: OutboxConfig,
                 leadership: Leadership | None = None) -> None:
        self.db = db
        #: Only the process leading "outbox" sends (storage/leadership.py): every row is sent by one process,
        #: and the rate limiter's pace (30/s overall, 20/min per group) holds for the bot as a whole.
        self.leadership = leadership or SoleProcess()
        self.bot = bot
        self.clock = clock
        self.cfg = cfg
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        #: Told when a private chat's user turned out unreachable (blocked the bot), after the commit.
        self.on_unreachable: Callable[[int], None] = lambda user_id: None
        #: Told, inside the transaction that gives them up, which rows to an unreachable user will never go
        #: (the workflow tells a unit whose question could not reach the reporter).
        self.on_given_up: Callable[[sqlite3.Connection, list[int]], None] = lambda c, row_ids: None
        #: A group became a supergroup (old id, new id): by default its pending rows and binding move; the bot
        #: wires in the workflow's version, which also re-posts the cards left behind in the old group.
        self.on_migrated: Callable[[sqlite3.Connection, int, int], None] = self._move_rows

    # -- lifecycle ------------------------------------------------------------------------------------------

    def kick(self) -> None:
        """Something was queued: send it now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, grace_s: float = 0.0) -> None:
        """Stop sending. With ``grace_s``, first finish the pass under way and send what is due now (what the
        last updates queued), for at most that long: a graceful stop leaves nothing owed for the next start. A
        send cut off by the grace's end may go again after the restart (as after a crash), never zero times."""
        self._stopping = True
        self._wake.set()
        if self._task:
            if grace_s > 0:
                with contextlib.suppress(Exception):  # TimeoutError, or whatever the last pass raised
                    await asyncio.wait_for(self._final_pass(), grace_s)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _final_pass(self) -> None:
        assert self._task is not None
        await asyncio.wait({self._task})  # the loop sees _stopping after its pass
        if self.leadership.held("outbox"):  # a follower leaves it to the leader, as always
            await self.drain()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                if await self.leadership.try_acquire("outbox"):  # a follower asks again each interval
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
        each chat's rows strictly in order: when one of them fails, the chat's later rows wait (see the module).
        """
        handled = 0
        while handled < limit:
            rows = await self.db.read(lambda c: outbox.due(c, self.clock.now(), limit=50))
            if not rows:
                break
            by_chat: dict[int, list[OutboxMessage]] = {}
            for row in sorted(rows, key=lambda r: r.id):
                by_chat.setdefault(row.chat_id, []).append(row)
            gate = asyncio.Semaphore(CHATS_AT_ONCE)

            async def serve(chat_rows: list[OutboxMessage], gate: asyncio.Semaphore = gate) -> None:
                async with gate:
                    for row in chat_rows:
                        if await self.send_one(row):
                            break  # the rest of this chat waits (the next query holds it back too)

            await asyncio.gather(*(serve(chat_rows) for chat_rows in by_chat.values()))
            handled += len(rows)
        return handled

    async def send_one(self, row: OutboxMessage) -> bool:
        """Try one row and record the outcome (sent, later, re-addressed, superseded or dead) in one transaction.

        True when the chat's later rows must not go before this one does: it failed and waits for a retry, or the
        chat moved (the rows in hand carry the old chat id)."""
        hold = False
        try:
            message, after = await self._deliver(row)
        except _Superseded as superseded:
            newer = superseded.row_id
            outcome = lambda c: outbox.mark_superseded(c, row.id, newer)  # noqa: E731
        except _NotSentYet as not_yet:
            source_row, reason = not_yet.source_row, not_yet.reason
            outcome = lambda c: self._wait_for(c, row, source_row, reason)  # noqa: E731
        except _NeverSent as never:
            reason = never.reason
            outcome = lambda c: outbox.mark_dead(c, row.id, reason)  # noqa: E731
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            until = self.clock.now() + timedelta(seconds=wait)
            outcome = lambda c: outbox.retry_later(c, row.id, until, f"429 retry after {wait}s",  # noqa: E731
                                                   count_attempt=False)
            hold = True
        except ChatMigrated as error:
            new_id = error.new_chat_id
            log.info("chat %s migrated to %s", row.chat_id, new_id)
            outcome = lambda c: self._migrated(c, row.chat_id, new_id)  # noqa: E731
            hold = True
        except Forbidden as error:
            reason = f"403 {error.message}"
            outcome = lambda c: self._unreachable(c, row, reason)  # noqa: E731
            if row.chat_id > 0:
                self.on_unreachable(row.chat_id)
        except BadRequest as error:
            if "not modified" in error.message:  # an edit that was already applied
                outcome = lambda c: self._sent(c, row, None, None)  # noqa: E731
            else:
                log.warning("outbox row %s refused by Telegram: %s", row.id, error.message)
                reason = f"400 {error.message}"
                outcome = lambda c: outbox.mark_dead(c, row.id, reason)  # noqa: E731
        except TelegramError as error:  # TimedOut and 5xx arrive as NetworkError, a TelegramError
            reason = f"{type(error).__name__}: {error.message}"
            outcome = lambda c: self._retry_or_give_up(c, row, reason)  # noqa: E731
            hold = row.attempts + 1 < self.cfg.max_attempts
        else:
            message_id = message.message_id if isinstance(message, Message) else None
            outcome = lambda c: self._sent(c, row, message_id, after)  # noqa: E731
        await self.db.write(outcome)
        return hold

    def _sent(self, c: sqlite3.Connection, row: OutboxMessage, message_id: int | None,
              after: Callable[[sqlite3.Connection], None] | None) -> None:
        outbox.mark_sent(c, row.id, self.clock.now(), message_id)
        if after is not None:
            after(c)
        if row.kind == "edit_card":  # what older edits of this card still say is out of date now
            target, card_row = row.payload.get("message_id"), row.payload.get("card_row")
            if not target and card_row is not None:
                target = outbox.sent_message_id(c, card_row)[1]
            outbox.supersede_older_card_edits(c, row.id, row.chat_id, target, card_row)

    def _wait_for(self, c: sqlite3.Connection, row: OutboxMessage, source_row: int, reason: str) -> None:
        """The row's card (or message) is queued but not due yet: wait for it without holding the chat.

        With strict order per chat this is rare: the card goes before its edits in the same chat, and a card that
        failed holds its edits back anyway; what is left is a card scheduled for later on purpose."""
        until = self.clock.now() + timedelta(seconds=self.cfg.backoff_base_s)
        source_due = outbox.not_before(c, source_row)
        if source_due is not None and source_due > until:
            until = source_due
        outbox.retry_later(c, row.id, until, reason, count_attempt=False, hold_chat=False)

    def _migrated(self, c: sqlite3.Connection, old_chat_id: int, new_chat_id: int) -> None:
        self.on_migrated(c, old_chat_id, new_chat_id)

    def _move_rows(self, c: sqlite3.Connection, old_chat_id: int, new_chat_id: int) -> None:
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

    def _unreachable(self, c: sqlite3.Connection, row: OutboxMessage, reason: str) -> None:
        """403: `reason` is the row's last_error as it stands ("403 Forbidden: bot was blocked by the user")."""
        outbox.mark_dead(c, row.id, reason)
        if row.chat_id > 0:  # a private chat: the user blocked us or deleted their account
            given_up = [row.id, *outbox.pending_ids_for_chat(c, row.chat_id)]
            users.mark_unreachable(c, row.chat_id, self.clock.now())
            outbox.mark_dead_for_chat(c, row.chat_id, reason)
            self.on_given_up(c, given_up)

    async def _deliver(self, row: OutboxMessage) -> tuple[Any, Callable[[sqlite3.Connection], None] | None]:
        """Send one row; returns what Telegram answered and what to record with it (in the same transaction)."""
        chat_id, kind, params = row.chat_id, row.kind, dict(row.payload)
        markup = params.pop("reply_markup", None)
        if markup and markup.get("inline_keyboard"):
            params["reply_markup"] = InlineKeyboardMarkup.de_json(markup, self.bot)
        # No buttons: leave reply_markup out (an edit without one drops the card's old buttons).
        if kind == "message":
            params.update(await self._reply_target(params.pop("reply_card_row", None)))
            return await self.bot.send_message(chat_id, **params), None
        if kind == "photo":
            params.update(await self._reply_target(params.pop("reply_card_row", None)))
            return await self._send_stored_photo(chat_id, params.pop("photo_row"), params)
        if kind == "card":
            ticket_id, card_kind = params.pop("ticket_id"), params.pop("kind")
            message = await self.bot.send_message(chat_id, **params)
            log.info("card for ticket %s (%s) sent to chat %s", ticket_id, card_kind, chat_id)
            return message, lambda c: chats.card_sent(c, row.id, message.message_id)
        if kind == "edit_card":
            message_id = await self._card_to_edit(row, params.pop("message_id", None), params.pop("card_row", None))
            return await self.bot.edit_message_text(chat_id=chat_id, message_id=message_id, **params), None
        if kind == "drop_buttons":
            source_row = params.get("source_row")
            message_id = params.get("message_id") or await self._sent_message(source_row, "message")
            # a drop may put other buttons in place of the spent ones (the rating's reason buttons)
            return await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                            reply_markup=params.get("reply_markup")), None
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

    async def _card_to_edit(self, row: OutboxMessage, message_id: int | None, card_row: int | None) -> int:
        """The card's message id; _Superseded if a newer edit of the same card is queued behind this one."""
        def look(c: sqlite3.Connection) -> tuple[str | None, int | None, int | None]:
            status, target = "sent", message_id
            if not message_id:
                status, target = outbox.sent_message_id(c, card_row) if card_row is not None else (None, None)
            return status, target, outbox.newer_card_edit(c, row.id, row.chat_id, target, card_row)

        status, target, newer = await self.db.read(look)
        if newer is not None:
            raise _Superseded(newer)
        return _delivered(status, target, card_row, "card")

    async def _sent_message(self, source_row: int | None, what: str) -> int:
        """The message the outbox row `source_row` sent; waits while it is queued, gives up if it never went."""
        if source_row is None:
            raise _NeverSent(f"the {what} this edits was never sent")
        status, message_id = await self.db.read(lambda c: outbox.sent_message_id(c, source_row))
        return _delivered(status, message_id, source_row, what)

    async def _reply_target(self, card_row: int | None) -> dict[str, Any]:
        """Reply parameters for a message answering a card that was queued by outbox row ``card_row``: waits
        while the card is queued; sends without the reply if the card never went."""
        if card_row is None:
            return {}
        status, message_id = await self.db.read(lambda c: outbox.sent_message_id(c, card_row))
        if status == "pending":
            raise _NotSentYet(card_row, "card not sent yet")
        if status != "sent" or message_id is None:
            return {}
        return {"reply_to_message_id": message_id, "allow_sending_without_reply": True}

    async def _send_stored_photo(self, chat_id: int, photo_row: int, params: dict[str, Any]
                                 ) -> tuple[Any, Callable[[sqlite3.Connection], None] | None]:
        """One stored picture (by file id, or our own bytes uploaded once) with its caption."""
        file_id, data = await self.db.read(lambda c: tickets.photo_data(c, photo_row))
        if not (file_id or data):
            raise _NeverSent("the picture is gone")
        message = await self.bot.send_photo(chat_id, file_id or data, **params)
        if file_id is None and message.photo:
            new_id = message.photo[-1].file_id
            return message, lambda c: tickets.remember_file_id(c, photo_row, new_id)
        return message, None

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


def _delivered(status: str | None, message_id: int | None, source_row: int | None, what: str) -> int:
    """The message id an edit is for, given the status of the outbox row that sends that message (``source_row``
    None: the edit names the message itself); _NotSentYet while that row is queued, _NeverSent if it never went."""
    if source_row is not None and status == "pending":
        raise _NotSentYet(source_row, f"{what} not sent yet")
    if status != "sent" or message_id is None:
        raise _NeverSent(f"the {what} this edits was never sent")
    return message_id


class _NotSentYet(Exception):
    """The message an edit is for (its outbox row `source_row`) is still in the outbox: try again later."""

    def __init__(self, source_row: int, reason: str) -> None:
        super().__init__(reason)
        self.source_row = source_row
        self.reason = reason


class _NeverSent(Exception):
    """The message an edit is for could not be delivered: there is nothing to edit."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Superseded(Exception):
    """A newer edit of the same card is queued: this one would only be overwritten (or, late, overwrite it)."""

    def __init__(self, row_id: int) -> None:
        super().__init__(f"superseded by row {row_id}")
        self.row_id = row_id


def _seconds(retry_after: int | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
