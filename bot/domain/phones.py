"""A hotline caller's phone number: validated and normalised, pure (no I/O).

Accepted forms (spaces, dashes, dots and brackets between digits are ignored):

- a mainland mobile: 11 digits ``1[3-9]xxxxxxxxx``, optionally after ``+86``, ``0086`` or ``86``; normalised to the
  11 digits, e.g. ``13812345678``;
- a landline: an area code ``0xx`` or ``0xxx`` and a 7- or 8-digit subscriber number (not starting with 0 or 1),
  optionally after ``+86``/``0086``/``86`` (the area code's leading 0 may then be dropped, as dialled from abroad),
  optionally with an extension (``转``, ``ext``, ``x``, ``#`` or ``,`` and 1-6 digits); normalised to
  ``0xxx-xxxxxxxx`` and ``-ext`` appended, e.g. ``0558-2345678-801``.

Refused: anything else, in particular short service numbers (12345, 110, 95xxx, 400/800 numbers), which are
the hotline's own lines, not a caller's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212.()（）]")
_EXTENSION = re.compile(r"^(?P<main>.+?)(?:转|ext\.?|x|#|,|，)(?P<ext>\d{1,6})$", re.IGNORECASE)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area codes: 010 and 02x are three digits; every other one is four (0xxx). Subscriber numbers 7-8 digits and
# never starting with 0 or 1.
_LANDLINE = re.compile(r"^(?P<area>0(?:10|2\d|[3-9]\d{2}))(?P<local>[2-9]\d{6,7})$")
_COUNTRY = ("+86", "0086", "86")


class BadPhone(ValueError):
    """Not a caller's number: ``reason`` is empty | service | invalid."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Phone:
    number: str  # normalised
    kind: str  # mobile | landline


def _strip_country(digits: str) -> tuple[str, bool]:
    for prefix in _COUNTRY:
        if digits.startswith(prefix):
            rest = digits[len(prefix):]
            if prefix == "86" and len(rest) < 9:  # "86" alone, or a short number that begins with 86
                return digits, False
            return rest, True
    return digits, False


def parse_phone(text: str | None) -> Phone:
    """The caller's number normalised, or BadPhone."""
    raw = _SEPARATORS.sub("", (text or "").strip())
    if not raw:
        raise BadPhone("empty")
    extension = ""
    found = _EXTENSION.match(raw)
    if found:
        raw, extension = found.group("main"), found.group("ext")
    international = raw.startswith("+")
    if not (raw.lstrip("+").isdigit() and raw.count("+") <= 1):
        raise BadPhone("invalid")
    digits, had_country = _strip_country(raw)
    if international and not had_country:
        raise BadPhone("invalid")  # another country's number
    if not extension and _MOBILE.match(digits):
        return Phone(digits, "mobile")
    if had_country and not digits.startswith("0"):
        digits = "0" + digits  # +86 558 2345678: the area code without its trunk 0
    landline = _LANDLINE.match(digits)
    if landline:
        number = f"{landline.group('area')}-{landline.group('local')}"
        return Phone(f"{number}-{extension}" if extension else number, "landline")
    if 3 <= len(digits) <= 8 or digits.startswith(("400", "800", "95", "96")):
        raise BadPhone("service")
    raise BadPhone("invalid")
