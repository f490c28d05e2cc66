"""The button vocabulary: every callback-data string the bot puts on a button is encoded and decoded here.

Two shapes, both short, versioned strings that fit Telegram's 64 bytes:

- ticket buttons (cards, coordination, extension decisions, the resident's rating):
  ``t|<op>|<ticket id>|<version>|<arg>``. The version is the ticket's version when the card was drawn: a press on
  an older card, a second press, or a forged button for another ticket finds a different version and changes
  nothing.
- intake buttons: ``i|<draft id>|<step code>|<op>|<arg>``. The draft id and step make a button from an earlier
  conversation or an earlier step recognisably stale: it changes nothing and gets a polite answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.intake import Step
from bot.domain.lifecycle import Action

MAX_BYTES = 64


class TicketOp(StrEnum):
    """What a ticket button does. Card buttons map one-to-one to lifecycle actions (see ``bot.cards``); the
    others answer a follow-up question the bot asked under a card."""

    # the unit's card
    ACCEPT = "acc"
    RETURN = "ret"
    RETURN_REASON = "rr"  # arg: index of a preset reason
    EXTEND = "ext"
    EXTENSION_DAYS = "xd"  # arg: days
    EXTENSION_TYPED = "xt"  # "其他天数": the liaison types the number of days
    RESOLVE = "res"
    # the coordination card
    LEAD = "lead"
    LEAD_CHOSEN = "ld"  # arg: unit key
    HELPER_TOGGLED = "hp"  # arg: unit key
    LEAD_CONFIRMED = "go"
    REDISPATCH = "rd"
    REDISPATCH_TO = "rdu"  # arg: unit key
    DEADLINE_CLASS = "cls"  # arg: class ("" asks which)
    REJECT = "rej"
    # the extension card (arg: the request's id)
    APPROVE_EXTENSION = "xa"
    DENY_EXTENSION = "xn"
    MERGE = "mrg"  # B's card: merge it into the ticket whose number the coordinator types next
    # the unit's proposal to merge (the card in the coordination chat; arg: the id of the ticket to merge into)
    PROPOSE_MERGE = "pm"
    APPROVE_MERGE = "ma"
    DENY_MERGE = "mn"
    # the resident's rating: two questions in one message (bot.domain.rating), then an optional reason
    SOLVED = "sv"  # arg: the first answer's letter
    RATED = "rt"  # arg: both answers' letters, "<solved>.<satisfaction>"
    REASON = "rsn"  # version: the rating's round; arg: index of a preset reason, or "w" (type it)
    SATISFIED = "sat"  # one-tap ratings on answers sent before the two questions existed
    DISSATISFIED = "dis"
    # asking the reporter (询问群众): the unit's card button; the reporter's answer button (arg: the round's id)
    ASK_REPORTER = "ask"
    ANSWER_INQUIRY = "ans"
    # the reporter's /my: add material, withdraw (then a preset reason, arg: its index), finish adding
    ADD_MATERIAL = "add"
    MATERIAL_DONE = "addx"
    WITHDRAW = "wd"
    WITHDRAW_REASON = "wr"
    # the callback card (回访) of a hotline ticket: the caller did not answer (the rating uses SOLVED / RATED)
    NOT_REACHED = "nr"


class IntakeOp(StrEnum):
    """What an intake button does, at the step its data names."""

    PAGE = "pg"  # category: another page (arg: page)
    CATEGORY = "cat"  # category: this one (arg: key)
    PLACE = "pl"  # location: this named place (arg: key)
    PLACE_TEXT = "pt"  # location: keep what I typed
    SKIP = "skip"  # location: none
    SUBMIT = "ok"  # summary
    FOLLOW = "fw"  # summary: follow this open ticket instead (arg: its number)
    DISCARD = "x"  # summary
    EDIT = "ed"  # summary: change a field (arg: the step)


#: The button of each lifecycle action that a card offers (``bot.domain.lifecycle.SPEC``'s ``button``).
CARD_OPS: dict[Action, TicketOp] = {
    Action.ACCEPT: TicketOp.ACCEPT, Action.RETURN: TicketOp.RETURN, Action.REQUEST_EXTENSION: TicketOp.EXTEND,
    Action.RESOLVE: TicketOp.RESOLVE, Action.ASSIGN_LEAD: TicketOp.LEAD, Action.REDISPATCH: TicketOp.REDISPATCH,
    Action.CHANGE_CLASS: TicketOp.DEADLINE_CLASS, Action.REJECT: TicketOp.REJECT,
    Action.APPROVE_EXTENSION: TicketOp.APPROVE_EXTENSION, Action.DENY_EXTENSION: TicketOp.DENY_EXTENSION,
    Action.ASK_REPORTER: TicketOp.ASK_REPORTER, Action.ANSWER_INQUIRY: TicketOp.ANSWER_INQUIRY,
    Action.ADD_MATERIAL: TicketOp.ADD_MATERIAL, Action.WITHDRAW: TicketOp.WITHDRAW,
    Action.MERGE: TicketOp.MERGE, Action.PROPOSE_MERGE: TicketOp.PROPOSE_MERGE,
    Action.APPROVE_MERGE: TicketOp.APPROVE_MERGE, Action.DENY_MERGE: TicketOp.DENY_MERGE,
    Action.CALLBACK_NOT_REACHED: TicketOp.NOT_REACHED,
}
OPS = frozenset(op.value for op in TicketOp)
PATTERN = re.compile(r"^t\|([a-z]{2,4})\|(\d{1,12})\|(\d{1,6})\|([A-Za-z0-9_.-]{0,32})$")


@dataclass(frozen=True)
class TicketButton:
    op: str
    ticket_id: int
    version: int
    arg: str = ""

    def encode(self) -> str:
        data = f"t|{self.op}|{self.ticket_id}|{self.version}|{self.arg}"
        if self.op not in OPS or len(data.encode()) > MAX_BYTES or not PATTERN.match(data):
            raise ValueError(f"bad ticket button: {data!r}")
        return data

    @classmethod
    def decode(cls, data: str) -> TicketButton | None:
        match = PATTERN.match(data)
        if match is None or match.group(1) not in OPS:
            return None
        op, ticket_id, version, arg = match.groups()
        return cls(TicketOp(op), int(ticket_id), int(version), arg)


_STEP_CODES = {Step.CATEGORY: "c", Step.LOCATION: "l", Step.PHOTOS: "p", Step.DESCRIPTION: "d", Step.SUMMARY: "s",
               Step.CALLER_PHONE: "h", Step.CALLER_NAME: "n"}
_CODE_STEPS = {v: k for k, v in _STEP_CODES.items()}
INTAKE_PATTERN = re.compile(r"^i\|[0-9a-f]{6}\|[clpdshn]\|[a-z]{1,4}\|[A-Za-z0-9_]{0,40}$")


@dataclass(frozen=True)
class IntakeButton:
    draft_id: str
    step: Step
    op: str
    arg: str = ""

    PATTERN = INTAKE_PATTERN

    def encode(self) -> str:
        data = f"i|{self.draft_id}|{_STEP_CODES[self.step]}|{self.op}|{self.arg}"
        if len(data.encode()) > MAX_BYTES or not INTAKE_PATTERN.match(data):
            raise ValueError(f"bad intake callback data: {data!r}")
        return data

    @classmethod
    def decode(cls, data: str) -> IntakeButton | None:
        if not INTAKE_PATTERN.match(data):
            return None
        _, draft_id, code, op, arg = data.split("|")
        return cls(draft_id, _CODE_STEPS[code], op, arg)
