"""storage/dialect.py: the one place SQLite spellings become PostgreSQL ones."""

from __future__ import annotations

import pytest

from storage.dialect import is_postgresql, postgresql


@pytest.mark.parametrize(("sqlite", "expected"), [
    ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
    ("SELECT ':x?' FROM t WHERE a = :a", "SELECT ':x?' FROM t WHERE a = %(a)s"),
    ("SELECT 'it''s ?' , x::text FROM t WHERE c LIKE '10%' AND d = ?",
     "SELECT 'it''s ?' , x::text FROM t WHERE c LIKE '10%%' AND d = %s"),
    ("SELECT min(x) FROM tickets INDEXED BY tickets_report WHERE y > :after",
     "SELECT min(x) FROM tickets WHERE y > %(after)s"),
    ("SELECT julianday(resolved_at) - julianday(created_at)",
     "SELECT (extract(epoch from (resolved_at)::timestamptz) / 86400.0) - "
     "(extract(epoch from (created_at)::timestamptz) / 86400.0)"),
    ("CAST(json_extract(payload, '$.card_row') AS BIGINT) = ?",
     "CAST(((payload)::jsonb ->> 'card_row') AS BIGINT) = %s"),
    ("-- a comment with ? and %\nSELECT ?", "-- a comment with ? and %%\nSELECT %s"),
])
def test_sqlite_sql_is_spelled_for_postgresql(sqlite: str, expected: str) -> None:
    assert postgresql(sqlite) == expected


def test_a_storage_target_is_postgresql_only_by_its_url() -> None:
    assert is_postgresql("postgresql://bot@db/complaints") and is_postgresql("postgres://bot@db/x")
    assert not is_postgresql("data/complaint-bot.sqlite3") and not is_postgresql(None)
