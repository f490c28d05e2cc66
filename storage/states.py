"""The lifecycle's state sets as SQL, derived from ``bot.domain.lifecycle`` (the one definition).

A query that should use a partial index must repeat the index's WHERE clause word for word, so these fragments
are spelled exactly as the migrations spell them; the migrations themselves stay literal SQL, and
``tests/test_consistency.py`` checks the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized

from bot.domain.lifecycle import HANDLING_CLOCK_STATES, OPEN_STATES_IN_ORDER, SIGN_CLOCK_STATES, TicketState


def state_in(states: Iterable[TicketState], column: str = "state") -> str:
    """``state = 'x'`` for one state, ``state IN ('x', 'y')`` for several (the migrations' spelling)."""
    values = [f"'{s.value}'" for s in states]
    return f"{column} = {values[0]}" if len(values) == 1 else f"{column} IN ({', '.join(values)})"


def placeholders(values: Sized) -> str:
    """``?, ?, …`` for an IN list of ``values``: only placeholders go into the SQL, the values as parameters."""
    return ", ".join("?" * len(values))


#: Open states, in the order the partial indexes list them.
OPEN_STATES: tuple[str, ...] = tuple(s.value for s in OPEN_STATES_IN_ORDER)
OPEN_IN = "(" + ", ".join(f"'{s}'" for s in OPEN_STATES) + ")"
#: Where each deadline runs: as the sweep's partial indexes say (handling: inside the open-state index).
SIGN_CLOCK = state_in(SIGN_CLOCK_STATES, "t.state")
HANDLING_CLOCK = f"t.state IN {OPEN_IN} AND {state_in(HANDLING_CLOCK_STATES, 't.state')}"
RUNNING_CLOCKS = state_in((*SIGN_CLOCK_STATES, *HANDLING_CLOCK_STATES))
