"""The ticket's closed loop (受理 → 派单 → 签收 → 办理 → 办结 → 回访) as one transition table.

``TRANSITIONS`` is the whole flow: a (state, action) pair that is not in it is refused. Who may perform an
action (liaison of the right unit, coordinator, resident, the scheduler) is checked by the workflow; this
module only knows states. Rendering (state names in zh/en) lives in the text catalogues, keyed by the
states' string values, which are stored in the database and must not change.
"""

from __future__ import annotations

from enum import StrEnum


class TicketState(StrEnum):
    REGISTERED = "registered"  # confirmed by the resident, has a number; routing runs at once
    DISPATCHED = "dispatched"  # a unit is responsible; the sign-for clock runs
    ACCEPTED = "accepted"  # signed for (签收); the handling clock runs
    RETURNED = "returned"  # the unit sent it back (退回); with the coordinators
    RESOLVED = "resolved"  # the unit answered (办结); waiting for the resident's rating
    CLOSED = "closed"  # rated satisfied, or not rated in time
    REOPENED = "reopened"  # rated dissatisfied: back with the same unit as a re-complaint
    REJECTED = "rejected"  # declined by a coordinator, with a reason the resident sees


class Action(StrEnum):
    DISPATCH = "dispatch"  # routing found a unit
    ASSIGN_LEAD = "assign_lead"  # a coordinator names the lead unit (主办), which may not return it
    REDISPATCH = "redispatch"  # a coordinator sends it to another unit (a transfer; counts as a bounce)
    ACCEPT = "accept"  # the unit's liaison signs for it
    RETURN = "return"  # the unit returns it as not theirs
    REQUEST_EXTENSION = "request_extension"  # the unit asks for more time
    APPROVE_EXTENSION = "approve_extension"  # a coordinator grants it (the workflow moves the deadline)
    DENY_EXTENSION = "deny_extension"
    RESOLVE = "resolve"  # the unit answers
    RATE_SATISFIED = "rate_satisfied"
    RATE_DISSATISFIED = "rate_dissatisfied"
    AUTO_CLOSE = "auto_close"  # no rating within the configured days
    REJECT = "reject"  # a coordinator declines it

    return_ = "return"  # alias of RETURN, the spelling of the design brief


S = TicketState
A = Action

TRANSITIONS: dict[tuple[TicketState, Action], TicketState] = {
    # 受理: a fresh ticket is routed to a unit, or (no match) waits for the coordinators.
    (S.REGISTERED, A.DISPATCH): S.DISPATCHED,
    (S.REGISTERED, A.ASSIGN_LEAD): S.DISPATCHED,
    (S.REGISTERED, A.REDISPATCH): S.DISPATCHED,
    (S.REGISTERED, A.REJECT): S.REJECTED,
    # 派单 → 签收, or 退回.
    (S.DISPATCHED, A.ACCEPT): S.ACCEPTED,
    (S.DISPATCHED, A.RETURN): S.RETURNED,
    (S.DISPATCHED, A.ASSIGN_LEAD): S.DISPATCHED,
    (S.DISPATCHED, A.REDISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.REJECT): S.REJECTED,
    # 办理: more time does not change the state, only the deadline.
    (S.ACCEPTED, A.REQUEST_EXTENSION): S.ACCEPTED,
    (S.ACCEPTED, A.APPROVE_EXTENSION): S.ACCEPTED,
    (S.ACCEPTED, A.DENY_EXTENSION): S.ACCEPTED,
    (S.ACCEPTED, A.RETURN): S.RETURNED,
    (S.ACCEPTED, A.RESOLVE): S.RESOLVED,
    (S.ACCEPTED, A.REJECT): S.REJECTED,
    # Back with the coordinators: name a lead, send it elsewhere, or decline it.
    (S.RETURNED, A.ASSIGN_LEAD): S.DISPATCHED,
    (S.RETURNED, A.REDISPATCH): S.DISPATCHED,
    (S.RETURNED, A.REJECT): S.REJECTED,
    # 回访.
    (S.RESOLVED, A.RATE_SATISFIED): S.CLOSED,
    (S.RESOLVED, A.AUTO_CLOSE): S.CLOSED,
    (S.RESOLVED, A.RATE_DISSATISFIED): S.REOPENED,
    # 不满意: the same unit signs for it again, or answers straight away.
    (S.REOPENED, A.ACCEPT): S.ACCEPTED,
    (S.REOPENED, A.RESOLVE): S.RESOLVED,
}

del S, A

FINAL_STATES: frozenset[TicketState] = frozenset({TicketState.CLOSED, TicketState.REJECTED})

# States in which a unit or the coordinators still owe work (resolved waits for the resident only).
OPEN_STATES: frozenset[TicketState] = frozenset(
    {
        TicketState.REGISTERED,
        TicketState.DISPATCHED,
        TicketState.ACCEPTED,
        TicketState.RETURNED,
        TicketState.REOPENED,
    }
)


class TransitionRefused(Exception):
    """An action that the ticket's state does not allow; ``reason_key`` names why, for the text catalogue.

    reason keys: ``not_allowed_in_state``, ``ticket_final`` (closed or rejected), ``lead_cannot_return``.
    """

    def __init__(self, reason_key: str, state: TicketState, action: Action) -> None:
        super().__init__(f"{reason_key}: {action} in {state}")
        self.reason_key = reason_key
        self.state = state
        self.action = action


def next_state(state: TicketState | str, action: Action | str, *, is_lead: bool = False) -> TicketState:
    """The state after ``action``; raises TransitionRefused if the action is not allowed.

    ``is_lead`` says the ticket's unit was named lead (主办) by a coordinator; such a unit cannot return it.
    Unknown state or action strings raise ValueError (a programming error, not a user's mistake).
    """
    state = TicketState(state)
    action = Action(action)
    target = TRANSITIONS.get((state, action))
    if target is None:
        reason = "ticket_final" if state in FINAL_STATES else "not_allowed_in_state"
        raise TransitionRefused(reason, state, action)
    if action is Action.RETURN and is_lead:
        raise TransitionRefused("lead_cannot_return", state, action)
    return target


def allowed_actions(state: TicketState | str, *, is_lead: bool = False) -> frozenset[Action]:
    """Actions :func:`next_state` accepts in ``state`` (e.g. to choose a card's buttons)."""
    state = TicketState(state)
    return frozenset(
        action for (source, action) in TRANSITIONS if source is state and not (action is Action.RETURN and is_lead)
    )
