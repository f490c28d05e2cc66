"""Moving a SQLite database into an empty PostgreSQL one (`complaint-bot migrate-data`), verified table by table.

1. The target is migrated (storage/pg.py) and must be empty: no rows but the ones migrations themselves insert
   (the channels' stand-in reporters). Anything else is refused before a row is written.
2. Every table is copied with COPY, in foreign-key order, in ONE transaction (all or nothing), with
   ``session_replication_role = replica`` so that neither the foreign-key checks (a merged ticket may point at a
   later one) nor the summary triggers (the summary tables are copied as they are) fire row by row; the
   constraints are then checked in one pass per foreign key before committing. That setting needs a superuser
   (or the database owner with that right); the migration is a one-off done by whoever owns the database.
3. Identity columns restart after the highest copied id.
4. Verification, per table: the row count and a checksum computed the same way on both sides: the sum, modulo
   2**256, of each row's sha256 over its normalised values (None, int, float, text and bytes each spelled one way),
   so it needs no common ordering of the rows (SQLite and PostgreSQL sort text differently) yet any changed,
   missing or extra row changes it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BATCH = 5000
_MOD = 2**256


class TargetNotEmpty(Exception):
    """The PostgreSQL database already holds data: migrate-data never merges into it."""


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


def _norm(value: Any) -> bytes:
    if value is None:
        return b"N"
    if isinstance(value, bool):
        return b"i" + str(int(value)).encode()
    if isinstance(value, int):
        return b"i" + str(value).encode()
    if isinstance(value, float):
        return b"i" + str(int(value)).encode() if value.is_integer() else b"f" + repr(value).encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return b"b" + bytes(value).hex().encode()
    return b"t" + str(value).encode()


def row_digest(row: Iterable[Any]) -> int:
    h = hashlib.sha256()
    for value in row:
        part = _norm(value)
        h.update(len(part).to_bytes(4, "big") + part)
    return int.from_bytes(h.digest(), "big")


def checksum(rows: Iterable[Iterable[Any]]) -> tuple[int, str]:
    """(row count, order-independent checksum) of rows."""
    n, total = 0, 0
    for row in rows:
        n += 1
        total = (total + row_digest(row)) % _MOD
    return n, f"{total:064x}"[:16]


def missing_migrations(source: Path) -> list[str]:
    """The migrations of this version the SQLite database has not had (it must be current before a copy)."""
    from storage.db import migration_scripts

    conn = sqlite3.connect(f"file:{Path(source)}?mode=ro", uri=True)
    try:
        applied = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
    finally:
        conn.close()
    return [name for name, _ in migration_scripts() if name not in applied]


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    """Our tables in foreign-key order (a table after every table it refers to; self references aside)."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    deps = {t: {r[2] for r in conn.execute(f"SELECT * FROM pragma_foreign_key_list('{t}')")} - {t} for t in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [t for t in names if t not in ordered and deps[t] <= set(ordered)]
        if not ready:
            raise ValueError(f"foreign-key cycle among {sorted(set(names) - set(ordered))}")
        ordered += ready
    return ordered


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"SELECT * FROM pragma_table_info('{table}')")]


def _select(table: str, columns: list[str]) -> str:
    return f"SELECT {', '.join(_quote(c) for c in columns)} FROM {table}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_batches(conn: Any, sql: str) -> Iterable[Any]:
    with conn.cursor(name="verify") as cur:  # server-side: a large table is not loaded at once
        cur.itersize = BATCH
        cur.execute(sql)
        yield from cur


def _stand_ins(conn: Any) -> set[int]:
    return {r[0] for r in conn.execute("SELECT id FROM users WHERE id < 0")}


