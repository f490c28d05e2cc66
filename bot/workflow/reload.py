"""An admin's ``/reload``: read the config file and its city file again, check them, and swap them in whole.

Reading and validating happen off the event loop (a city's GeoJSON takes a moment to parse); the swap is one
assignment on the loop (``apply``), so every update sees either the old config or the new one, never a mixture.
A use-case already running keeps the config it started with. What needs a restart is refused, naming the key
(``bot.config.reloading``); a bad file is refused with its one-line error, and the running config stays.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from bot.config.reloading import removed_key, restart_only_change
from bot.workflow.common import Refused, WorkflowDeps

log = logging.getLogger(__name__)


def _load_ready(path: Path) -> Config:
    """Load and validate, and build what the city otherwise builds on first use (the zones' lookup grid, the
    working-day calendar), so the first update after the swap does not pay for it on the event loop."""
    config = load_config(path)
    config.city.router()
    config.city.calendar()
    return config


class ConfigReload:
    def __init__(self, deps: WorkflowDeps, apply: Callable[[Config], None]) -> None:
        self.d = deps
        self._apply = apply
        self._lock = asyncio.Lock()  # two admins reloading at once: one after the other

    async def reload(self, user_id: int) -> Config:
        """The config now running; Refused (``admin.not_admin``, ``reload.bad``, ``reload.restart_only``)."""
        if user_id not in self.d.config.admins:
            raise Refused("admin.not_admin")
        async with self._lock:
            running = self.d.config
            try:
                new = await asyncio.to_thread(_load_ready, running.path)
            except ConfigError as error:
                log.warning("reload refused: the config does not validate")
                raise Refused("reload.bad", error=str(error)) from None
            key = restart_only_change(running, new)
            if key is not None:
                raise Refused("reload.restart_only", setting=key)
            gone = removed_key(running.city, new.city)
            if gone is not None:
                raise Refused("reload.bad", error=gone)
            # The restart-only sections are unchanged in the file: keep them as this process runs them (values it
            # overrode at start, such as the sandbox's URL, stay).
            merged = dataclasses.replace(new, telegram=running.telegram, storage=running.storage,
                                         outbox=running.outbox, reminders=running.reminders, reports=running.reports)
            self._apply(merged)
            log.info("config reloaded from %s", running.path)
            return merged
