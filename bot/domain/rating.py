"""The rating's two questions (回访) and what a pair of answers means: the rules behind the three rates.

The resident answers, one tap each, whether the problem was solved (解决 / 部分解决 / 未解决) and how satisfied
they are (满意 / 基本满意 / 不满意). Unsolved or dissatisfied is a re-complaint (the case reopens); anything else
accepts the answer and closes it. The ticket's older one-word ``rating`` stays the summary every report reads:
``satisfied`` for 满意 and 基本满意, ``dissatisfied`` for 不满意 (the platform's 满意率 counts both kinds of
satisfied), so tickets rated before the two questions existed count the same way.

Answers travel in button data as one letter each (``CODES``), e.g. ``p.d`` for partly solved, dissatisfied.
"""

from __future__ import annotations

from enum import StrEnum


class Solved(StrEnum):
    SOLVED = "solved"
    PARTLY = "partly"
    UNSOLVED = "unsolved"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASIC = "basic"  # 基本满意
    DISSATISFIED = "dissatisfied"


#: One letter per answer, for button data.
CODES: dict[str, str] = {"solved": "s", "partly": "p", "unsolved": "u", "satisfied": "s", "basic": "b",
                         "dissatisfied": "d"}
_SOLVED_BY_CODE = {CODES[s]: s for s in Solved}
_SATISFACTION_BY_CODE = {CODES[s]: s for s in Satisfaction}

#: Preset reasons a resident may add to a rating (catalogue keys ``rates.reason_<name>``), in button order.
REASONS: tuple[str, ...] = ("not_solved", "too_slow", "unclear", "attitude")


def reopens(solved: Solved | None, satisfaction: Satisfaction) -> bool:
    """Whether the pair is a re-complaint: the problem is not solved, or the resident is dissatisfied."""
    return solved is Solved.UNSOLVED or satisfaction is Satisfaction.DISSATISFIED


def summary(satisfaction: Satisfaction) -> str:
    """The one-word ``rating`` column: satisfied (满意, 基本满意) or dissatisfied."""
    return "dissatisfied" if satisfaction is Satisfaction.DISSATISFIED else "satisfied"


def solved_from_code(code: str) -> Solved | None:
    """The first answer from its letter; None for anything else (a forged or garbled button)."""
    return _SOLVED_BY_CODE.get(code)


def pair_from_code(code: str) -> tuple[Solved, Satisfaction] | None:
    """Both answers from ``<solved>.<satisfaction>`` letters; None if either is unknown."""
    solved_code, _, satisfaction_code = code.partition(".")
    solved, satisfaction = _SOLVED_BY_CODE.get(solved_code), _SATISFACTION_BY_CODE.get(satisfaction_code)
    if solved is None or satisfaction is None:
        return None
    return solved, satisfaction


def pair_code(solved: Solved, satisfaction: Satisfaction) -> str:
    return f"{CODES[solved]}.{CODES[satisfaction]}"
