"""The chaos run's checks (bench/chaos_invariants.py) and the stray-copy rule, on small hand-made inputs, edge
cases first."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.chaos_invariants import Figures, chain_error, check_outbox
from bot.workflow.messages import is_stray_copy

REG = ("registered", None, "registered")


def test_a_chain_must_start_with_registration() -> None:
    assert chain_error([], "registered") == "does not start with registered"
    assert chain_error([("accepted", "dispatched", "accepted")], "accepted") == "does not start with registered"


def test_notes_without_a_state_are_not_moves() -> None:
    assert chain_error([REG, ("followed", None, None)], "registered") is None


def test_a_move_from_a_state_the_ticket_was_not_in_is_caught() -> None:
    why = chain_error([REG, ("dispatched", "registered", "dispatched"), ("accepted", "registered", "accepted")],
                      "accepted")
    assert why is not None and "was dispatched" in why


def test_a_move_the_specification_does_not_have_is_caught() -> None:
    why = chain_error([REG, ("closed", "registered", "closed")], "closed")
    assert why is not None and "no row of the specification" in why


def test_the_last_move_must_be_the_tickets_state() -> None:
    assert chain_error([REG], "closed") == "events end in registered, the ticket is closed"


def test_a_stray_copy_is_a_message_that_is_none_of_the_tracked_cards() -> None:
    assert not is_stray_copy([], 5)  # no card here (a private chat): nothing to compare with
    assert not is_stray_copy([None], 5)  # the card is still in the outbox: this may yet be recorded as it
    assert not is_stray_copy([5, 9], 9)
    assert is_stray_copy([7], 5)


def _outbox(tmp_path: Path, rows: list[tuple]) -> sqlite3.Connection:
    c = sqlite3.connect(tmp_path / "o.sqlite3")
    c.row_factory = sqlite3.Row
    c.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, chat_id INTEGER, kind TEXT, payload TEXT, status TEXT, "
              "last_error TEXT, sent_message_id INTEGER, not_before TEXT, created_at TEXT)")
    c.executemany("INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  [row if len(row) == 9 else (*row, row[7]) for row in rows])  # queued for at once
    return c


def test_outbox_rows_delivered_twice_dropped_silently_or_still_owed_are_counted(tmp_path: Path) -> None:
    past, future = "2020-01-01T00:00:00+00:00", "2999-01-01T00:00:00+00:00"
    c = _outbox(tmp_path, [
        (1, 10, "message", '{"text": "<b>hi</b> there", "parse_mode": "HTML"}', "sent", None, 2, past),
        (2, 10, "card", '{"text": "card 1\\nstate A"}', "sent", None, 3, past),
        (3, 10, "message", '{"text": "gone"}', "dead", None, None, past),
        (4, 10, "message", '{"text": "refused"}', "dead", "400 chat not found", None, past),
        (5, 10, "message", '{"text": "owed"}', "pending", None, None, past),
        (6, 10, "message", '{"text": "in the morning"}', "pending", None, None, future),
        (7, 11, "message", '{"text": "lost"}', "sent", None, 8, past),
    ])
    record = [{"chat_id": 10, "message_id": 1, "text": "hi there"},  # a copy sent before the kill
              {"chat_id": 10, "message_id": 2, "text": "hi there"},
              {"chat_id": 10, "message_id": 3, "text": "card 1\nstate B"}]  # edited since: same first line
    f = Figures()
    check_outbox(c, f, record)
    assert f.duplicates == 1
    assert f.dropped_silently == [3]
    assert f.still_pending == [5]
    assert f.undelivered == [7]
    assert f.owed_text_rows == 3


def test_a_reply_delivered_before_an_earlier_one_that_was_due_is_out_of_order(tmp_path: Path) -> None:
    t0, t1, later = "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01+00:00", "2026-01-01T08:00:00+00:00"
    c = _outbox(tmp_path, [
        (1, 10, "message", '{"text": "a"}', "sent", None, 5, t0, t0),
        (2, 10, "message", '{"text": "b"}', "sent", None, 4, t1, t1),  # queued while 1 was due, yet first
        (3, 11, "message", '{"text": "held"}', "sent", None, 9, later, t0),  # held till the morning on purpose
        (4, 11, "message", '{"text": "now"}', "sent", None, 8, t1, t1),
    ])
    f = Figures()
    record = [{"chat_id": chat, "message_id": mid, "text": text}
              for chat, mid, text in ((10, 5, "a"), (10, 4, "b"), (11, 9, "held"), (11, 8, "now"))]
    check_outbox(c, f, record)
    assert f.out_of_order == ["10: row 1 before row 2"] and not f.ok


def test_sweeps_counted_once_per_interval() -> None:
    f = Figures()
    f.count_sweeps([0.0, 3.0, 6.1, 12.0, 15.0], 3)  # a failover: one interval missed, within bounds
    assert (f.sweep_runs, f.sweep_expected, f.sweep_too_close, f.sweep_longest_gap_s) == (5, 6, 0, 12.0 - 6.1)
    assert f.sweep_ok
    f.count_sweeps([0.0, 3.0, 3.2, 6.0], 3)  # two instances swept in one interval
    assert f.sweep_too_close == 1 and not f.sweep_ok and not f.ok
    f.count_sweeps([0.0, 20.0], 3)  # nobody swept for six intervals
    assert not f.sweep_ok
