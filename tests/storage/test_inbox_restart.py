"""An instance restarted after kill -9 takes back its own claims at once (storage/inbox.py `release_worker`, used
by bot/webhook.py when several instances share the inbox); another instance's claims keep their lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import WebhookConfig
from bot.webhook import instance_name
from storage import inbox


async def test_a_restart_releases_only_its_own_claims(db) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    until = now + timedelta(minutes=2)
    mine, theirs = instance_name(WebhookConfig(listen_port=8443)), "other-host:0.0.0.0:8443"

    def setup(c):
        inbox.store(c, 1, 10, "{}", now)
        inbox.store(c, 2, 20, "{}", now)
        return inbox.claim(c, mine, now, until), inbox.claim(c, theirs, now, until)

    a, b = await db.write(setup)
    assert (a.update_id, b.update_id) == (1, 2)
    assert await db.write(lambda c: inbox.claim(c, "third", now, until)) is None  # both held
    assert await db.write(lambda c: inbox.release_worker(c, mine)) == 1
    again = await db.write(lambda c: inbox.claim(c, mine, now, until))  # at once, not after the lease
    assert again is not None and again.update_id == 1 and again.attempts == 2
    assert await db.write(lambda c: inbox.claim(c, "third", now, until)) is None  # theirs waits for its lease
