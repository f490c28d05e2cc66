"""The ledger import against a real database: finished cases land closed with their events, rating and on-time
flag and count in the report summaries, with no message queued; open cases are registered and routed at their
received time; a second import adds nothing; a crash mid-import leaves whole batches and the re-run continues; a
ticket filed after an import gets an id of its own. Each runs on both backends (the `db` fixture: SQLite and
PostgreSQL), the import through its own connection as the command line's, beside the open `db`."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli_import import import_file, mapping_for, summary_lines, write_refused
from bot.clock import FakeClock
from bot.domain import channels
from storage import imports
from storage.db import Database, IntegrityError
from tests.e2e.conftest import e2e_config
from tests.unit.test_ledger_import import EXAMPLES, HEADER

NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)


def ledger(tmp_path: Path, rows: list[list[str]], encoding: str = "gb18030", name: str = "ledger.csv") -> Path:
    path = tmp_path / name
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


def case(ref: str, **kw: str) -> list[str]:
    cells = {"received": "2026-03-02 09:00:00", "text": "小区电梯坏了一个星期，物业一直不修。", "address": "清河路88号",
             "category": "物业管理", "unit": "颍州区", "state": "已办结", "finished": "2026-03-04 16:00:00",
             "answer": "已修复", "rating": "满意", **kw}
    return [ref, cells["received"], cells["text"], cells["address"], cells["category"], cells["unit"],
            cells["state"], cells["finished"], cells["answer"], cells["rating"]]


async def run(tmp_path: Path, path: Path, target: Path | str | None = None, **kw):  # type: ignore[no-untyped-def]
    """Import ``path`` into ``target`` (a SQLite file or a PostgreSQL URL; default tmp_path/bot.sqlite3)."""
    config = e2e_config(tmp_path)
    mapping = mapping_for(config, EXAMPLES / "fy12345.mapping.toml")
    clock = FakeClock()
    clock.set(NOW)
    return await import_file(config, target or tmp_path / "bot.sqlite3", path, mapping, clock=clock, **kw)


def target(db: Database) -> Path | str:
    """Where the open database lives, for the import's own connection."""
    return db.path or db.url  # type: ignore[attr-defined]


async def rows(db: Database, sql: str, params: tuple = ()) -> list[dict]:
    return await db.read(lambda c: [dict(r) for r in c.execute(sql, params)])


async def one(db: Database, sql: str, params: tuple = ()) -> tuple:
    return await db.read(lambda c: tuple(c.execute(sql, params).fetchone()))


def sqlite_db(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "bot.sqlite3")
    conn.row_factory = sqlite3.Row
    return conn


async def test_finished_cases_land_closed_in_the_ledger_and_the_summaries(tmp_path: Path, db: Database) -> None:
    path = ledger(tmp_path, [
        case("A1"),  # general: due Monday 9 March 17:30, finished on the 4th: on time
        case("A2", category="市容环卫", finished="2026-03-06 10:00:00", rating="不满意"),  # immediate: late
        case("A3", state="不予受理", unit="", answer="咨询类", rating=""),
        case("A4", state="已撤件", rating=""),
    ])
    result = await run(tmp_path, path, target(db))
    assert (result.open, result.finished, result.known, result.refused) == (0, 4, 0, [])
    t1, t2, t3, t4 = await rows(db, "SELECT * FROM tickets ORDER BY id")
    assert (t1["state"], t1["unit"], t1["channel"], t1["channel_client"], t1["reporter_id"]) == (
        "closed", "yingzhou", "import", "fy12345", channels.reporter_for("import"))
    assert t1["created_at"] == "2026-03-02T01:00:00.000000+00:00"
    assert t1["closed_at"] == t1["resolved_at"] == "2026-03-04T08:00:00.000000+00:00"
    assert t1["due_at"] == "2026-03-09T09:30:00.000000+00:00" and t1["resolved_on_time"] == 1
    assert (t1["rating"], t1["solved"], t1["satisfaction"], t1["answer"]) == ("satisfied", "solved", "satisfied",
                                                                               "已修复")
    assert (t2["resolved_on_time"], t2["rating"]) == (0, "dissatisfied")
    assert (t3["state"], t3["unit"], t3["resolved_on_time"]) == ("rejected", None, None)
    assert t4["state"] == "withdrawn"
    assert len({t["number"] for t in (t1, t2, t3, t4)}) == 4
    actions = "SELECT action, from_state, to_state, at FROM events WHERE ticket_id = ? ORDER BY id"
    events = [tuple(e.values()) for e in await rows(db, actions, (t1["id"],))]
    assert [e[0] for e in events] == ["registered", "dispatched", "accepted", "resolved", "rated_satisfied"]
    assert events[1][3] == t1["created_at"] and events[-1][3] == t1["closed_at"]
    assert [e["action"] for e in await rows(db, actions, (t2["id"],))][-1] \
        == "auto_closed"  # a dissatisfied rating that the ledger closed anyway reopens nothing here
    assert [e["action"] for e in await rows(db, actions, (t3["id"],))] == ["registered", "rejected"]
    assert await one(db, "SELECT count(*) FROM ticket_ratings") == (2,)
    assert await one(db, "SELECT count(*) FROM outbox") == (0,), "history sends nothing"
    day = await one(db, "SELECT sum(received), sum(resolved), sum(resolved_on_time), sum(rated), sum(satisfied), "
                        "sum(withdrawn), sum(open) FROM ticket_day_summary")
    assert day == (3, 2, 1, 2, 1, 1, 0)
    channel = await one(db, "SELECT channel, client, received, rated, satisfied FROM ticket_channel_day")
    assert channel == ("import", "fy12345", 3, 2, 1)