def migrate(source: Path, target_url: str, progress: Callable[[str], None] = lambda line: None
            ) -> list[TableCheck]:
    """Copy the SQLite database `source` into the empty PostgreSQL database at `target_url`, then verify."""
    import psycopg

    from storage import pg

    src = sqlite3.connect(f"file:{Path(source)}?mode=ro", uri=True)
    try:
        pg.migrate(target_url)
        tables = sqlite_tables(src)
        with psycopg.connect(target_url, **pg._connect_kwargs()) as dst:
            ours = {r[0] for r in dst.execute("SELECT table_name FROM information_schema.tables "
                                               "WHERE table_schema = 'public'")}
            unknown = [t for t in tables if t not in ours]
            if unknown:
                raise TargetNotEmpty(f"the source has tables this version does not know: {', '.join(unknown)}")
            dst.commit()
            dst.autocommit = False
            # empty: nothing but what the migrations insert (stand-in reporters, the migration log)
            for table in tables:
                if table == "schema_migrations":
                    continue
                where = " WHERE id >= 0" if table == "users" else ""
                if dst.execute(f"SELECT 1 FROM {table}{where} LIMIT 1").fetchone():
                    raise TargetNotEmpty(f"the target database is not empty (table {table} has rows): "
                                         "migrate-data only fills a new, empty database")
            dst.execute("SET LOCAL session_replication_role = replica")
            dst.execute("DELETE FROM users WHERE id < 0")  # the source has its own stand-ins
            for table in tables:
                if table == "schema_migrations":
                    continue
                columns = _columns(src, table)
                copied = 0
                with dst.cursor().copy(f"COPY {table} ({', '.join(_quote(c) for c in columns)}) FROM STDIN") as cp:
                    cur = src.execute(_select(table, columns))
                    while rows := cur.fetchmany(BATCH):
                        for row in rows:
                            cp.write_row(row)
                        copied += len(rows)
                progress(f"copied {table}: {copied} rows")
            dst.execute("SET LOCAL session_replication_role = origin")
            _check_foreign_keys(dst, src, tables)
            for table in tables:
                ident = dst.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = %s AND is_identity = 'YES'", (table,)).fetchone()
                if ident:
                    dst.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                                f"coalesce((SELECT max({ident[0]}) FROM {table}), 0) + 1, false)",
                                (table, ident[0]))
            dst.commit()
            return verify(src, dst, tables)
    finally:
        src.close()


def _check_foreign_keys(dst: Any, src: sqlite3.Connection, tables: list[str]) -> None:
    """Every copied reference resolves (the copy ran without row-by-row checks)."""
    for table in tables:
        for fk in src.execute(f"SELECT * FROM pragma_foreign_key_list('{table}')").fetchall():
            ref, col, ref_col = fk[2], fk[3], fk[4] or "id"
            bad = dst.execute(f"SELECT count(*) FROM {table} t WHERE t.{col} IS NOT NULL AND NOT EXISTS "
                              f"(SELECT 1 FROM {ref} r WHERE r.{ref_col} = t.{col})").fetchone()[0]
            if bad:
                raise ValueError(f"{bad} rows of {table}.{col} refer to no {ref}.{ref_col}")


def verify(src: sqlite3.Connection, dst: Any, tables: list[str]) -> list[TableCheck]:
    checks = []
    for table in tables:
        columns = _columns(src, table)
        if table == "schema_migrations":
            columns = ["name"]  # applied_at is each database's own
        n1, s1 = checksum(src.execute(_select(table, columns)))
        with dst.transaction():
            n2, s2 = checksum(_pg_batches(dst, _select(table, columns)))
        checks.append(TableCheck(table, n1, n2, s1, s2))
    return checks


def report(checks: list[TableCheck]) -> str:
    width = max(len(c.table) for c in checks)
    lines = [f"{'table':<{width}}  {'sqlite':>9}  {'postgresql':>10}  checksum"]
    for c in checks:
        verdict = c.source_sum if c.ok else f"DIFFERS {c.source_sum} != {c.target_sum}"
        lines.append(f"{c.table:<{width}}  {c.source_rows:>9}  {c.target_rows:>10}  {verdict}")
    return "\n".join(lines)
