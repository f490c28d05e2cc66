"""The ticket's closed loop (受理 → 派单 → 签收 → 办理 → 办结 → 回访) as one specification.

``SPEC`` is the whole flow, one :class:`Transition` per action: the states it may start from, the state it leads
to, the event it writes, who performs it, what it does to the deadlines, whether it counts as a bounce, and the
button (if any) that offers it on a card. Everything else derives from it: the workflow applies a transition
(:func:`plan`), cards draw the buttons a state allows (:func:`buttons`), the seed data walks it, and the tests walk
every (state, action) pair. A (state, action) pair the specification does not allow is refused.

Who may perform an action (liaison of the right unit, coordinator, resident, the scheduler) is checked by the
workflow; this module only knows states. Rendering (state names in zh/en) lives in the text catalogues, keyed by
the states' string values, which are stored in the database and must not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class TicketState(StrEnum):
    REGISTERED = "registered"  # confirmed by the resident, has a number; routing runs at once
    DISPATCHED = "dispatched"  # a unit is responsible; the sign-for clock runs
    ACCEPTED = "accepted"  # signed for (签收); the handling clock runs
    RETURNED = "returned"  # the unit sent it back (退回); with the coordinators
    RESOLVED = "resolved"  # the unit answered (办结); waiting for the resident's rating
    CLOSED = "closed"  # rated satisfied, or not rated in time
    REOPENED = "reopened"  # rated dissatisfied: back with the same unit as a re-complaint
    REJECTED = "rejected"  # declined by a coordinator, with a reason the resident sees
    WITHDRAWN = "withdrawn"  # the resident took it back (撤回) before any unit signed for it
    MERGED = "merged"  # a duplicate of another open ticket (并单): its followers follow that one now


class Action(StrEnum):
    DISPATCH = "dispatch"  # routing found a unit
    ASSIGN_LEAD = "assign_lead"  # a coordinator names the lead unit (主办), which may not return it
    REDISPATCH = "redispatch"  # a coordinator sends it to another unit (a decision, not a bounce)
    ACCEPT = "accept"  # the unit's liaison signs for it
    RETURN = "return"  # the unit returns it as not theirs (a bounce)
    REQUEST_EXTENSION = "request_extension"  # the unit asks for more time
    APPROVE_EXTENSION = "approve_extension"  # a coordinator grants it: the handling deadline moves
    DENY_EXTENSION = "deny_extension"
    RESOLVE = "resolve"  # the unit answers
    RATE_SATISFIED = "rate_satisfied"  # the rating accepts the answer (see bot.domain.rating.reopens)
    RATE_DISSATISFIED = "rate_dissatisfied"  # unsolved or dissatisfied: a re-complaint
    AUTO_CLOSE = "auto_close"  # no rating within the configured days
    REJECT = "reject"  # a coordinator declines it
    CHANGE_CLASS = "change_class"  # a coordinator changes the deadline class
    ASK_REPORTER = "ask_reporter"  # the unit asks the reporter a question, privately (询问群众)
    ANSWER_INQUIRY = "answer_inquiry"  # the reporter answers one of the unit's questions
    ADD_MATERIAL = "add_material"  # the reporter adds a note or photos to an open ticket (补充材料)
    WITHDRAW = "withdraw"  # the reporter withdraws it before sign-for (撤回)
    MERGE = "merge"  # a coordinator marks it a duplicate of another open ticket (typed number)
    PROPOSE_MERGE = "propose_merge"  # the unit proposes that to the coordinators
    APPROVE_MERGE = "approve_merge"  # a coordinator approves the unit's proposal: merged
    DENY_MERGE = "deny_merge"
    CALLBACK_NOT_REACHED = "callback_not_reached"  # an operator called a hotline caller back: nobody answered
    CALLER_UNREACHABLE = "caller_unreachable"  # the last try of the callback failed: closed unrated


class ActorKind(StrEnum):
    """Who performs an action, as recorded on its event (and shown in the /ticket timeline)."""

    SYSTEM = "system"
    UNIT = "unit"
    COORDINATOR = "coordinator"
    RESIDENT = "resident"
    OPERATOR = "operator"  # a hotline operator (代录), filing for a caller or rating on the caller's behalf


class DeadlineEffect(StrEnum):
    """What an action does to the ticket's two clocks (sign-for and handling)."""

    NONE = "none"
    START_SIGN = "start_sign"  # the sign-for clock starts from now; no handling clock until signed for
    START_HANDLING = "start_handling"  # sign-for stops (on time or not is recorded); handling starts from now
    #                                    unless a fresh one already runs (a re-opened case keeps its own)
    EXTEND = "extend"  # the handling deadline moves by the approved working days
    RECLASS = "reclass"  # the handling deadline is recomputed for the new class (once signed for)
    STOP_HANDLING = "stop_handling"  # answered: on time or not is recorded
    CLEAR = "clear"  # both clocks stop: the case is with the coordinators
    RESTART_HANDLING = "restart_handling"  # a fresh handling deadline from now (a re-complaint)


