"""A number of working days typed by a person ("7", "７", " 7 天", "7个工作日", "7 days"), checked against a maximum.

Full-width digits are what a Chinese keyboard often sends; NFKC turns them into ASCII. A unit word after the
number is allowed because people write it; anything else (a fraction, a Chinese numeral, a range) is not a
number of days, and the person is asked again rather than guessed at.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

DaysProblem = Literal["not_a_number", "too_small", "too_large"]

_TYPED = re.compile(r"([+-]?\d{1,9})\s*(?:个?工作日|天|日|working\s*days?|days?)?", re.IGNORECASE)


class DaysRejected(ValueError):
    def __init__(self, reason: DaysProblem) -> None:
        super().__init__(reason)
        self.reason: DaysProblem = reason


def parse_days(text: str, maximum: int) -> int:
    """The whole number of days in ``text`` if it is between 1 and ``maximum``; DaysRejected saying why not."""
    if maximum < 1:
        raise ValueError(f"maximum must be at least 1, got {maximum}")
    typed = unicodedata.normalize("NFKC", text).strip().replace("＋", "+").replace("−", "-")
    found = _TYPED.fullmatch(typed)
    if found is None:
        raise DaysRejected("not_a_number")
    days = int(found.group(1))
    if days < 1:
        raise DaysRejected("too_small")
    if days > maximum:
        raise DaysRejected("too_large")
    return days
