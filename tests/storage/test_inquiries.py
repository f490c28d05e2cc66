"""The rounds of a unit's questions to a reporter: numbered per ticket, found by the message a reply refers to
(only in the reporter's own chat), by the outbox rows given up, and tallied for the card."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from storage import inquiries, outbox, tickets, users
from tests.storage.conftest import migrated

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
REPORTER, OTHER = 501, 502


@pytest.fixture
def c() -> sqlite3.Connection:
    conn = migrated()
    for uid in (REPORTER, OTHER):
        users.upsert(conn, uid, "zh", NOW)
    return conn


def _ticket(c: sqlite3.Connection, number: str) -> int:
    new = tickets.NewTicket(number, "accepted", "housing", REPORTER, "楼道灯坏了", None, None, "none", None, None,
                            "yingzhou", "general")
    return tickets.insert(c, new, NOW).id


def _asked(c: sqlite3.Connection, ticket_id: int, question: str, message_id: int | None) -> inquiries.Inquiry:
    round_ = inquiries.add(c, ticket_id, "yingzhou", 77, REPORTER, question, NOW)
    row = outbox.add(c, REPORTER, "message", {"text": question}, NOW)
    inquiries.set_outbox_row(c, round_.id, row)
    if message_id is not None and row is not None:
        outbox.mark_sent(c, row, NOW, message_id)
    return round_


def test_rounds_are_numbered_per_ticket_and_found_by_the_replied_message(c: sqlite3.Connection) -> None:
    a, b = _ticket(c, "350823614"), _ticket(c, "160873200")
    a1, a2, b1 = _asked(c, a, "哪一根？", 11), _asked(c, a, "有照片吗？", 12), _asked(c, b, "几号楼？", 13)
    assert (a1.round, a2.round, b1.round) == (1, 2, 1)
    assert inquiries.by_reply(c, REPORTER, 11) == inquiries.get(c, a1.id)
    assert inquiries.by_reply(c, REPORTER, 13).ticket_id == b  # type: ignore[union-attr]
    assert inquiries.by_reply(c, REPORTER, 99) is None
    assert inquiries.by_reply(c, OTHER, 11) is None, "only the reporter's own chat"


def test_a_question_not_sent_yet_is_no_reply_target_but_can_be_given_up(c: sqlite3.Connection) -> None:
    t = _ticket(c, "350823614")
    pending = _asked(c, t, "哪一根？", None)
    assert inquiries.by_reply(c, REPORTER, 1) is None
    given_up = outbox.pending_ids_for_chat(c, REPORTER)
    assert [r.id for r in inquiries.by_outbox_rows(c, given_up)] == [pending.id]
    assert inquiries.by_outbox_rows(c, []) == []


def test_the_tally_counts_questions_and_those_answered(c: sqlite3.Connection) -> None:
    t = _ticket(c, "350823614")
    assert inquiries.tally(c, t) == (0, 0)
    first, _ = _asked(c, t, "哪一根？", 11), _asked(c, t, "有照片吗？", 12)
    inquiries.answered(c, first.id)
    inquiries.answered(c, first.id)  # a second answer to the same question
    assert inquiries.tally(c, t) == (2, 1)