async def test_a_second_import_adds_nothing_and_says_so(tmp_path: Path, db: Database) -> None:
    path = ledger(tmp_path, [case("A1"), case("A2", state="办理中", finished="", rating="")], encoding="utf-8")
    first = await run(tmp_path, path, target(db))
    assert (first.open, first.finished) == (1, 1)
    again = await run(tmp_path, path, target(db))
    assert (again.imported, again.known) == (0, 2)
    assert "skipped as known: 2" in summary_lines(again, "fy12345", 1.0, False, None)
    assert await one(db, "SELECT count(*) FROM tickets") == (2,)


async def test_a_ticket_filed_after_an_import_gets_an_id_and_number_of_its_own(tmp_path: Path, db: Database) -> None:
    # the finished cases go in with ids the import chose; the open one after them is filed as any ticket is
    # (Intake.register, the database's own id): on PostgreSQL the identity sequence must be past the batch's ids
    path = ledger(tmp_path, [case("A1"), case("A2"), case("O1", state="办理中", finished="", rating="")])
    result = await run(tmp_path, path, target(db))
    assert (result.finished, result.open) == (2, 1)
    filed = await rows(db, "SELECT t.id, t.number, t.state, s.source_ref FROM tickets t "
                           "JOIN ticket_sources s ON s.ticket_id = t.id ORDER BY t.id")
    assert [(t["source_ref"], t["state"]) for t in filed] == [("A1", "closed"), ("A2", "closed"), ("O1", "dispatched")]
    assert len({t["number"] for t in filed}) == 3
    later = ledger(tmp_path, [case("O2", state="办理中", finished="", rating=""), case("A3")], name="more.csv")
    more = await run(tmp_path, later, target(db))
    assert (more.open, more.finished) == (1, 1)
    assert await one(db, "SELECT count(DISTINCT id), count(DISTINCT number) FROM tickets") == (5, 5)


async def test_an_open_case_is_routed_with_deadlines_from_its_received_time(tmp_path: Path, db: Database) -> None:
    # received Monday 2 March 10:00 Shanghai, imported on the 20th: sign-for is due 4 working hours after receipt
    path = ledger(tmp_path, [case("O1", received="2026-03-02 10:00:00", state="办理中", finished="", rating="")])
    assert (await run(tmp_path, path, target(db))).open == 1
    [t] = await rows(db, "SELECT * FROM tickets")
    assert (t["state"], t["unit"], t["channel"]) == ("dispatched", "yingzhou", "import")
    assert t["dispatched_at"] == t["created_at"] == "2026-03-02T02:00:00.000000+00:00"
    assert t["sign_due_at"] == "2026-03-02T08:30:00.000000+00:00"  # 16:30 local, not four hours after the 20th
    assert t["place_text"] == "清河路88号" and t["location_source"] == "text"


