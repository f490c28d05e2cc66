"""Ticket numbers: nine digits, typo-checked, readable over the phone.

A number is 8 body digits followed by one Damm check digit, shown grouped as "482 910 375". The Damm
algorithm detects every single-digit substitution and every transposition of two adjacent digits, the two
mistakes people make when reading a number aloud or typing it.

The body is not the ticket's sequence number: the sequence goes through a fixed permutation of
0..10^8-1 so that numbers reveal neither the platform's volume nor their neighbours. The permutation is
an affine map (a*n + b mod 10^8 with a coprime to 10) followed by a few balanced Feistel rounds over the
two 4-digit halves; both steps are bijections by construction, so numbers are unique. This is
obfuscation, not secrecy: anyone reading this file can invert it (see ``sequence_for_number``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

NUMBER_DIGITS = 9
BODY_DIGITS = NUMBER_DIGITS - 1
MAX_SEQUENCE = 10**BODY_DIGITS - 1  # 99,999,999

# Damm's totally anti-symmetric quasigroup of order 10 (H. Michael Damm, 2004).
_DAMM_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

_ASCII_DIGITS = frozenset("0123456789")

# Permutation parameters. Changing any of them renumbers every future ticket: never change them once
# tickets exist.
_AFFINE_A = 61_803_399  # odd and not a multiple of 5, hence invertible mod 10^k for every k
_AFFINE_B = 27_182_818
_ROUND_KEYS = (7_919, 3_571, 6_133, 1_291)


def _is_ascii_digits(text: str) -> bool:
    return bool(text) and all(c in _ASCII_DIGITS for c in text)


def _damm_interim(digits: str) -> int:
    interim = 0
    for c in digits:
        interim = _DAMM_TABLE[interim][ord(c) - 48]
    return interim


def damm_digit(digits: str) -> str:
    """The Damm check digit for a string of ASCII digits (the empty string gives "0")."""
    if digits and not _is_ascii_digits(digits):
        raise ValueError(f"not a string of digits: {digits!r}")
    return str(_damm_interim(digits))


def is_damm_valid(digits: str) -> bool:
    """True if ``digits`` (ASCII digits, check digit last) passes the Damm check; False for anything else."""
    return _is_ascii_digits(digits) and _damm_interim(digits) == 0


def _round_function(half: int, key: int, modulus: int) -> int:
    # Any deterministic function works here: a Feistel round is invertible whatever F is.
    x = (half * 7_817 + key) % modulus
    return (x * x + key * 31 + (x >> 3)) % modulus


def _permute(n: int, half_digits: int) -> int:
    """Bijection of 0..10^(2*half_digits)-1; ``half_digits`` is a parameter only so tests can check it all."""
    modulus = 10**half_digits
    full = modulus * modulus
    x = (_AFFINE_A * n + _AFFINE_B) % full
    left, right = divmod(x, modulus)
    for key in _ROUND_KEYS:
        left, right = right, (left + _round_function(right, key, modulus)) % modulus
    return left * modulus + right


def _unpermute(x: int, half_digits: int) -> int:
    modulus = 10**half_digits
    full = modulus * modulus
    left, right = divmod(x, modulus)
    for key in reversed(_ROUND_KEYS):
        left, right = (right - _round_function(left, key, modulus)) % modulus, left
    y = left * modulus + right
    return ((y - _AFFINE_B) * pow(_AFFINE_A, -1, full)) % full


def number_for_sequence(seq: int) -> str:
    """The 9-digit ticket number (check digit last) of the ``seq``-th ticket, 1 <= seq <= 99,999,999."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQUENCE:
        raise ValueError(f"ticket sequence out of range 1..{MAX_SEQUENCE}: {seq!r}")
    body = f"{_permute(seq, BODY_DIGITS // 2):0{BODY_DIGITS}d}"
    return body + damm_digit(body)


def sequence_for_number(number: str) -> int:
    """Inverse of :func:`number_for_sequence`; ValueError if ``number`` is not a valid ticket number."""
    if len(number) != NUMBER_DIGITS or not is_damm_valid(number):
        raise ValueError(f"not a valid ticket number: {number!r}")
    seq = _unpermute(int(number[:BODY_DIGITS]), BODY_DIGITS // 2)
    if seq == 0:
        raise ValueError(f"not a valid ticket number: {number!r}")
    return seq


def format_number(number: str) -> str:
    """Group a 9-digit number in threes for display: "482910375" -> "482 910 375"."""
    if len(number) != NUMBER_DIGITS or not _is_ascii_digits(number):
        raise ValueError(f"not a {NUMBER_DIGITS}-digit number: {number!r}")
    return " ".join(number[i : i + 3] for i in range(0, NUMBER_DIGITS, 3))


class BadNumber(ValueError):
    """A text that is not a ticket number; ``reason`` says whether it is garbage or a mistyped number."""

    def __init__(self, reason: Literal["garbage", "mistyped"]) -> None:
        super().__init__(reason)
        self.reason: Literal["garbage", "mistyped"] = reason


# Separators people put between digit groups (after NFKC, which already maps full-width forms to ASCII).
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc_.·]+")
_PREFIX = re.compile(r"^(?:#|no\.?|№)\s*", re.IGNORECASE)
_MAX_INPUT = 64  # anything longer is not a number someone typed


def parse_number(text: str) -> str:
    """Read a ticket number as a person would type it and return its 9 ASCII digits.

    Accepts spaces, dashes and dots between digits, full-width digits, and a leading "#" or "No."
    (and a trailing "#"). Raises ``BadNumber("garbage")`` for anything that is not nine digits, and
    ``BadNumber("mistyped")`` for nine digits whose check digit does not match.
    """
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        raise BadNumber("garbage")
    cleaned = unicodedata.normalize("NFKC", text).strip()
    cleaned = _PREFIX.sub("", cleaned, count=1)
    cleaned = cleaned.removesuffix("#")
    cleaned = _SEPARATORS.sub("", cleaned)
    if len(cleaned) != NUMBER_DIGITS or not _is_ascii_digits(cleaned):
        raise BadNumber("garbage")
    if not is_damm_valid(cleaned):
        raise BadNumber("mistyped")
    return cleaned