class Card(StrEnum):
    """Where a button offering an action is drawn."""

    UNIT = "unit"  # the assignment card in the responsible unit's chat
    COORDINATION = "coordination"  # the case before the coordinators
    EXTENSION = "extension"  # an extension request before the coordinators
    INQUIRY = "inquiry"  # a unit's question in the reporter's private chat
    MY = "my"  # a ticket of the reporter's own /my list
    MERGE_PROPOSAL = "merge_proposal"  # a unit's proposal to merge, before the coordinators
    CALLBACK = "callback"  # the callback card (回访) of a hotline ticket in the operators' chat


S = TicketState

#: States in which a unit or the coordinators still owe work (resolved waits for the resident only); listed in
#: the enum's order, which is the order the partial indexes' SQL lists them in (storage derives its IN lists).
OPEN_STATES_IN_ORDER: tuple[TicketState, ...] = (
    TicketState.REGISTERED, TicketState.DISPATCHED, TicketState.ACCEPTED, TicketState.RETURNED, TicketState.REOPENED,
)


@dataclass(frozen=True)
class Button:
    """A card button offering an action; ``label`` is its catalogue key. ``shown_in`` narrows the states in which
    the card offers it (by default every state the action may start from)."""

    card: Card
    label: str
    shown_in: frozenset[TicketState] | None = None


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[TicketState]
    target: TicketState | None  # None: the state stays as it is
    event: str  # the event's action name (``event.<name>`` in the catalogues)
    actor: ActorKind
    deadline: DeadlineEffect = DeadlineEffect.NONE
    bounce: bool = False  # a unit's "not ours": counted, and escalated after `handling.max_bounces`
    public: bool = True  # shown on the resident's /status timeline
    lead_may: bool = True  # False: a unit named lead (主办) by a coordinator may not do it
    button: Button | None = None

    def target_from(self, state: TicketState) -> TicketState:
        return state if self.target is None else self.target

    def offered_in(self, state: TicketState) -> bool:
        if self.button is None:
            return False
        return state in (self.button.shown_in if self.button.shown_in is not None else self.sources)


def _t(action: Action, sources: set[TicketState], target: TicketState | None, event: str, actor: ActorKind,
       **rest: object) -> Transition:
    return Transition(action, frozenset(sources), target, event, actor, **rest)  # type: ignore[arg-type]


_WITH_COORDINATORS = frozenset({S.REGISTERED, S.RETURNED})  # where the coordination card offers its decisions
#: While a unit holds the case after signing for it, it may ask the reporter (before sign-for it can return it);
#: the reporter may answer as long as that holds (a question outlived by the answer gets a polite refusal).
_UNIT_HOLDS = {S.ACCEPTED, S.REOPENED}
#: Withdrawal (撤回) only while no unit has signed for it.
_NOT_SIGNED = {S.REGISTERED, S.DISPATCHED, S.RETURNED}
_OPEN = set(OPEN_STATES_IN_ORDER)
_WITH_UNIT = {S.DISPATCHED, S.ACCEPTED, S.REOPENED}
_UNIT, _COORD, _RESIDENT, _SYSTEM = ActorKind.UNIT, ActorKind.COORDINATOR, ActorKind.RESIDENT, ActorKind.SYSTEM
_OPERATOR = ActorKind.OPERATOR
D = DeadlineEffect