async def test_bad_rows_are_refused_by_line_and_the_rest_imported(tmp_path: Path, db: Database) -> None:
    path = ledger(tmp_path, [case("A1"), case("", text="x"), case("A3", received="soon"), case("A1"),
                             case("A5", category="外星人"), case("A6")])
    result = await run(tmp_path, path, target(db))
    assert result.finished == 2
    assert [(r.line, r.reason.split(" (")[0]) for r in result.refused] == [
        (3, "missing case id"), (4, "unparsable received time 'soon'"), (5, "case id repeated"),
        (6, "unknown category '外星人'")]
    out = tmp_path / "refused.csv"
    write_refused(out, result)
    with open(out, encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f))[1:3] == [["3", "", "missing case id"],
                                            ["4", "A3", "unparsable received time 'soon' (formats: "
                                             + ", ".join(mapping_for(e2e_config(tmp_path), EXAMPLES
                                                                     / "fy12345.mapping.toml").time_formats)
                                             + ")"]]


async def test_dry_run_writes_nothing(tmp_path: Path, db: Database) -> None:
    path = ledger(tmp_path, [case("A1"), case("A2", state="办理中", finished="")])
    result = await run(tmp_path, path, target(db), dry_run=True)
    assert (result.open, result.finished) == (1, 1)
    assert await one(db, "SELECT count(*) FROM tickets") == (0,)
    await run(tmp_path, ledger(tmp_path, [case("A1")], name="first.csv"), target(db))
    again = await run(tmp_path, path, target(db), dry_run=True)
    assert (again.open, again.finished, again.known) == (1, 0, 1)


