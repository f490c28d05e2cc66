"""Delivery of queued updates to a bot's webhook, one at a time and in order, like Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp

from sandbox.state import Bot

_RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0)


class WebhookDispatcher:
    """One delivery task per bot with a webhook; updates leave the queue only on a 2xx answer."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    def changed(self, bot: Bot) -> None:
        task = self._tasks.pop(bot.token, None)
        if task is not None:
            task.cancel()
        if bot.webhook_url:
            self._tasks[bot.token] = asyncio.get_running_loop().create_task(self._deliver(bot, bot.webhook_url))

    async def _deliver(self, bot: Bot, url: str) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        failures = 0
        while bot.webhook_url == url:
            async with bot.wakeup:
                await bot.wakeup.wait_for(lambda: bool(bot.updates))
            update = bot.updates[0]
            headers = {"X-Telegram-Bot-Api-Secret-Token": bot.webhook_secret} if bot.webhook_secret else {}
            try:
                async with self._session.post(url, json=update, headers=headers) as resp:
                    ok = 200 <= resp.status < 300
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                ok, error = False, f"Connection failed: {exc.__class__.__name__}"
            if ok:
                failures = 0
                if bot.updates and bot.updates[0] is update:
                    bot.updates.pop(0)
                continue
            bot.webhook_error = (int(time.time()), error)
            await asyncio.sleep(_RETRY_DELAYS[min(failures, len(_RETRY_DELAYS) - 1)])
            failures += 1

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
