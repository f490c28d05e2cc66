"""Where an update's time goes: wraps a running bot's update processing, its HTTP requests and its database.

The wrappers are instance attributes set by the benchmark only (nothing in the bot changes). Time spent in a
Bot API request or a database hop is charged to the update being processed when it happens inside
`Application.process_update`; the outbox sender runs in its own task and is counted apart.

PTB processes updates one at a time unless `concurrent_updates` is set, so "busy" ÷ phase wall close to 1
means the bot's update loop, not the residents or the emulator, sets the pace.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tally:
    seconds: float = 0.0
    count: int = 0

    def add(self, seconds: float) -> None:
        self.seconds += seconds
        self.count += 1


@dataclass
class UpdateCosts:
    busy: Tally = field(default_factory=Tally)  # inside process_update
    api: Tally = field(default_factory=Tally)  # Bot API requests made while processing an update
    db: Tally = field(default_factory=Tally)  # database hops made while processing an update
    api_outside: Tally = field(default_factory=Tally)  # other requests (the outbox sender), not getUpdates
    db_outside: Tally = field(default_factory=Tally)


_IN_UPDATE: contextvars.ContextVar[bool] = contextvars.ContextVar("bench_in_update", default=False)


def _timed(original: Callable[..., Awaitable[Any]], inside: Callable[[], Tally], outside: Callable[[], Tally],
           skip: Callable[[tuple[Any, ...]], bool] = lambda args: False) -> Callable[..., Awaitable[Any]]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if skip(args):
            return await original(*args, **kwargs)
        start = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            (inside() if _IN_UPDATE.get() else outside()).add(elapsed)

    return wrapper


class UpdateMeter:
    def __init__(self) -> None:
        self.costs = UpdateCosts()

    def install(self, app: Any, db: Any | None = None) -> None:
        """Wrap `app.process_update`, the bot's general request (not getUpdates) and, if given, the database's one
        hop: `_run` (SQLite's connection thread) or `_handed_over` (PostgreSQL's pool, storage/pg.py)."""
        original = app.process_update

        async def process_update(update: object) -> None:
            token = _IN_UPDATE.set(True)
            start = time.perf_counter()
            try:
                await original(update)
            finally:
                self.costs.busy.add(time.perf_counter() - start)
                _IN_UPDATE.reset(token)

        app.process_update = process_update  # PTB calls self.process_update(update)
        request = app.bot.request  # the general request object; getUpdates has its own
        request.do_request = _timed(request.do_request,
                                    lambda: self.costs.api, lambda: self.costs.api_outside,
                                    skip=lambda args: bool(args) and str(args[0]).endswith("/getUpdates"))
        if db is not None:
            hop = "_run" if hasattr(db, "_run") else "_handed_over"
            setattr(db, hop, _timed(getattr(db, hop), lambda: self.costs.db, lambda: self.costs.db_outside))

    def reset(self) -> None:
        self.costs = UpdateCosts()

    def as_dict(self, wall_s: float) -> dict[str, Any]:
        c = self.costs
        n = c.busy.count

        def per_update(t: Tally) -> float | None:
            return round(t.seconds / n * 1000, 2) if n else None

        rest = c.busy.seconds - c.api.seconds - c.db.seconds
        return {
            "updates_processed": n, "busy_s": round(c.busy.seconds, 3),
            "busy_fraction_of_wall": round(c.busy.seconds / wall_s, 3) if wall_s else None,
            "mean_ms_per_update": per_update(c.busy),
            "api_calls_per_update": round(c.api.count / n, 2) if n else None,
            "api_ms_per_update": per_update(c.api),
            "api_ms_per_call": round(c.api.seconds / c.api.count * 1000, 2) if c.api.count else None,
            "db_hops_per_update": round(c.db.count / n, 2) if n else None,
            "db_ms_per_update": per_update(c.db),
            "db_ms_per_hop": round(c.db.seconds / c.db.count * 1000, 2) if c.db.count else None,
            "other_ms_per_update": round(rest / n * 1000, 2) if n else None,
            "outbox_api_calls": c.api_outside.count, "outbox_api_s": round(c.api_outside.seconds, 3),
            "outbox_db_hops": c.db_outside.count, "outbox_db_s": round(c.db_outside.seconds, 3),
        }
