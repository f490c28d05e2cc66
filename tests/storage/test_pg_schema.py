"""The PostgreSQL migrations (storage/migrations/postgresql/) are the SQLite ones' twins, equal in effect.

Checked by introspecting a migrated database of each kind (SQLite's pragma_* functions, PostgreSQL's catalogue),
never by comparing files: the same tables; the same columns (name, nullability, a normalised type, default); the
same primary keys, unique constraints and indexes (columns or expressions, uniqueness, partial predicate); the same
foreign keys (with ON DELETE) and checks. Types are compared as SQLite's affinity: BIGINT and INTEGER are both
integer, DOUBLE PRECISION and REAL real, BYTEA and BLOB blob.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from storage.db import migration_scripts
from storage.pg import migration_scripts as pg_migration_scripts

Schema = dict[str, object]

_TYPES = {"integer": "integer", "bigint": "integer", "int": "integer", "smallint": "integer",
          "text": "text", "real": "real", "double precision": "real", "blob": "blob", "bytea": "blob"}
_NOISE = {"any", "array", "text", "bigint", "integer", "in"}


def _tokens(sql: str | None) -> tuple[str, ...]:
    """An expression or predicate as its identifiers, literals and numbers, in order (casts, `IN` versus
    `= ANY (ARRAY[…])`, parentheses and case dropped)."""
    if not sql:
        return ()
    sql = re.sub(r"::[a-z ]+?(?=[),\s]|$)", "", sql.lower())
    found = re.findall(r"'(?:[^']|'')*'|[a-z_][a-z0-9_]*|\d+", sql)
    return tuple(t for t in found if t not in _NOISE)


def _default(value: str | None) -> str | None:
    if value is None or value.startswith("nextval("):
        return None
    return re.sub(r"::[a-z ]+$", "", value).strip("()")


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")")
        cur += ch
    return [*parts, cur]


def _closing(text: str) -> int:
    """Where the parenthesis opened just before `text` closes."""
    depth = 1
    for at, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            return at
    raise ValueError(text)


def sqlite_schema(conn: sqlite3.Connection) -> Schema:
    tables = sorted(r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
    columns, keys, indexes, fks, checks = {}, set(), set(), set(), set()
    for table in tables:
        info = conn.execute(f"SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{table}')")
        rows = info.fetchall()
        columns[table] = {(name, _TYPES[typ.lower()], bool(notnull or pk), _default(dflt))
                          for name, typ, notnull, dflt, pk in rows}
        pk = tuple(name for name, *_rest, n in sorted(rows, key=lambda r: r[4]) if n)
        keys.add((table, "primary", pk))
        for name, unique, origin, partial in conn.execute(
                f"SELECT name, \"unique\", origin, partial FROM pragma_index_list('{table}')").fetchall():
            cols = tuple(r[0] for r in conn.execute(f"SELECT name FROM pragma_index_info('{name}') ORDER BY seqno"))
            if origin == "u":
                keys.add((table, "unique", cols))
            elif origin == "c":
                sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
                body = sql.split(" ON ", 1)[1]
                inner = body[body.index("(") + 1:]
                end = _closing(inner)
                exprs = tuple(_tokens(e) for e in _split_top(inner[:end]))
                where = inner[end + 1:].split("WHERE", 1)[1] if partial else None
                indexes.add((name, table, exprs, bool(unique), _tokens(where)))
        for _id, _seq, ref, src, dst, _upd, on_delete, _m in conn.execute(
                f"SELECT * FROM pragma_foreign_key_list('{table}')").fetchall():
            fks.add((table, src, ref, dst, on_delete.upper()))
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        checks |= {(table, _check(m)) for m in _sqlite_checks(sql)}
    return {"tables": tables, "columns": columns, "keys": keys, "indexes": indexes, "foreign keys": fks,
            "checks": checks}


def _sqlite_checks(sql: str) -> list[str]:
    """The conditions of a CREATE TABLE's CHECK clauses (balanced parentheses)."""
    found = []
    for m in re.finditer(r"CHECK\s*\(", sql, re.IGNORECASE):
        depth, i = 1, m.end()
        while depth and i < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        found.append(sql[m.end():i - 1])
    return found


def _check(condition: str) -> str:
    """A check's condition in one spelling: PostgreSQL's `CHECK ((s = ANY (ARRAY['a'::text])))` and SQLite's
    `s IN ('a')` both become `s in 'a'` without parentheses, casts or spaces."""
    c = re.sub(r"^CHECK\s*", "", condition.strip(), flags=re.IGNORECASE).replace("::text", "")
    c = re.sub(r"(\w+) = ANY \(ARRAY\[(.*?)\]\)", r"\1 IN (\2)", c)
    return re.sub(r"[()\s]", "", c).lower()


