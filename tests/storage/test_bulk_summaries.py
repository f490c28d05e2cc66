"""Bulk loads add the report summaries once per batch (storage.bulk.deferred_summaries) and the result is the one
the per-row triggers give: the demo seed and the ledger import, loaded with the deferral, leave the day, month and
channel summaries equal to a recount from the tickets and equal to the same rows loaded with the triggers on; the
triggers really are paused inside a batch, a failed batch leaves the switch off and counts nothing, and the
ordinary writes after a bulk load (the workflow's seam, a delete) keep counting."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.lifecycle import TicketState
from bot.seed import TicketSeed, seed_demo, seed_tickets
from bot.workflow import importing
from storage import bulk, users
from tests.storage.conftest import migrated
from tests.storage.test_day_summary import _CONFIG, _RECOUNT, _table, _walk
from tests.storage.test_ledger_import import case, ledger, run

SUMMARIES = (("ticket_day_summary", "day, unit, district, category"),
             ("ticket_month_summary", "unit, district, category, month"),
             ("ticket_channel_day", "day, channel, client"))
CHANNEL_RECOUNT = """
SELECT channel, coalesce(channel_client, ''), substr(created_at, 1, 10), sum(state != 'withdrawn'),
       count(rating), coalesce(sum(rating = 'satisfied'), 0)
FROM tickets WHERE state != 'merged' GROUP BY 1, 2, 3
"""
NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)


def contents(c: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every summary row, all-zero rows left out (a delete leaves one behind; a recount has none)."""
    out = {}
    for table, key in SUMMARIES:
        out[table] = [tuple(r) for r in c.execute(f"SELECT * FROM {table} ORDER BY {key}")
                      if any(isinstance(v, int) and v for v in tuple(r))]
    return out


def assert_equal_to_a_recount(c: sqlite3.Connection) -> None:
    for table, column, width in (("ticket_day_summary", "day", 10), ("ticket_month_summary", "month", 7)):
        recount = c.execute(_RECOUNT, {"n": width}).fetchall()
        assert _table(c, table, column) == {tuple(r[:4]): tuple(r[4:]) for r in recount}, table
    channels = {tuple(r[:3]): tuple(r[3:]) for r in c.execute(
        "SELECT channel, client, day, received, rated, satisfied FROM ticket_channel_day") if any(r[3:])}
    assert channels == {tuple(r[:3]): tuple(r[3:]) for r in c.execute(CHANNEL_RECOUNT) if any(r[3:])}
    assert c.execute("SELECT count(*) FROM summaries_deferred").fetchone()[0] == 0, "the switch is left on"


