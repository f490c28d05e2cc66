"""Telegram-like flood limits, injected one-shot faults and the request counters."""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

# Methods that count against the flood limits (a message sent or edited).
COUNTED_METHODS = frozenset({
    "sendmessage", "sendphoto", "senddocument", "sendmediagroup", "sendlocation", "sendvenue",
    "editmessagetext", "editmessagecaption", "editmessagereplymarkup",
})
FAULT_KINDS = ("429", "500", "502", "timeout", "disconnect")


@dataclass
class FloodConfig:
    enabled: bool = False
    global_per_s: float | None = 30
    group_per_min: float | None = 20
    private_per_s: float | None = None


class FloodLimiter:
    """Sliding windows per bot: all chats per second, each group per minute, each private chat per second."""

    def __init__(self) -> None:
        self.config = FloodConfig()
        self._windows: dict[tuple[Any, ...], deque[float]] = {}

    def configure(self, config: FloodConfig) -> None:
        self.config = config
        self._windows.clear()

    def check(self, bot_id: int, chat_id: int | None, chat_type: str | None, weight: int = 1) -> int | None:
        """Record ``weight`` sends and return None, or return retry_after (s) without recording."""
        cfg = self.config
        if not cfg.enabled:
            return None
        now = time.monotonic()
        scopes: list[tuple[tuple[Any, ...], float, float]] = []
        if cfg.global_per_s:
            scopes.append(((bot_id, "all"), 1.0, cfg.global_per_s))
        if chat_id is not None and chat_type in ("group", "supergroup") and cfg.group_per_min:
            scopes.append(((bot_id, chat_id), 60.0, cfg.group_per_min))
        if chat_id is not None and chat_type == "private" and cfg.private_per_s:
            scopes.append(((bot_id, chat_id), 1.0, cfg.private_per_s))
        wait = 0.0
        for key, window, limit in scopes:
            stamps = self._windows.setdefault(key, deque())
            while stamps and stamps[0] <= now - window:
                stamps.popleft()
            if len(stamps) + weight > limit:
                # The window frees when enough of the oldest stamps expire.
                idx = min(len(stamps) - 1, max(0, len(stamps) + weight - int(limit) - 1))
                wait = max(wait, stamps[idx] + window - now if stamps else window)
        if wait > 0:
            return max(1, math.ceil(wait))
        for key, _, _ in scopes:
            self._windows[key].extend([now] * weight)
        return None


@dataclass
class Fault:
    kind: str
    method: str | None = None
    chat_id: str | None = None
    retry_after: int = 1
    delay_s: float = 1.0
    remaining: int = 1

    def matches(self, method: str, chat_id: Any) -> bool:
        return (self.method is None or self.method == method) and (
            self.chat_id is None or self.chat_id == str(chat_id))


class FaultQueue:
    """One-shot faults; the first matching one is consumed per request."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def take(self, method: str, chat_id: Any) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None


@dataclass
class Stats:
    methods: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    flood_429: int = 0
    fault_429: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"methods": dict(self.methods), "errors": dict(self.errors), "faults": dict(self.faults),
                "flood_429": self.flood_429, "fault_429": self.fault_429}