def pg_schema(conn) -> Schema:
    tables = sorted(r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"))
    columns, keys, indexes, fks, checks = {}, set(), set(), set(), set()
    for table in tables:
        rows = conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s", (table,)).fetchall()
        columns[table] = {(name, _TYPES[typ.lower()], nullable == "NO", _default(dflt))
                          for name, typ, nullable, dflt in rows}
        for name, unique, primary, constraint, where, ncols, indexrelid in conn.execute(
                "SELECT c.relname, i.indisunique, i.indisprimary, "
                "EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid), "
                "pg_get_expr(i.indpred, i.indrelid), i.indnkeyatts, i.indexrelid "
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass", (table,)).fetchall():
            exprs = tuple(conn.execute("SELECT pg_get_indexdef(%s, %s, true)", (indexrelid, k)).fetchone()[0]
                          .replace('"', "") for k in range(1, ncols + 1))
            if primary:
                keys.add((table, "primary", exprs))
            elif constraint:
                keys.add((table, "unique", exprs))
            else:
                indexes.add((name, table, tuple(_tokens(e) for e in exprs), bool(unique), _tokens(where)))
        for src, ref, dst, on_delete in conn.execute(
                "SELECT a.attname, r.relname, b.attname, k.confdeltype FROM pg_constraint k "
                "JOIN pg_class r ON r.oid = k.confrelid "
                "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
                "JOIN pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = k.confkey[1] "
                "WHERE k.contype = 'f' AND k.conrelid = %s::regclass", (table,)).fetchall():
            fks.add((table, src, ref, dst, {"a": "NO ACTION", "c": "CASCADE", "n": "SET NULL", "r": "RESTRICT",
                                            "d": "SET DEFAULT"}[on_delete]))
        checks |= {(table, _check(r[0])) for r in conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' AND conrelid = %s::regclass",
            (table,))}
    return {"tables": tables, "columns": columns, "keys": keys, "indexes": indexes, "foreign keys": fks,
            "checks": checks}


def test_every_sqlite_migration_has_a_postgresql_twin() -> None:
    """Adding a SQLite migration means adding its twin under storage/migrations/postgresql/ (see its README)."""
    sqlite_names = [name for name, _ in migration_scripts()]
    pg_names = [name for name, _ in pg_migration_scripts()]
    missing = [n for n in sqlite_names if n not in pg_names]
    assert not missing, f"no PostgreSQL twin in storage/migrations/postgresql/ for: {', '.join(missing)}"
    assert pg_names == sqlite_names, "the PostgreSQL migrations must be the SQLite ones, name for name"


def test_the_postgresql_schema_equals_the_sqlite_schema_in_effect(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    lite = sqlite3.connect(tmp_path / "schema.sqlite3")
    for _, sql in migration_scripts():
        lite.executescript(sql)
    lite.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    expected = sqlite_schema(lite)
    with psycopg.connect(pg_url) as conn:
        actual = pg_schema(conn)
    for part in expected:
        if part == "columns":
            for table, cols in expected["columns"].items():  # type: ignore[attr-defined]
                assert actual["columns"].get(table) == cols, f"columns of {table}"  # type: ignore[attr-defined]
        assert actual[part] == expected[part], part


def test_the_comparison_sees_a_difference(tmp_path: Path) -> None:
    """The normalisation is not so loose that two different schemas compare equal."""
    lite = sqlite3.connect(":memory:")
    lite.executescript("CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT NOT NULL);"
                       "CREATE INDEX a_x ON a(x) WHERE x != 'y';")
    other = sqlite3.connect(":memory:")
    other.executescript("CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT);"
                        "CREATE INDEX a_x ON a(x) WHERE x != 'z';")
    one, two = sqlite_schema(lite), sqlite_schema(other)
    assert one["columns"] != two["columns"]
    assert one["indexes"] != two["indexes"]


@pytest.mark.parametrize(("sqlite", "postgresql"), [
    ("state IN ('registered', 'dispatched')", "(state = ANY (ARRAY['registered'::text, 'dispatched'::text]))"),
    ("coalesce(unit, '')", "COALESCE(unit, ''::text)"),
    ("status = 'pending' AND holds_chat = 1", "((status = 'pending'::text) AND (holds_chat = 1))"),
])
def test_expressions_are_normalised_alike(sqlite: str, postgresql: str) -> None:
    assert _tokens(sqlite) == _tokens(postgresql)