#: The whole flow, in the order cards draw their buttons (two a row).
SPEC: Mapping[Action, Transition] = MappingProxyType({t.action: t for t in (
    # 受理 / 派单: routing found a unit, or the coordinators decide.
    _t(Action.DISPATCH, {S.REGISTERED}, S.DISPATCHED, "dispatched", _SYSTEM, deadline=D.START_SIGN),
    _t(Action.ASSIGN_LEAD, {S.REGISTERED, S.DISPATCHED, S.RETURNED}, S.DISPATCHED, "assigned_lead", _COORD,
       deadline=D.START_SIGN, button=Button(Card.COORDINATION, "card.btn_lead", _WITH_COORDINATORS)),
    _t(Action.REDISPATCH, {S.REGISTERED, S.DISPATCHED, S.RETURNED}, S.DISPATCHED, "redispatched", _COORD,
       deadline=D.START_SIGN, button=Button(Card.COORDINATION, "card.btn_redispatch", _WITH_COORDINATORS)),
    _t(Action.CHANGE_CLASS, {S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.RETURNED, S.REOPENED}, None,
       "class_changed", _COORD, deadline=D.RECLASS, public=False,
       button=Button(Card.COORDINATION, "card.btn_class", _WITH_COORDINATORS)),
    _t(Action.REJECT, {S.REGISTERED, S.DISPATCHED, S.ACCEPTED, S.RETURNED}, S.REJECTED, "rejected", _COORD,
       button=Button(Card.COORDINATION, "card.btn_reject", _WITH_COORDINATORS)),
    # 签收 → 办理 → 办结, or 退回.
    _t(Action.ACCEPT, {S.DISPATCHED, S.REOPENED}, S.ACCEPTED, "accepted", _UNIT, deadline=D.START_HANDLING,
       button=Button(Card.UNIT, "card.btn_accept")),
    _t(Action.RESOLVE, {S.ACCEPTED, S.REOPENED}, S.RESOLVED, "resolved", _UNIT, deadline=D.STOP_HANDLING,
       button=Button(Card.UNIT, "card.btn_resolve")),
    _t(Action.REQUEST_EXTENSION, {S.ACCEPTED}, None, "extension_requested", _UNIT, public=False,
       button=Button(Card.UNIT, "card.btn_extend")),
    _t(Action.RETURN, {S.DISPATCHED, S.ACCEPTED}, S.RETURNED, "returned", _UNIT, deadline=D.CLEAR, bounce=True,
       lead_may=False, button=Button(Card.UNIT, "card.btn_return")),
    # More time changes only the deadline.
    _t(Action.APPROVE_EXTENSION, {S.ACCEPTED}, None, "extension_approved", _COORD, deadline=D.EXTEND,
       button=Button(Card.EXTENSION, "card.btn_approve")),
    _t(Action.DENY_EXTENSION, {S.ACCEPTED}, None, "extension_denied", _COORD, public=False,
       button=Button(Card.EXTENSION, "card.btn_deny")),
    # 询问群众: a question and its answer relayed between the unit and the reporter, neither seeing the other.
    _t(Action.ASK_REPORTER, _UNIT_HOLDS, None, "reporter_asked", _UNIT, public=False,
       button=Button(Card.UNIT, "card.btn_ask_reporter")),
    _t(Action.ANSWER_INQUIRY, _UNIT_HOLDS, None, "reporter_answered", _RESIDENT, public=False,
       button=Button(Card.INQUIRY, "inquiry.btn_answer")),
    # 补充材料 / 撤回 from the reporter's /my.
    _t(Action.ADD_MATERIAL, _OPEN, None, "material_added", _RESIDENT,
       button=Button(Card.MY, "my.btn_add_material")),
    _t(Action.WITHDRAW, _NOT_SIGNED, S.WITHDRAWN, "withdrawn", _RESIDENT, deadline=D.CLEAR,
       button=Button(Card.MY, "my.btn_withdraw")),
    # 并单: a duplicate of another open ticket is final; the unit may propose it, the coordinators decide.
    _t(Action.MERGE, _OPEN, S.MERGED, "merged", _COORD, deadline=D.CLEAR,
       button=Button(Card.COORDINATION, "card.btn_merge", _WITH_COORDINATORS)),
    _t(Action.PROPOSE_MERGE, _WITH_UNIT, None, "merge_proposed", _UNIT, public=False,
       button=Button(Card.UNIT, "card.btn_propose_merge")),
    _t(Action.APPROVE_MERGE, _OPEN, S.MERGED, "merged", _COORD, deadline=D.CLEAR,
       button=Button(Card.MERGE_PROPOSAL, "card.btn_approve_merge")),
    _t(Action.DENY_MERGE, _OPEN, None, "merge_denied", _COORD, public=False,
       button=Button(Card.MERGE_PROPOSAL, "card.btn_deny_merge")),
    # 回访: the resident answers the rating's two questions (the pair decides which row: bot.domain.rating), or
    # nobody does in time. The rating's buttons are a form of two questions, not one button per row.
    _t(Action.RATE_SATISFIED, {S.RESOLVED}, S.CLOSED, "rated_satisfied", _RESIDENT),
    _t(Action.RATE_DISSATISFIED, {S.RESOLVED}, S.REOPENED, "reopened", _RESIDENT, deadline=D.RESTART_HANDLING),
    _t(Action.AUTO_CLOSE, {S.RESOLVED}, S.CLOSED, "auto_closed", _SYSTEM),
    # A hotline caller is rated for by an operator from the callback card (the rating's rows above, the operator
    # as the actor); each call nobody answers is a try, and the last try closes the case as an unrated one is.
    _t(Action.CALLBACK_NOT_REACHED, {S.RESOLVED}, None, "callback_not_reached", _OPERATOR, public=False,
       button=Button(Card.CALLBACK, "hotline.btn_not_reached")),
    _t(Action.CALLER_UNREACHABLE, {S.RESOLVED}, S.CLOSED, "caller_unreachable", _OPERATOR),
)})

