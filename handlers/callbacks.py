"""Callback data of our buttons: short, versioned strings that fit Telegram's 64 bytes.

Intake buttons: ``i|<draft id>|<step code>|<op>|<arg>``. The draft id and step make a button from an earlier
conversation or an earlier step recognisably stale: it changes nothing and gets a polite answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.intake import Step

MAX_CALLBACK_BYTES = 64

_STEP_CODES = {Step.CATEGORY: "c", Step.LOCATION: "l", Step.PHOTOS: "p", Step.DESCRIPTION: "d", Step.SUMMARY: "s"}
_CODE_STEPS = {v: k for k, v in _STEP_CODES.items()}


@dataclass(frozen=True)
class IntakeButton:
    draft_id: str
    step: Step
    op: str
    arg: str = ""

    PATTERN = re.compile(r"^i\|[0-9a-f]{6}\|[clpds]\|[a-z]{1,4}\|[A-Za-z0-9_]{0,40}$")

    def encode(self) -> str:
        data = f"i|{self.draft_id}|{_STEP_CODES[self.step]}|{self.op}|{self.arg}"
        if len(data.encode()) > MAX_CALLBACK_BYTES or not self.PATTERN.match(data):
            raise ValueError(f"bad intake callback data: {data!r}")
        return data

    @classmethod
    def decode(cls, data: str) -> IntakeButton | None:
        if not cls.PATTERN.match(data):
            return None
        _, draft_id, code, op, arg = data.split("|")
        return cls(draft_id, _CODE_STEPS[code], op, arg)
