"""The Bot API's limits for the bot as a whole when several instances send (PostgreSQL): ≈30 messages/s over all
chats and 20/min per group. PTB's `AIORateLimiter` counts per process, so three instances could send three times
that; `SharedRateLimiter` instead reserves each request's slot in the database (bot/workflow/limits.py, one
short transaction) and waits, without sending, until a slot is free. A request without a chat (answering a
button, getMe) is not counted, as in `AIORateLimiter`. A 429 that still comes is raised to the caller (the
outbox retries it later)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

from bot.workflow.limits import reserve_send

#: A wait longer than this is cut into pieces (another instance may have freed slots meanwhile: ask again).
MAX_SLEEP_S = 1.0


class SharedRateLimiter(BaseRateLimiter[int]):
    def __init__(self, db: Any, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        #: how many requests waited for a slot, and how long in all (for operators and the bench)
        self.waited = 0
        self.waited_s = 0.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Any:
        chat_id = data.get("chat_id")
        if chat_id is None:
            return await callback(*args, **kwargs)
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        group = isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)
        key = chat_id if isinstance(chat_id, int) else None
        began = None
        while (wait := await reserve_send(self.db, key, group, self.clock())) > 0:
            began = began or time.monotonic()
            await asyncio.sleep(min(wait, MAX_SLEEP_S))
        if began is not None:
            self.waited += 1
            self.waited_s += time.monotonic() - began
        return await callback(*args, **kwargs)
