"""A graceful stop (SIGTERM, a deploy) sends what the last updates queued before it lets go: nothing waits in the
outbox for the next start."""

from __future__ import annotations

from sandbox.local import LocalSandbox
from storage import outbox


async def test_a_graceful_stop_sends_what_was_queued_just_before_it(local: LocalSandbox) -> None:
    assert local.client is not None and local.db is not None and local.runner is not None
    person = await local.client.person("居民甲", language_code="zh")
    await person.say("/start")
    await person.expect()
    now = local.clock.now()
    # What a use-case of the last update queued: committed, the sender not yet woken.
    await local.db.write(lambda c: outbox.add(c, person.private, "message", {"text": "最后一条通知"}, now))

    await local.stop_bot()

    texts = [m.get("text") for m in await local.client.messages(person.private)]
    assert "最后一条通知" in texts
