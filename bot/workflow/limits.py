"""Limits counted in the database (storage/rate_windows.py), for several instances sharing a PostgreSQL one: each
call is one transaction that checks and records a hit. A single SQLite process keeps its windows in memory
(bot/domain/ratelimit.py) and never calls these."""

from __future__ import annotations

from typing import Any

from storage import rate_windows
from storage.rate_windows import Window

#: Telegram's limits for the bot as a whole. A slot is reserved a moment before the request reaches Telegram,
#: and requests travel at different speeds, so the windows are a little longer than Telegram's: a request that
#: left later but arrived earlier must not make the 21st in Telegram's minute (the multi-instance test's
#: emulator counted two 429s with windows of exactly 1 s and 60 s).
SENDS_PER_S = 29
SEND_WINDOW_S = 1.05
GROUP_SENDS_PER_MIN = 20
GROUP_WINDOW_S = 61.0


async def count_message(db: Any, user_id: int, per_minute: int, now_s: float) -> float:
    """One update of `user_id` at `now_s`: 0 when it is within `per_minute`, else seconds until it would be (the
    update is then not counted, as in memory)."""
    window = Window("user", user_id, 60.0, per_minute)
    return await db.write(lambda c: rate_windows.take(c, [window], now_s))


async def reserve_send(db: Any, chat_id: int | None, group: bool, now_s: float) -> float:
    """One request to Telegram for `chat_id`: 0 when the bot as a whole may send it now (recorded), else the
    seconds to wait before asking again."""
    windows = [Window("send", 0, SEND_WINDOW_S, SENDS_PER_S)]
    if group and chat_id is not None:
        windows.append(Window("group", chat_id, GROUP_WINDOW_S, GROUP_SENDS_PER_MIN))
    return await db.write(lambda c: rate_windows.take(c, windows, now_s))