async def test_a_crash_mid_import_leaves_whole_batches_and_the_rerun_continues(
        tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.workflow import importing

    path = ledger(tmp_path, [case(f"B{i}") for i in range(7)])
    monkeypatch.setattr(importing, "BATCH", 3)
    real, calls = imports.insert_finished, []

    def crash_on_second(*args, **kw):  # type: ignore[no-untyped-def]
        calls.append(1)
        real(*args, **kw)
        if len(calls) == 2:
            raise OSError("disk gone")  # the power goes after the second batch's rows are written, before commit

    monkeypatch.setattr(imports, "insert_finished", crash_on_second)
    with pytest.raises(OSError, match="disk gone"):
        await run(tmp_path, path, target(db))
    assert await one(db, "SELECT count(*), count(DISTINCT number) FROM tickets") == (3, 3)
    assert await one(db, "SELECT sum(received) FROM ticket_day_summary") == (3,)
    assert await one(db, "SELECT count(*) FROM ticket_sources") == (3,)
    monkeypatch.setattr(imports, "insert_finished", real)
    again = await run(tmp_path, path, target(db))
    assert (again.finished, again.known) == (4, 3)
    assert await one(db, "SELECT count(DISTINCT number), count(*) FROM tickets") == (7, 7)
    assert await one(db, "SELECT sum(received) FROM ticket_day_summary") == (7,)


async def test_the_schema_keeps_a_case_id_unique_per_source(db: Database) -> None:
    def tx(c: sqlite3.Connection, again: bool) -> None:
        c.execute("INSERT INTO tickets(id, number, state, category, reporter_id, description, location_source, "
                  "deadline_class, created_at, updated_at) VALUES (1, 'n', 'closed', 'housing', ?, 'd', "
                  "'none', 'general', 'x', 'x')", (channels.reporter_for("import"),))
        imports.remember(c, "a", "1", 1)
        imports.remember(c, "b", "1", 1)  # another source may use the same id
        if again:
            imports.remember(c, "a", "1", 1)

    with pytest.raises(IntegrityError):
        await db.write(lambda c: tx(c, True))
    await db.write(lambda c: tx(c, False))
    assert await one(db, "SELECT count(*) FROM ticket_sources") == (2,)


async def test_the_report_and_the_ledger_break_figures_down_by_channel(tmp_path: Path) -> None:
    from datetime import date

    import openpyxl

    from bot.reports.ledger import write_ledger
    from bot.reports.model import build_report
    from bot.reports.text import render_text
    from bot.seed import seed_demo
    from bot.texts import Texts
    from storage import reports

    config = e2e_config(tmp_path)
    await asyncio.to_thread(seed_demo, tmp_path / "bot.sqlite3", config.city, 300, date(2026, 3, 31), 5)  # residents
    path = ledger(tmp_path, [case("A1"), case("A2", rating="不满意"), case("A3", rating="未评价"),
                             case("A4", received="2026-03-03 23:30:00", finished="2026-03-05 10:00:00")])
    assert (await run(tmp_path, path)).finished == 4
    c = sqlite_db(tmp_path)
    for start, end in (("2026-03-01T16:00:00.000000+00:00", "2026-03-04T16:00:00.000000+00:00"),
                       ("2026-01-10T16:00:00.000000+00:00", "2026-03-31T16:00:00.000000+00:00"),
                       ("2026-03-03T15:00:00.000000+00:00", "2026-03-03T16:00:00.000000+00:00")):
        recount = [(ch, cl, rec, rated, sat) for ch, cl, rec, rated, sat in c.execute(
            "SELECT channel, channel_client, sum(state != 'withdrawn'), count(rating), "
            "coalesce(sum(rating = 'satisfied'), 0) FROM tickets WHERE created_at >= ? AND created_at < ? "
            "AND state != 'merged' GROUP BY 1, 2 ORDER BY 1, 2", (start, end))]
        assert reports.channel_counts(c, start, end) == [r for r in recount if any(r[2:])], (start, end)

    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        report = await build_report(database, config.city, date(2026, 3, 2), date(2026, 3, 4),
                                    as_of=NOW)
        imported = next(f for f in report.channels if f.channel == "import")
        assert (imported.client, imported.received, imported.rated, imported.satisfied) == ("fy12345", 4, 3, 2)
        assert report.channels[0].channel == "telegram" and report.channels[0].received > 0
        text = "\n".join(render_text(report, "zh", Texts()))
        assert Texts().get("zh", "report.channel_client_line", channel="台账导入", client="fy12345", received=4,
                           satisfaction="66.7%") in text
        out = tmp_path / "ledger.xlsx"
        await write_ledger(database, config.city, date(2026, 3, 2), date(2026, 3, 4), out, "zh", as_of=NOW)
    finally:
        await database.close()
    rows = list(openpyxl.load_workbook(out, read_only=True).worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    rows = [(*r, *[None] * (len(header) - len(r))) for r in rows]  # empty trailing cells are not stored
    channel, source = header.index("渠道"), header.index("来源")
    mine = [r for r in rows[1:] if r[source] == "fy12345"]
    assert len(mine) == 4 and {r[channel] for r in mine} == {"台账导入"}
    assert {r[channel] for r in rows[1:] if r[source] is None} == {"Telegram 群众"}
    assert not any(str(channels.reporter_for("import")) == str(v) for r in rows[1:] for v in r)


def test_the_examples_import_cleanly_from_the_command_line(tmp_path: Path, storage_target: Path | str,
                                                            capsys: pytest.CaptureFixture) -> None:
    from bot.cli import main

    db_path = storage_target  # a file, or a postgresql:// URL given to --db as it is
    for name, summary in (("fy12345", "imported: 6 (open 1, finished 5)"),
                          ("open311", "imported: 3 (open 1, finished 2)")):
        sample, mapping = EXAMPLES / f"{name}-sample.csv", EXAMPLES / f"{name}.mapping.toml"
        assert main(["import", str(sample), "--mapping", str(mapping), "--db", str(db_path)]) == 0
        out = capsys.readouterr().out
        assert summary in out and "refused: 0" in out, out
    assert main(["import", str(sample), "--mapping", str(mapping), "--db", str(db_path)]) == 0
    assert "skipped as known: 3" in capsys.readouterr().out
    broken = ledger(tmp_path, [case("A1"), case("A2", unit="火星局")], encoding="utf-8")
    assert main(["import", str(broken), "--mapping", str(EXAMPLES / "fy12345.mapping.toml"), "--db",
                 str(db_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would import: 1 (open 0, finished 1)" in out and "line 3: unknown unit '火星局' [A2]" in out
    with open(tmp_path / "ledger.csv.refused.csv", encoding="utf-8-sig") as f:
        assert "火星局" in f.read()
    assert main(["import", str(broken), "--mapping", str(tmp_path / "nope.toml"), "--db", str(db_path)]) == 2
