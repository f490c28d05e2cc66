"""Every difference between the SQLite and the PostgreSQL spelling of our SQL, in one place.

The repositories (storage/*.py) are written once, in SQL both databases accept wherever there is such a form
(``INSERT … ON CONFLICT … DO NOTHING / DO UPDATE``, ``RETURNING id`` instead of ``lastrowid``, a qualified
``table.column`` on the right of an upsert's ``SET``, ``CASE`` instead of the two-argument ``max``). What remains
is rewritten here, for PostgreSQL, once per distinct SQL string (cached):

* placeholders: ``?`` becomes ``%s`` and ``:name`` becomes ``%(name)s``; a literal ``%`` is doubled;
* ``INDEXED BY name`` (a SQLite planner hint) is dropped;
* ``julianday(x)`` becomes days since the epoch of the ISO text ``x``;
* ``json_extract(x, '$.key')`` becomes ``(x::jsonb ->> 'key')`` (compare it through ``CAST(… AS BIGINT)``).

Nothing else is translated: SQL that needs more belongs in a repository, rewritten into the common form.
"""

from __future__ import annotations

import re
from functools import lru_cache


def is_postgresql(target: object) -> bool:
    """Whether a configured storage target is a PostgreSQL URL (anything else is a SQLite path)."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def on_postgresql(conn: object) -> bool:
    """Whether an open connection (what a repository function gets) is PostgreSQL's (storage/pg.py's
    ``PgConnection``) rather than SQLite's: the one test of the few repositories with a branch per backend."""
    return getattr(conn, "dialect", None) == "postgresql"


_INDEXED_BY = re.compile(r"\s+INDEXED\s+BY\s+\w+", re.IGNORECASE)
_JULIANDAY = re.compile(r"\bjulianday\(\s*([\w.]+)\s*\)", re.IGNORECASE)
_JSON_EXTRACT = re.compile(r"\bjson_extract\(\s*([\w.]+)\s*,\s*'\$\.(\w+)'\s*\)", re.IGNORECASE)


def _placeholders(sql: str) -> str:
    """`?` → `%s`, `:name` → `%(name)s`, `%` → `%%`, leaving quoted text and `::` casts alone (but doubling `%`
    everywhere, since the driver reads every `%` of a query with parameters)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i:end + 1].replace("%", "%%"))
            i = end + 1
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        elif ch == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            m = re.match(r"\w+", sql[i + 1:])
            assert m is not None
            out.append(f"%({m.group(0)})s")
            i += 1 + m.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def postgresql(sql: str) -> str:
    """The PostgreSQL spelling of one of our SQL strings."""
    sql = _INDEXED_BY.sub("", sql)
    sql = _placeholders(sql)
    sql = _JULIANDAY.sub(r"(extract(epoch from (\1)::timestamptz) / 86400.0)", sql)
    return _JSON_EXTRACT.sub(r"((\1)::jsonb ->> '\2')", sql)
