"""Limits counted in the database (storage/rate_windows.py), for several instances sharing a PostgreSQL one: each
call is one transaction that checks and records a hit. A single SQLite process keeps its windows in memory
(bot/domain/ratelimit.py) and never calls these."""

from __future__ import annotations

from typing import Any

from storage import rate_windows
from storage.rate_windows import Window

#: Telegram's limits for the bot as a whole (30/s over all chats, 20/min per group), with a margin. A slot is
#: reserved a moment before the request reaches Telegram, and on a loaded machine requests travel at different
#: speeds (queued behind other tasks, a pool, a proxy): requests reserved in different windows can arrive in
#: one. With windows of exactly 29/1 s and 20/60 s the multi-instance test's emulator counted two 429s, and with
#: 29/1.05 s the 3-instance chaos bench (16 residents, 8 kills) four global ones; 25 per 1.25 s (20/s) leaves
#: a quarter of a second of travel jitter before Telegram's second could see a 31st request.
SENDS_PER_S = 25
SEND_WINDOW_S = 1.25
GROUP_SENDS_PER_MIN = 20
GROUP_WINDOW_S = 63.0


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


async def forget_old_hits(db: Any, now_s: float) -> int:
    """Drop hits older than every window (run with the sweep, by the leader): what `take` leaves of keys that are
    never hit again."""
    before = now_s - 2 * max(60.0, GROUP_WINDOW_S)
    return await db.write(lambda c: rate_windows.prune(c, before))
