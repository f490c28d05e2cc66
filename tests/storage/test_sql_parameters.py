"""SQL only with parameters (SECURITY.md): every piece of SQL built at run time in storage/ is listed here with
why it cannot carry a value. An f-string or concatenation that puts anything else into SQL fails this test until
it is reviewed and listed (values belong in the parameters, never in the text)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

STORAGE = Path(__file__).resolve().parents[2] / "storage"
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|PRAGMA|WHERE|FROM|VALUES|CREATE|DROP|ALTER|SET|IN|AND)\b")

#: (file, the expression formatted into SQL) → why it is a fragment made of constants, not a value.
FRAGMENTS = {
    ("bulk.py", "', '.join(TICKET_COLUMNS)"): "column names, a module constant",
    ("bulk.py", "', '.join(EVENT_COLUMNS)"): "column names, a module constant",
    ("bulk.py", "', '.join('?' * len(TICKET_COLUMNS))"): "placeholders",
    ("bulk.py", "', '.join('?' * len(EVENT_COLUMNS))"): "placeholders",
    ("bulk.py", "table"): "a summary table's name, from the constant _SUMMARIES",
    ("bulk.py", "columns"): "that table's column names, from _SUMMARIES",
    ("bulk.py", "values"): "the key and figure expressions of _SUMMARIES / SUMMARY_FIGURES (constants)",
    ("bulk.py", "groups"): "GROUP BY positions 1..n",
    ("bulk.py", "conflict"): "the table's primary key columns, from _SUMMARIES",
    ("bulk.py", "adds"): "`f = f + excluded.f` for the constant figure columns",
    ("bulk.py", "names"): "column names, module constants of its callers (json_insert_sql)",
    ("bulk.py", "marks"): "placeholders, one per column (json_insert_sql's VALUES form)",
    ("bulk.py", "picks"): "json_extract of positions 0..n, the row's values come in the JSON parameter",
    ("db.py", "BUSY_TIMEOUT_MS"): "an integer constant (PRAGMA takes no parameters)",
    ("deadlines.py", "RUNNING_CLOCKS"): "state set from the lifecycle (storage/states.py)",
    ("deadlines.py", "_STATES[column]"): "state set; the lookup also rejects any column but the two deadlines",
    ("deadlines.py", "column"): "one of the two deadline columns (_STATES[column] raises for anything else)",
    ("deadlines.py", "lower"): "a fragment naming that column, with a placeholder",
    ("drafts.py", "sets"): "`k = ?` for keys checked against _FIELDS",
    ("tickets.py", "sets"): "`k = ?` for keys checked against _UPDATABLE",
    ("tickets.py", "_OPEN_IN"): "state set from the lifecycle",
    ("inquiries.py", "_COLUMNS"): "column names, a module constant",
    ("inquiries.py", "', '.join(('i.' + c for c in _COLUMNS.split(', ')))"): "the same columns, qualified",
    ("inquiries.py", "marks"): "placeholders for an IN list",
    ("people.py", "marks"): "placeholders for an IN list",
    ("outbox.py", "_PENDING_EDITS_OF_CARD"): "a constant condition with placeholders",
    ("reports.py", "', '.join(columns)"): "LEDGER_COLUMNS, each a name or a constant expression of it",
    ("reports.py", "name"): "a column name of the constant LEDGER_COLUMNS",
    ("reports.py", "_FORMULA_START"): "a constant list of characters",
    ("reports.py", "int(cache_kib)"): "an integer (PRAGMA takes no parameters)",
    ("reports.py", "_OPEN_IN"): "state set from the lifecycle",
    ("reports.py", "c"): "a column of the report index's prefix (constants in groups())",
    ("reports.py", "column"): "a column of the report index (constants in groups())",
    ("reports.py", "', '.join((f'sum({f})' for f in _SUMMARY_FIELDS))"): "sums of the summary's columns, a constant",
    ("reports.py", "table"): "one of the two summary tables, from a constant tuple",
    ("reports.py", "where"): "`c IS NOT DISTINCT FROM :c AND` for those columns, named parameters",
    ("states.py", "OPEN_IN"): "state set from the lifecycle",
    ("states.py", "', '.join(values)"): "the lifecycle's state names, quoted (enum values, not input)",
    ("states.py", "column"): "a column name written literally by each caller in storage/",
    ("states.py", "state_in(HANDLING_CLOCK_STATES, 't.state')"): "state set from the lifecycle",
    ("purge.py", "state_in(final_states)"): "the lifecycle's final states (enum values)",
    ("purge.py", "marks"): "placeholders for an IN list",
    ("purge.py", "_marks(ids)"): "placeholders for an IN list",
    ("purge.py", "_marks(events)"): "placeholders for an IN list",
    ("purge.py", "gm"): "placeholders for an IN list",
    ("purge.py", "pm"): "placeholders for an IN list",
    ("purge.py", "tm"): "placeholders for an IN list",
    ("purge.py", "people_marks"): "placeholders for an IN list (or NULL)",
    ("purge.py", "table"): "a table name from the constant _TIES",
    ("purge.py", "column"): "a column name from the constant _TIES",
    ("purge.py", "extra"): "a constant condition from _TIES",
    ("open311.py", "_marks(numbers)"): "placeholders for an IN list",
    ("open311.py", "_marks(categories)"): "placeholders for an IN list",
    ("open311.py", "_marks(states)"): "placeholders for an IN list",
    # migrate_data.py copies whole tables: their names are the ones both catalogues list (our migrations made
    # the target's, and a source table the target lacks is refused), column names are quoted.
    ("migrate_data.py", "table"): "a table name our migrations created in the target (checked against it)",
    ("migrate_data.py", "t"): "a table name from the source's catalogue, only read through pragma functions",
    ("migrate_data.py", "', '.join((_quote(c) for c in columns))"): "the table's column names, quoted",
    ("migrate_data.py", "col"): "a foreign key's column, from the catalogue of one of our tables",
    ("migrate_data.py", "ref"): "a foreign key's table, from the catalogue of one of our tables",
    ("migrate_data.py", "ref_col"): "a foreign key's referenced column, from the catalogue",
    ("migrate_data.py", "ident[0]"): "an identity column's name, from the target's information_schema",
    ("migrate_data.py", "where"): "a constant condition",
}


def _sql_text(node: ast.AST) -> str:
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def _scan() -> tuple[set[tuple[str, str]], list[str]]:
    formatted: set[tuple[str, str]] = set()
    other: list[str] = []
    for path in sorted(STORAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr) and SQL.search(_sql_text(node)):
                formatted |= {(path.name, ast.unparse(v.value)) for v in node.values
                              if isinstance(v, ast.FormattedValue)}
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and SQL.search(_sql_text(node.left)):
                other.append(f"{path.name}: % formatting: {ast.unparse(node)}")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
                  and SQL.search(_sql_text(node.func.value))):
                other.append(f"{path.name}: .format(): {ast.unparse(node)}")
    return formatted, other


def test_sql_in_storage_takes_values_only_as_parameters() -> None:
    formatted, other = _scan()
    unreviewed = sorted(formatted - set(FRAGMENTS))
    assert not unreviewed, f"SQL built from something not known to be a constant fragment: {unreviewed}"
    assert not other, other


def test_the_list_has_no_stale_entries() -> None:
    formatted, _ = _scan()
    assert not set(FRAGMENTS) - formatted, sorted(set(FRAGMENTS) - formatted)


def test_the_scanner_catches_a_value_formatted_into_sql(tmp_path: Path) -> None:
    source = 'def f(conn, number):\n    conn.execute(f"SELECT * FROM tickets WHERE number = {number}")\n'
    tree = ast.parse(source)
    found = {ast.unparse(v.value) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
             and SQL.search(_sql_text(node)) for v in node.values if isinstance(v, ast.FormattedValue)}
    assert found == {"number"} and ("x.py", "number") not in FRAGMENTS
