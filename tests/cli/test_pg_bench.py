"""The PostgreSQL bench in the suite (bench/pg_bench.py): its figures are read from its JSON, the instances it
could not measure say why, and a migration that did not verify every table is judged failed."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench import suite  # noqa: E402


def _result(verified: int) -> dict:
    return {"intake": {"sqlite_1": {"updates_per_s": 148.2, "db_ms_per_update": 21.5},
                       "postgresql_1": {"updates_per_s": 70.2, "db_ms_per_update": 85.4}},
            "year": {"postgresql": {"ranking": {"median_s": 0.27}, "status": {"p99_ms": 9.4}},
                     "sqlite": {"ranking": {"median_s": 0.037}, "status": {"p99_ms": 4.8}},
                     "migrate": {"tables": 32, "tables_verified": verified, "rows_per_s": 12753, "seconds": 792}}}


def test_the_postgres_bench_is_in_the_suite_with_both_sizes() -> None:
    bench = suite.BY_NAME["postgres"]
    assert bench.module == "bench.pg_bench"
    assert "1500000" in bench.full and "200" in bench.full
    assert "50000" in bench.quick and "30" in bench.quick


def test_its_figures_compare_postgresql_with_sqlite_and_say_why_instances_are_missing() -> None:
    rows = {f.figure: f for f in suite.figures_of("postgres", _result(32))}
    one = rows["intake upd/s: PostgreSQL, 1 instance vs SQLite"]
    assert (one.ours, one.baseline) == (70.2, 148.2)
    for n in (2, 3):  # not in this result (nginx could not start): said so, never guessed
        missing = rows[f"intake upd/s: PostgreSQL, {n} instances vs 1 (processes behind nginx)"]
        assert missing.ours is None and "nginx or an instance could not start" in missing.note
    assert rows["yearly ranking: PostgreSQL vs SQLite"].met is False  # 0.27 s against < 0.1 s
    assert rows["whole report: PostgreSQL vs SQLite"].note.startswith("abandoned")
    assert rows["migrate-data: tables verified of all"].met is True
    assert "not measured" in suite.table(list(rows.values()))


def test_the_instances_figures_compare_with_one_instance_through_the_same_path() -> None:
    result = _result(32)
    result["intake"].update({
        "postgresql_1_processes": {"updates_per_s": 40.0, "bot_processes_cpu_ms_per_update": 9.0},
        "postgresql_2": {"updates_per_s": 60.0, "bot_processes_cpu_ms_per_update": 10.0},
        "postgresql_3": {"updates_per_s": 66.0, "bot_processes_cpu_ms_per_update": 12.0}})
    rows = {f.figure: f for f in suite.figures_of("postgres", result)}
    three = rows["intake upd/s: PostgreSQL, 3 instances vs 1 (processes behind nginx)"]
    assert (three.ours, three.baseline, three.ratio) == (66.0, 40.0, 1.65)
    cpu = rows["intake bot CPU ms/update: 2 instances vs 1"]
    assert (cpu.ours, cpu.baseline) == (10.0, 9.0) and "utime+stime" in cpu.note


def test_a_migration_with_a_table_unverified_is_judged_failed() -> None:
    rows = {f.figure: f for f in suite.figures_of("postgres", _result(31))}
    assert rows["migrate-data: tables verified of all"].met is False
