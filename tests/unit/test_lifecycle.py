"""The ticket state machine: the table is the spec, everything else is refused."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.lifecycle import (
    FINAL_STATES,
    OPEN_STATES,
    OPEN_STATES_IN_ORDER,
    TRANSITIONS,
    Action,
    TicketState,
    TransitionRefused,
    allowed_actions,
    next_state,
)

S = TicketState
A = Action

# The flow from PRODUCT.md "The closed loop", written out independently of the module's table.
EXPECTED: dict[tuple[TicketState, Action], TicketState] = {
    (S.REGISTERED, A.DISPATCH): S.DISPATCHED,
    (S.REGISTERED, A.ASSIGN_LEAD): S.DISPATCHED,
    (S.REGISTERED, A.REDISPATCH): S.DISPATCHED,
    (S.REGISTERED, A.REJECT): S.REJECTED,
    (S.DISPATCHED, A.ACCEPT): S.ACCEPTED,
    (S.DISPATCHED, A.RETURN): S.RETURNED,
    (S.DISPATCHED, A.ASSIGN_LEAD): S.DISPATCHED,
    (S.DISPATCHED, A.REDISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.REJECT): S.REJECTED,
    (S.ACCEPTED, A.REQUEST_EXTENSION): S.ACCEPTED,
    (S.ACCEPTED, A.APPROVE_EXTENSION): S.ACCEPTED,
    (S.ACCEPTED, A.DENY_EXTENSION): S.ACCEPTED,
    (S.ACCEPTED, A.RETURN): S.RETURNED,
    (S.ACCEPTED, A.RESOLVE): S.RESOLVED,
    (S.ACCEPTED, A.REJECT): S.REJECTED,
    (S.RETURNED, A.ASSIGN_LEAD): S.DISPATCHED,
    (S.RETURNED, A.REDISPATCH): S.DISPATCHED,
    (S.RETURNED, A.REJECT): S.REJECTED,
    (S.RESOLVED, A.RATE_SATISFIED): S.CLOSED,
    (S.RESOLVED, A.AUTO_CLOSE): S.CLOSED,
    (S.RESOLVED, A.CALLBACK_NOT_REACHED): S.RESOLVED,  # a try: the state stays
    (S.RESOLVED, A.CALLER_UNREACHABLE): S.CLOSED,
    (S.RESOLVED, A.RATE_DISSATISFIED): S.REOPENED,
    (S.REOPENED, A.ACCEPT): S.ACCEPTED,
    (S.REOPENED, A.RESOLVE): S.RESOLVED,
    # A coordinator may change the deadline class while a unit or the coordinators owe work; the state stays.
    **{(state, A.CHANGE_CLASS): state for state in (S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.RETURNED, S.REOPENED)},
    # Issue 11: the unit asks the reporter (and hears the answer) while it holds the signed-for case; the reporter
    # adds material to any open ticket, and withdraws one only while no unit has signed for it. Only the
    # withdrawal changes the state.
    **{(state, action): state for state in (S.ACCEPTED, S.REOPENED) for action in (A.ASK_REPORTER, A.ANSWER_INQUIRY)},
    **{(state, A.ADD_MATERIAL): state
       for state in (S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.RETURNED, S.REOPENED)},
    **{(state, A.WITHDRAW): S.WITHDRAWN for state in (S.REGISTERED, S.DISPATCHED, S.RETURNED)},
    # 并单: any open ticket may be merged into another (by a coordinator, or on a unit's proposal, approved); the
    # unit proposes while it has the case; a declined proposal changes nothing.
    **{(state, action): S.MERGED for state in (S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.RETURNED, S.REOPENED)
       for action in (A.MERGE, A.APPROVE_MERGE)},
    **{(state, A.DENY_MERGE): state for state in (S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.RETURNED, S.REOPENED)},
    **{(state, A.PROPOSE_MERGE): state for state in (S.DISPATCHED, S.ACCEPTED, S.REOPENED)},
}

ALL_PAIRS = list(itertools.product(TicketState, Action))
REFUSED_PAIRS = [pair for pair in ALL_PAIRS if pair not in EXPECTED]


def test_state_and_action_values_are_the_stored_strings() -> None:
    assert [s.value for s in TicketState] == [
        "registered", "dispatched", "accepted", "returned", "resolved", "closed", "reopened", "rejected",
        "withdrawn", "merged",
    ]  # fmt: skip
    assert Action.RETURN == "return"


def test_table_is_exactly_the_expected_flow() -> None:
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("pair", "target"), list(EXPECTED.items()), ids=lambda x: str(x))
def test_allowed_transition(pair: tuple[TicketState, Action], target: TicketState) -> None:
    state, action = pair
    assert next_state(state, action) is target


@pytest.mark.parametrize("pair", REFUSED_PAIRS, ids=str)
def test_everything_else_is_refused(pair: tuple[TicketState, Action]) -> None:
    state, action = pair
    with pytest.raises(TransitionRefused) as exc:
        next_state(state, action)
    expected_reason = "ticket_final" if state in FINAL_STATES else "not_allowed_in_state"
    assert exc.value.reason_key == expected_reason
    assert (exc.value.state, exc.value.action) == (state, action)


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (S.REGISTERED, A.ACCEPT),  # nobody has it yet
        (S.DISPATCHED, A.RESOLVE),  # must be signed for first
        (S.ACCEPTED, A.ACCEPT),  # a second press on 签收
        (S.RESOLVED, A.RETURN),  # too late to return
        (S.REOPENED, A.RETURN),  # a re-complaint goes back to the same unit
        (S.RETURNED, A.ACCEPT),  # the coordinators decide first
        (S.RESOLVED, A.RESOLVE),
        (S.DISPATCHED, A.REQUEST_EXTENSION),
    ],
)
def test_notable_refusals(state: TicketState, action: Action) -> None:
    with pytest.raises(TransitionRefused) as exc:
        next_state(state, action)
    assert exc.value.reason_key == "not_allowed_in_state"


@pytest.mark.parametrize("state", [S.DISPATCHED, S.ACCEPTED])
def test_lead_unit_cannot_return(state: TicketState) -> None:
    with pytest.raises(TransitionRefused) as exc:
        next_state(state, A.RETURN, is_lead=True)
    assert exc.value.reason_key == "lead_cannot_return"


@pytest.mark.parametrize("pair", [p for p in EXPECTED if p[1] is not A.RETURN], ids=str)
def test_lead_flag_changes_nothing_else(pair: tuple[TicketState, Action]) -> None:
    assert next_state(*pair, is_lead=True) is EXPECTED[pair]


def test_return_where_not_allowed_reports_the_state_not_the_lead_rule() -> None:
    with pytest.raises(TransitionRefused) as exc:
        next_state(S.RESOLVED, A.RETURN, is_lead=True)
    assert exc.value.reason_key == "not_allowed_in_state"


def test_extension_requests_do_not_change_state() -> None:
    for action in (A.REQUEST_EXTENSION, A.APPROVE_EXTENSION, A.DENY_EXTENSION):
        assert next_state(S.ACCEPTED, action) is S.ACCEPTED


def test_accepts_stored_strings() -> None:
    assert next_state("dispatched", "accept") is S.ACCEPTED
    assert isinstance(next_state("dispatched", "accept"), TicketState)


@pytest.mark.parametrize(("state", "action"), [("nonsense", "accept"), ("dispatched", "explode"), ("", "")])
def test_unknown_strings_are_a_programming_error(state: str, action: str) -> None:
    with pytest.raises(ValueError):
        next_state(state, action)


def test_open_and_final_states() -> None:
    assert {S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.RETURNED, S.REOPENED} == OPEN_STATES
    assert list(OPEN_STATES_IN_ORDER) == [s for s in TicketState if s in OPEN_STATES], "in the indexes' order"
    assert {S.CLOSED, S.REJECTED, S.WITHDRAWN, S.MERGED} == FINAL_STATES
    # Resolved waits for the resident, not for a unit: neither open nor final.
    assert S.RESOLVED not in OPEN_STATES | FINAL_STATES
    assert not OPEN_STATES & FINAL_STATES


def test_final_states_have_no_way_out_and_every_other_state_has_one() -> None:
    sources = {state for state, _ in TRANSITIONS}
    assert sources == set(TicketState) - FINAL_STATES


def test_every_state_is_reachable_from_registered() -> None:
    reached = {S.REGISTERED}
    frontier = [S.REGISTERED]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(TicketState)


def test_every_open_state_can_still_end() -> None:
    # No open state is a dead end: from each, some path leads to closed or rejected.
    can_end = set(FINAL_STATES)
    changed = True
    while changed:
        changed = False
        for (source, _), target in TRANSITIONS.items():
            if target in can_end and source not in can_end:
                can_end.add(source)
                changed = True
    assert can_end == set(TicketState)


def test_allowed_actions_match_the_table() -> None:
    assert allowed_actions(S.RESOLVED) == {A.RATE_SATISFIED, A.RATE_DISSATISFIED, A.AUTO_CLOSE,
                                           A.CALLBACK_NOT_REACHED, A.CALLER_UNREACHABLE}
    assert allowed_actions(S.CLOSED) == frozenset()
    assert A.RETURN in allowed_actions(S.DISPATCHED)
    assert A.RETURN not in allowed_actions(S.DISPATCHED, is_lead=True)
    assert allowed_actions("reopened") == {A.ACCEPT, A.RESOLVE, A.CHANGE_CLASS, A.ASK_REPORTER, A.ANSWER_INQUIRY,
                                           A.ADD_MATERIAL, A.MERGE, A.PROPOSE_MERGE, A.APPROVE_MERGE, A.DENY_MERGE}
    for state in TicketState:
        for action in Action:
            ok = action in allowed_actions(state, is_lead=True)
            try:
                next_state(state, action, is_lead=True)
            except TransitionRefused:
                assert not ok
            else:
                assert ok


@given(st.lists(st.tuples(st.sampled_from(list(Action)), st.booleans()), max_size=60))
def test_random_action_sequences_stay_in_the_state_set(steps: list[tuple[Action, bool]]) -> None:
    state = S.REGISTERED
    for action, is_lead in steps:
        try:
            new = next_state(state, action, is_lead=is_lead)
        except TransitionRefused as exc:
            assert exc.reason_key in {"not_allowed_in_state", "ticket_final", "lead_cannot_return"}
            continue
        assert isinstance(new, TicketState)
        assert state not in FINAL_STATES  # nothing ever leaves closed or rejected
        state = new


@given(st.sampled_from(sorted(FINAL_STATES)), st.sampled_from(list(Action)), st.booleans())
def test_closed_and_rejected_are_terminal(state: TicketState, action: Action, is_lead: bool) -> None:
    with pytest.raises(TransitionRefused) as exc:
        next_state(state, action, is_lead=is_lead)
    assert exc.value.reason_key == "ticket_final"
