"""Per-user sliding-window limits (messages per minute), kept in memory: they guard the bot, not the ledger."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class SlidingWindow:
    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[int, deque[datetime]] = {}

    def hit(self, key: int, now: datetime) -> bool:
        """Record one event for `key`; False when it goes over the limit (the event is then not counted)."""
        hits = self._hits.setdefault(key, deque())
        cutoff = now - self.window
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        if len(self._hits) > 10_000:  # drop idle keys now and then so memory stays bounded
            for k in [k for k, v in self._hits.items() if not v or v[-1] <= cutoff]:
                del self._hits[k]
        return True

    def retry_in(self, key: int, now: datetime) -> timedelta:
        hits = self._hits.get(key)
        if not hits or len(hits) < self.limit:
            return timedelta(0)
        return max(timedelta(0), hits[0] + self.window - now)
