"""The webhook inbox's claim rules (storage/inbox.py): a repeated delivery stored once, a chat's updates handed
out one at a time in order, other chats meanwhile, leases that run out, and pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import inbox
from tests.storage.conftest import migrated

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def _filled(*rows: tuple[int, int | None]):
    conn = migrated()
    for update_id, chat_id in rows:
        assert inbox.store(conn, update_id, chat_id, f'{{"update_id": {update_id}}}', T0)
    return conn


def _claim(conn, worker: str = "a", now: datetime = T0) -> int | None:
    row = inbox.claim(conn, worker, now, now + LEASE)
    return row.update_id if row else None


def test_a_repeated_delivery_is_stored_once_and_keeps_its_state() -> None:
    conn = _filled((1, 10))
    assert _claim(conn) == 1 and inbox.finish(conn, 1, "a", T0)
    assert not inbox.store(conn, 1, 10, '{"update_id": 1, "again": true}', T0 + LEASE)
    rows = inbox.rows(conn)
    assert [(r["update_id"], r["state"], r["payload"]) for r in rows] == [(1, "done", '{"update_id": 1}')]
    assert _claim(conn) is None  # done: never handed out again


def test_a_chats_next_update_waits_for_the_previous_one_other_chats_do_not() -> None:
    conn = _filled((1, 10), (2, 10), (3, 20), (4, 10), (5, None), (6, None))
    assert _claim(conn, "a") == 1
    assert _claim(conn, "b") == 3  # chat 10's update 2 waits for 1; chat 20 goes on, in another process too
    assert _claim(conn, "a") == 5  # updates without a chat keep no order
    assert _claim(conn, "b") == 6
    assert _claim(conn, "a") is None
    assert inbox.finish(conn, 1, "a", T0)
    assert _claim(conn, "b") == 2  # now chat 10's next, whoever asks
    assert _claim(conn, "a") is None  # 4 waits for 2
    assert inbox.finish(conn, 2, "b", T0, error="ValueError: boom")  # a failed update does not block its chat
    assert _claim(conn, "a") == 4
    assert {r["update_id"]: r["state"] for r in inbox.rows(conn)}[2] == "failed"


def test_a_dead_process_claim_is_taken_over_when_its_lease_runs_out() -> None:
    conn = _filled((1, 10), (2, 10))
    assert _claim(conn, "dead") == 1
    assert _claim(conn, "alive", T0 + LEASE - timedelta(seconds=1)) is None  # still leased: nobody else
    assert _claim(conn, "alive", T0 + LEASE + timedelta(seconds=1)) == 1  # taken over, still before update 2
    assert not inbox.finish(conn, 1, "dead", T0 + LEASE)  # the late original cannot mark it any more
    row = inbox.rows(conn)[0]
    assert (row["claimed_by"], row["attempts"], row["state"]) == ("alive", 2, "pending")
    assert inbox.finish(conn, 1, "alive", T0 + LEASE)
    assert _claim(conn, "alive", T0 + LEASE) == 2


def test_a_renewed_lease_is_not_taken_over() -> None:
    conn = _filled((1, 10))
    assert _claim(conn, "a") == 1
    assert inbox.renew(conn, "a", [1], T0 + 3 * LEASE) == 1
    assert inbox.renew(conn, "b", [1], T0 + 9 * LEASE) == 0  # only the holder renews
    assert _claim(conn, "b", T0 + 2 * LEASE) is None
    assert _claim(conn, "b", T0 + 3 * LEASE + timedelta(seconds=1)) == 1


def test_at_start_the_claims_of_the_only_process_that_could_hold_them_are_dropped() -> None:
    conn = _filled((1, 10), (2, 20))
    assert _claim(conn, "crashed") == 1
    assert inbox.release_all(conn) == 1
    assert _claim(conn, "restarted") == 1


def test_processed_rows_are_pruned_after_the_keep_time_pending_ones_never() -> None:
    conn = _filled((1, 10), (2, 20), (3, 30))
    for _ in range(2):
        _claim(conn)
    inbox.finish(conn, 1, "a", T0)
    inbox.finish(conn, 2, "a", T0 + timedelta(hours=5))
    assert inbox.prune(conn, T0 + timedelta(hours=1)) == 1
    assert [r["update_id"] for r in inbox.rows(conn)] == [2, 3]
    assert inbox.counts(conn) == {"done": 1, "pending": 1}
    assert inbox.oldest_pending(conn) == T0
