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
    for n in (2, 3):
        missing = rows[f"intake upd/s: PostgreSQL, {n} instances vs SQLite"]
        assert missing.ours is None and "multi-instance wiring" in missing.note
    assert rows["yearly ranking: PostgreSQL vs SQLite"].met is False  # 0.27 s against < 0.1 s
    assert rows["whole report: PostgreSQL vs SQLite"].note.startswith("abandoned")
    assert rows["migrate-data: tables verified of all"].met is True
    assert "not measured" in suite.table(list(rows.values()))


def test_a_migration_with_a_table_unverified_is_judged_failed() -> None:
    rows = {f.figure: f for f in suite.figures_of("postgres", _result(31))}
    assert rows["migrate-data: tables verified of all"].met is False
