"""A caller's phone number (bot.domain.phones): every accepted form, and the near-misses refused."""

from __future__ import annotations

import pytest

from bot.domain.phones import BadPhone, parse_phone


@pytest.mark.parametrize(("typed", "number"), [
    ("13812345678", "13812345678"),
    ("19912345678", "19912345678"),  # 19x
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("+8613812345678", "13812345678"),
    ("0086 13812345678", "13812345678"),
    ("86-138-1234-5678", "13812345678"),
    ("  13812345678  ", "13812345678"),
    ("138\u20141234\u20145678", "13812345678"),  # em dashes typed by an IME
])
def test_mobiles(typed: str, number: str) -> None:
    found = parse_phone(typed)
    assert (found.number, found.kind) == (number, "mobile")


@pytest.mark.parametrize(("typed", "number"), [
    ("0558-2345678", "0558-2345678"),  # four-digit area code, 7 digits
    ("0558 23456789", "0558-23456789"),  # 8 digits
    ("05582345678", "0558-2345678"),
    ("010-62345678", "010-62345678"),  # Beijing, three digits
    ("021 62345678", "021-62345678"),  # 02x
    ("(0558) 2345678", "0558-2345678"),
    ("（0558）2345678", "0558-2345678"),
    ("+86 558 2345678", "0558-2345678"),  # dialled from abroad: the trunk 0 dropped
    ("+86 0558 2345678", "0558-2345678"),
    ("0086-10-62345678", "010-62345678"),
    ("0558-2345678转801", "0558-2345678-801"),
    ("0558-2345678 ext 12", "0558-2345678-12"),
    ("0558-2345678 ext. 12", "0558-2345678-12"),
    ("0558-2345678x3", "0558-2345678-3"),
    ("0558-2345678#123456", "0558-2345678-123456"),
])
def test_landlines(typed: str, number: str) -> None:
    found = parse_phone(typed)
    assert (found.number, found.kind) == (number, "landline")


@pytest.mark.parametrize("typed", ["12345", "110", "95588", "4008123123", "800-810-8888", "2345678",
                                   "12345678"])
def test_service_and_short_numbers_are_refused_as_such(typed: str) -> None:
    with pytest.raises(BadPhone) as refused:
        parse_phone(typed)
    assert refused.value.reason == "service"


@pytest.mark.parametrize("typed", [
    "1381234567",  # 10 digits
    "138123456789",  # 12 digits
    "12812345678",  # 12x is no mobile prefix
    "10812345678",
    "+1 415 555 0100",  # another country
    "+44 20 7946 0958",
    "0558-0345678",  # a subscriber number starting with 0
    "0558-1345678",  # … or 1
    "0558-234567",  # 6 digits
    "0558-234567890",  # 9 digits
    "13812345678转8",  # a mobile has no extension
    "0558-2345678转1234567",  # a 7-digit extension
    "138abc45678",
    "++8613812345678",
    "86",
])
def test_near_misses_are_refused(typed: str) -> None:
    with pytest.raises(BadPhone) as refused:
        parse_phone(typed)
    assert refused.value.reason == "invalid"


@pytest.mark.parametrize("typed", ["", "   ", None, "- -"])
def test_nothing_typed(typed: str | None) -> None:
    with pytest.raises(BadPhone) as refused:
        parse_phone(typed)
    assert refused.value.reason == "empty"
