"""Waiting for the operator's Ctrl-C or the service manager's SIGTERM, for the long-running commands."""

from __future__ import annotations

import asyncio
import contextlib
import signal


async def until_stop_signal() -> None:
    """Return once SIGINT or SIGTERM arrives (where the loop cannot take signal handlers, wait forever)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
