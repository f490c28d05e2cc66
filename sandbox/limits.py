"""Telegram-like flood limits, injected one-shot faults and the request counters."""

from __future__ import annotations

import math
import random
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
#: Kinds only drawn at a rate: "403" (the user blocks the bot: private chats only, and it stays blocked until the
#: user writes again) and "migrate" (a basic group really becomes a supergroup, once).
RATE_ONLY_KINDS = ("403", "migrate")
RATE_KINDS = FAULT_KINDS + RATE_ONLY_KINDS


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


@dataclass
class FaultRates:
    """Faults drawn at set rates: ``rates[method][kind]`` is the probability of ``kind`` on one call of ``method``
    (lower-case; ``"*"`` for any method not listed). Draws come from one ``random.Random(seed)``: the same calls in
    the same order draw the same faults. ``chat_ids`` None: every chat; otherwise only calls naming one of them
    (chats can be added while a run goes on, without restarting the draws)."""

    rates: dict[str, dict[str, float]]
    seed: int = 0
    chat_ids: set[str] | None = None
    retry_after: int = 1
    delay_s: float = 1.0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        for method, kinds in self.rates.items():
            unknown = set(kinds) - set(RATE_KINDS)
            if unknown:
                raise ValueError(f"unknown fault kind(s) {sorted(unknown)} for {method}")
            if sum(kinds.values()) > 1 or any(r < 0 for r in kinds.values()):
                raise ValueError(f"the rates for {method} must be >= 0 and add up to at most 1")

    def draw(self, method: str, chat_id: Any) -> Fault | None:
        kinds = self.rates.get(method, self.rates.get("*"))
        if not kinds or (self.chat_ids is not None and str(chat_id) not in self.chat_ids):
            return None
        roll, edge = self.rng.random(), 0.0
        for kind, rate in kinds.items():
            edge += rate
            if roll < edge:
                return Fault(kind=kind, method=method, retry_after=self.retry_after, delay_s=self.delay_s)
        return None


class FaultQueue:
    """One-shot faults (the first matching one is consumed per request), then faults drawn at rates."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.rates: FaultRates | None = None

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()
        self.rates = None

    def take(self, method: str, chat_id: Any) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return self.rates.draw(method, chat_id) if self.rates is not None else None


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
