"""Callback data of ticket buttons (cards, coordination, rating): ``t|<op>|<ticket id>|<version>|<arg>``.

The version is the ticket's version when the card was drawn: a press on an older card, a second press, or a
forged button for another ticket finds a different version and changes nothing. Fits Telegram's 64 bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64

# op codes: unit card, coordination, extension decisions, rating
OPS = frozenset({
    "acc", "ret", "rr", "ext", "xd", "res",          # liaison: sign for, return (+ reason), extension (+ days), resolve
    "lead", "ld", "hp", "go", "rd", "rdu", "cls", "rej",  # coordinator: lead / helpers / redispatch / class / reject
    "xa", "xn",                                      # coordinator: approve / deny an extension (arg = its id)
    "sat", "dis",                                    # resident: satisfied / dissatisfied
})
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
        return cls(op, int(ticket_id), int(version), arg)