del S, D, _OPEN, _WITH_UNIT

FINAL_STATES: frozenset[TicketState] = frozenset({
    TicketState.CLOSED, TicketState.REJECTED, TicketState.WITHDRAWN, TicketState.MERGED,
})

OPEN_STATES: frozenset[TicketState] = frozenset(OPEN_STATES_IN_ORDER)
#: States in which each clock runs (derived from the deadline effects above; the sweep reads these).
SIGN_CLOCK_STATES: tuple[TicketState, ...] = (TicketState.DISPATCHED,)
HANDLING_CLOCK_STATES: tuple[TicketState, ...] = (TicketState.ACCEPTED, TicketState.REOPENED)

#: (state, action) → the state after it: the transition table the specification implies.
TRANSITIONS: Mapping[tuple[TicketState, Action], TicketState] = MappingProxyType({
    (source, t.action): t.target_from(source) for t in SPEC.values() for source in t.sources
})


class TransitionRefused(Exception):
    """An action that the ticket's state does not allow; ``reason_key`` names why, for the text catalogue.

    reason keys: ``not_allowed_in_state``, ``ticket_final`` (closed, rejected, withdrawn or merged),
    ``lead_cannot_return``.
    """

    def __init__(self, reason_key: str, state: TicketState, action: Action) -> None:
        super().__init__(f"{reason_key}: {action} in {state}")
        self.reason_key = reason_key
        self.state = state
        self.action = action


@dataclass(frozen=True)
class Move:
    """One applied transition: what to write (the event's from/to are the ticket's real states)."""

    transition: Transition
    from_state: TicketState
    to_state: TicketState

    @property
    def changes_state(self) -> bool:
        return self.from_state is not self.to_state


def plan(state: TicketState | str, action: Action | str, *, is_lead: bool = False) -> Move:
    """The move ``action`` makes from ``state``; TransitionRefused if the specification does not allow it.

    ``is_lead`` says the ticket's unit was named lead (主办) by a coordinator; such a unit cannot return it.
    Unknown state or action strings raise ValueError (a programming error, not a user's mistake).
    """
    state, action = TicketState(state), Action(action)
    transition = SPEC[action]
    if state not in transition.sources:
        reason = "ticket_final" if state in FINAL_STATES else "not_allowed_in_state"
        raise TransitionRefused(reason, state, action)
    if is_lead and not transition.lead_may:
        raise TransitionRefused("lead_cannot_return", state, action)
    return Move(transition, state, transition.target_from(state))


def next_state(state: TicketState | str, action: Action | str, *, is_lead: bool = False) -> TicketState:
    """The state after ``action``; raises TransitionRefused if the action is not allowed."""
    return plan(state, action, is_lead=is_lead).to_state


def allowed_actions(state: TicketState | str, *, is_lead: bool = False) -> frozenset[Action]:
    """Actions :func:`plan` accepts in ``state``."""
    state = TicketState(state)
    return frozenset(t.action for t in SPEC.values() if state in t.sources and (t.lead_may or not is_lead))


def buttons(card: Card, state: TicketState | str, *, is_lead: bool = False) -> tuple[Transition, ...]:
    """The transitions ``card`` offers as buttons in ``state``, in the specification's order."""
    state = TicketState(state)
    return tuple(t for t in SPEC.values() if t.button is not None and t.button.card is card
                 and t.offered_in(state) and (t.lead_may or not is_lead))
