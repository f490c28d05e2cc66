"""The state lists in SQL derive from the lifecycle, and the migrations' partial indexes spell them the same way
(a query uses a partial index only if it repeats the index's WHERE clause word for word)."""

from __future__ import annotations

import re

from bot.domain.lifecycle import HANDLING_CLOCK_STATES, OPEN_STATES, SIGN_CLOCK_STATES, TicketState
from storage import states
from storage.db import migration_scripts


def _index_wheres() -> dict[str, str]:
    sql = "\n".join(script for _, script in migration_scripts())
    found = re.findall(r"CREATE INDEX (\w+) ON tickets\([^)]*\)\s+WHERE ([^;]+);", sql)
    return {name: " ".join(where.split()) for name, where in found}


def test_open_state_indexes_list_the_domains_open_states() -> None:
    wheres = _index_wheres()
    open_ones = [w for w in wheres.values() if w.startswith("state IN")]
    assert len(open_ones) >= 3
    assert all(w == f"state IN {states.OPEN_IN}" for w in open_ones), open_ones
    assert set(states.OPEN_STATES) == {s.value for s in OPEN_STATES}


def test_the_sign_for_index_is_the_sign_clock() -> None:
    assert _index_wheres()["tickets_sign_due"] == states.SIGN_CLOCK.removeprefix("t.")


def test_clock_fragments_name_exactly_the_clock_states() -> None:
    assert states.SIGN_CLOCK == "t.state = 'dispatched'"
    assert states.HANDLING_CLOCK.endswith("t.state IN ('accepted', 'reopened')")
    assert {*SIGN_CLOCK_STATES, *HANDLING_CLOCK_STATES} <= OPEN_STATES
    assert states.state_in([TicketState.RESOLVED]) == "state = 'resolved'"