def triggers_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a backend that cannot defer: the bulk code inserts with the triggers on and adds nothing itself."""
    monkeypatch.setattr(bulk, "defers_summaries", lambda conn: False)


def test_the_seed_with_deferral_equals_a_recount_and_the_seed_with_triggers(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    results = []
    for name, defer in (("deferred", True), ("triggers", False)):
        if not defer:
            triggers_only(monkeypatch)
        path = tmp_path / f"{name}.sqlite3"
        seed_demo(path, _CONFIG.city, 1800, date(2026, 6, 30), seed=5)
        seed_demo(path, _CONFIG.city, 600, date(2026, 6, 30), seed=6)  # a second load adds to the first
        c = sqlite3.connect(path)
        try:
            assert_equal_to_a_recount(c)
            results.append(contents(c))
            assert c.execute("SELECT sum(received) + sum(withdrawn) FROM ticket_month_summary").fetchone()[0] == (
                c.execute("SELECT count(*) FROM tickets WHERE state != 'merged'").fetchone()[0]) > 2000
        finally:
            c.close()
    assert results[0] == results[1]


def _ledger_rows(n: int) -> list[list[str]]:
    rnd = random.Random(12)
    rows = []
    start = datetime(2026, 1, 28, 8, 0)
    for i in range(n):
        received = start + timedelta(hours=7 * i, minutes=rnd.randrange(60))
        finished = received + timedelta(hours=rnd.uniform(2, 300))
        kw = {"received": f"{received:%Y-%m-%d %H:%M:%S}", "finished": f"{finished:%Y-%m-%d %H:%M:%S}",
              "category": rnd.choice(["物业管理", "市容环卫", "噪音扰民", "道路交通"]),
              "unit": rnd.choice(["颍州区", "颍泉区", "颍东区"]),
              "rating": rnd.choice(["满意", "基本满意", "不满意", "未评价", ""])}
        if i % 13 == 0:
            kw.update(state="不予受理", unit="", rating="")
        elif i % 17 == 0:
            kw.update(state="已撤件", rating="")
        elif i % 29 == 0:
            kw.update(state="办理中", finished="", answer="", rating="")  # open: registered by the intake
        rows.append(case(f"B{i:05d}", **kw))
    return rows


def test_the_import_with_deferral_equals_a_recount_and_the_import_with_triggers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "BATCH", 70)  # several batches, open cases between them
    rows = _ledger_rows(400)
    results = []
    for name, defer in (("deferred", True), ("triggers", False)):
        if not defer:
            triggers_only(monkeypatch)
        folder = tmp_path / name
        folder.mkdir()
        result = asyncio.run(run(folder, ledger(folder, rows)))
        assert result.refused == [] and result.open > 5 and result.finished > 300
        c = sqlite3.connect(folder / "bot.sqlite3")
        try:
            assert_equal_to_a_recount(c)
            results.append(contents(c))
        finally:
            c.close()
    assert results[0] == results[1]
    withdrawn = sum(1 for i in range(400) if i % 13 and i % 17 == 0)
    assert sum(r[3] for r in results[0]["ticket_channel_day"] if r[0] == "import") == 400 - withdrawn


def _seeds(n: int, rnd: random.Random) -> list[TicketSeed]:
    states = [s for s in TicketState if s is not TicketState.MERGED] + [TicketState.MERGED]
    return [TicketSeed(rnd.choice(states), rnd.choice(("housing", "municipal", "traffic")),
                       rnd.choice(("yingzhou", "yingquan", "transport")), "general",
                       NOW - timedelta(days=rnd.randrange(60), hours=rnd.randrange(24)), 501,
                       due=NOW + timedelta(hours=5)) for _ in range(n)]


def test_normal_writes_after_a_deferred_load_keep_counting() -> None:
    c = migrated()
    users.upsert(c, 501, "zh", NOW)
    assert seed_tickets(c, _seeds(120, random.Random(3))) == 120
    assert_equal_to_a_recount(c)
    before = c.execute("SELECT sum(received) FROM ticket_month_summary").fetchone()[0]
    # the workflow's seam files and moves tickets (an insert trigger each: the switch is off again) ...
    _walk(c, [("file", i, 90 * i) for i in range(12)] + [("act", i * 7, 45) for i in range(60)])
    assert c.execute("SELECT sum(received) FROM ticket_month_summary").fetchone()[0] > before
    # ... and changes to the bulk-loaded tickets themselves go through the update and delete triggers
    c.execute("UPDATE tickets SET rating = 'satisfied', solved = 'partly' WHERE id IN (1, 2, 3)")
    c.execute("UPDATE tickets SET state = 'withdrawn' WHERE id = 4")
    c.execute("DELETE FROM tickets WHERE id = 5")
    assert_equal_to_a_recount(c)


def test_the_triggers_are_paused_inside_a_batch_and_the_batch_counts_once_at_the_end() -> None:
    c = migrated()
    users.upsert(c, 501, "zh", NOW)
    seed_tickets(c, _seeds(10, random.Random(4)))
    before = contents(c)
    first = bulk.next_ticket_id(c)
    cols = [r[1] for r in c.execute("PRAGMA table_info(tickets)")]
    copies = [(first + i, f"COPY{i}", *r[2:]) for i, r in enumerate(c.execute(
        f"SELECT {', '.join(cols)} FROM tickets WHERE state != 'merged' ORDER BY id LIMIT 3"))]
    sql = f"INSERT INTO tickets({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    with bulk.deferred_summaries(c, first, first + 2):
        c.executemany(sql, copies)
        assert contents(c) == before, "a trigger counted a row of the batch"
    assert contents(c) != before
    assert_equal_to_a_recount(c)


def _closed(tid: int, number: str) -> tuple[object, ...]:
    """A closed ticket of 1 March, resolved on time, as a row of storage.bulk.TICKET_COLUMNS."""
    values = {"id": tid, "number": number, "state": "closed", "version": 1, "category": "housing",
              "reporter_id": 501, "description": "x", "location_source": "none", "unit": "yingzhou",
              "deadline_class": "general", "created_at": "2026-03-01T00:00:00.000000+00:00",
              "updated_at": "2026-03-01T00:00:00.000000+00:00", "lead": 0, "bounces": 0, "reopen_count": 0,
              "resolved_on_time": 1}
    return tuple(values.get(column) for column in bulk.TICKET_COLUMNS)


def test_a_failed_batch_counts_nothing_and_leaves_the_switch_off() -> None:
    c = migrated()
    users.upsert(c, 501, "zh", NOW)
    seed_tickets(c, _seeds(10, random.Random(5)))
    c.commit()
    before = contents(c)
    first = bulk.next_ticket_id(c)
    rows = [_closed(first + i, f"X{i}") for i in range(3)]
    rows.append(rows[0])  # a duplicate id: the executemany fails half-way
    with pytest.raises(sqlite3.IntegrityError):
        bulk.insert(c, rows, [])
    assert c.execute("SELECT count(*) FROM summaries_deferred").fetchone()[0] == 0
    c.rollback()
    assert contents(c) == before
    assert_equal_to_a_recount(c)


def test_rows_whose_ids_leave_gaps_are_counted_by_the_triggers() -> None:
    """A range with a gap could hold someone else's ticket: no deferral then, the triggers count each row."""
    c = migrated()
    users.upsert(c, 501, "zh", NOW)
    seed_tickets(c, _seeds(6, random.Random(6)))
    first = bulk.next_ticket_id(c)
    rows = [_closed(first + 2 * i, f"G{i}") for i in range(3)]
    assert bulk.id_range(rows) is None
    bulk.insert(c, rows, [])
    assert_equal_to_a_recount(c)
    assert c.execute("SELECT resolved_on_time FROM ticket_day_summary WHERE day = '2026-03-01'").fetchone()[0] == 3


def test_a_backend_that_cannot_defer_gets_no_switch_written() -> None:
    class Other:  # any connection that is not SQLite's (the PostgreSQL backend's)
        def __init__(self) -> None:
            self.sql: list[str] = []

        def execute(self, sql: str, *args: object) -> None:
            self.sql.append(sql)

    conn = Other()
    assert not bulk.defers_summaries(conn)
    with bulk.deferred_summaries(conn, 1, 10):  # type: ignore[arg-type]
        conn.execute("INSERT INTO tickets ...")
    assert conn.sql == ["INSERT INTO tickets ..."]
    assert bulk.defers_summaries(migrated())
