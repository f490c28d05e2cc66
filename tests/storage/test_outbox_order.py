"""The outbox queries behind the sender's ordering rule: what a failed row holds back, which card edit is newer."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from storage import outbox
from tests.storage.conftest import migrated

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=6)


@pytest.fixture
def c() -> sqlite3.Connection:
    conn = migrated()
    return conn


def texts(rows) -> list[str]:
    return [r.payload["text"] for r in rows]


def test_a_failed_row_holds_back_its_chats_later_rows_and_nobody_elses(c: sqlite3.Connection) -> None:
    first = outbox.add(c, 1, "message", {"text": "a1"}, NOW)
    outbox.add(c, 1, "message", {"text": "a2"}, NOW)
    outbox.add(c, 2, "message", {"text": "b1"}, NOW)
    assert first is not None
    outbox.retry_later(c, first, NOW + timedelta(seconds=30), "429 retry after 30s", count_attempt=False)
    assert texts(outbox.due(c, NOW)) == ["b1"]
    # once its retry is due, the failed row goes first and alone
    assert sorted(texts(outbox.due(c, NOW + timedelta(seconds=30)))) == ["a1", "b1"]
    outbox.mark_sent(c, first, NOW, 10)
    assert texts(outbox.due(c, NOW)) == ["a2", "b1"]


def test_a_row_given_up_holds_nothing_back(c: sqlite3.Connection) -> None:
    first = outbox.add(c, 1, "message", {"text": "a1"}, NOW)
    outbox.add(c, 1, "message", {"text": "a2"}, NOW)
    assert first is not None
    outbox.retry_later(c, first, LATER, "NetworkError: 502")
    outbox.mark_dead(c, first, "NetworkError: 502")
    assert texts(outbox.due(c, NOW)) == ["a2"]


def test_a_late_retry_leaves_a_row_given_up_meanwhile_as_it_is(c: sqlite3.Connection) -> None:
    """A try in flight when the chat was given up (the user blocked the bot) ends in a 429: still given up,
    with the reason that explains it."""
    row = outbox.add(c, 1, "message", {"text": "a1"}, NOW)
    assert row is not None
    outbox.mark_dead_for_chat(c, 1, "403 Forbidden: bot was blocked by the user")
    outbox.retry_later(c, row, LATER, "429 retry after 1.0s", count_attempt=False)
    status, error = c.execute("SELECT status, last_error FROM outbox WHERE id = ?", (row,)).fetchone()
    assert (status, error) == ("dead", "403 Forbidden: bot was blocked by the user")
    assert outbox.due(c, LATER) == []


def test_a_row_scheduled_for_later_holds_nothing_back(c: sqlite3.Connection) -> None:
    outbox.add(c, 1, "message", {"text": "morning digest"}, NOW, not_before=LATER)
    outbox.add(c, 1, "message", {"text": "now"}, NOW)
    assert texts(outbox.due(c, NOW)) == ["now"]


def test_an_edit_waiting_for_its_card_holds_nothing_back(c: sqlite3.Connection) -> None:
    card = outbox.add(c, 1, "card", {"text": "card"}, NOW, not_before=LATER)
    edit = outbox.add(c, 1, "edit_card", {"text": "edit", "card_row": card}, NOW)
    outbox.add(c, 1, "message", {"text": "other"}, NOW)
    assert edit is not None
    outbox.retry_later(c, edit, LATER, "card not sent yet", count_attempt=False, hold_chat=False)
    assert texts(outbox.due(c, NOW)) == ["other"]


def test_the_newest_pending_edit_of_the_same_card(c: sqlite3.Connection) -> None:
    card = outbox.add(c, 1, "card", {"text": "card"}, NOW)
    e1 = outbox.add(c, 1, "edit_card", {"text": "1", "card_row": card}, NOW)
    outbox.add(c, 1, "edit_card", {"text": "other card", "message_id": 99}, NOW)
    outbox.add(c, 2, "edit_card", {"text": "other chat", "card_row": card}, NOW)
    e2 = outbox.add(c, 1, "edit_card", {"text": "2", "message_id": 7}, NOW)
    assert e1 is not None and e2 is not None
    # by the card's row, or by the message id the card was sent as
    assert outbox.newer_card_edit(c, e1, 1, None, card) is None
    assert outbox.newer_card_edit(c, e1, 1, 7, card) == e2
    assert outbox.newer_card_edit(c, e2, 1, 7, card) is None
    assert outbox.newer_card_edit(c, e1, 1, None, None) is None

    assert outbox.supersede_older_card_edits(c, e2, 1, 7, card) == 1
    status, error = c.execute("SELECT status, last_error FROM outbox WHERE id = ?", (e1,)).fetchone()
    assert (status, error) == ("superseded", f"superseded by row {e2}")
    assert [r.payload["text"] for r in outbox.due(c, NOW)] == ["card", "other card", "other chat", "2"]


def test_row_id_by_dedupe_key(c: sqlite3.Connection) -> None:
    assert outbox.row_id_by_dedupe_key(c, "t1:rate") is None
    row_id = outbox.add(c, 1, "message", {"text": "rate"}, NOW, dedupe_key="t1:rate")
    assert row_id is not None and outbox.row_id_by_dedupe_key(c, "t1:rate") == row_id


@pytest.mark.parametrize("query", ["due", "newer"])
def test_the_ordering_queries_run_on_indexes(c: sqlite3.Connection, query: str) -> None:
    """They run on every pass (and before every card edit): no scan of the table."""
    plans: list[str] = []

    class Spy:  # runs each statement after recording its query plan
        def execute(self, sql: str, params=()):
            plans.extend(row[3] for row in c.execute("EXPLAIN QUERY PLAN " + sql, params))
            return c.execute(sql, params)

    if query == "due":
        outbox.due(Spy(), NOW)  # type: ignore[arg-type]
    else:
        outbox.newer_card_edit(Spy(), 1, 1, 7, 3)  # type: ignore[arg-type]
    assert plans and all("USING INDEX" in p or "SUBQUERY" in p for p in plans), plans
