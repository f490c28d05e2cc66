"""Ticket numbers: Damm check digit, the sequence permutation, display and parsing."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import numbers
from bot.domain.numbers import (
    MAX_SEQUENCE,
    NUMBER_DIGITS,
    BadNumber,
    damm_digit,
    format_number,
    is_damm_valid,
    number_for_sequence,
    parse_number,
    sequence_for_number,
)

VALID = "482910378"  # body 48291037, Damm check digit 8
sequences = st.integers(min_value=1, max_value=MAX_SEQUENCE)


# --- Damm ------------------------------------------------------------------------------------------


def test_damm_known_vector() -> None:
    # The textbook example: 572 -> check digit 4.
    assert damm_digit("572") == "4"
    assert is_damm_valid("5724")
    assert not is_damm_valid("5723")


def test_damm_of_empty_is_zero() -> None:
    assert damm_digit("") == "0"


@pytest.mark.parametrize("bad", ["12a", " 12", "١٢٣", "１２", "-1"])
def test_damm_digit_rejects_non_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        damm_digit(bad)


@pytest.mark.parametrize("bad", ["", "abc", "12 3", "١٢٣", "５７２４"])
def test_is_damm_valid_is_false_for_non_digits(bad: str) -> None:
    assert not is_damm_valid(bad)


def test_damm_table_is_a_latin_square_with_zero_diagonal() -> None:
    table = numbers._DAMM_TABLE
    for i in range(10):
        assert sorted(table[i]) == list(range(10))
        assert sorted(row[i] for row in table) == list(range(10))
        assert table[i][i] == 0


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_appending_check_digit_makes_valid(body: str) -> None:
    assert is_damm_valid(body + damm_digit(body))


@given(sequences, st.integers(0, NUMBER_DIGITS - 1), st.integers(1, 9))
def test_every_single_digit_substitution_is_detected(seq: int, pos: int, delta: int) -> None:
    number = number_for_sequence(seq)
    wrong = str((int(number[pos]) + delta) % 10)
    typo = number[:pos] + wrong + number[pos + 1 :]
    assert typo != number
    assert not is_damm_valid(typo)
    with pytest.raises(BadNumber) as exc:
        parse_number(typo)
    assert exc.value.reason == "mistyped"


@given(sequences, st.integers(0, NUMBER_DIGITS - 2))
def test_every_adjacent_transposition_is_detected(seq: int, pos: int) -> None:
    number = number_for_sequence(seq)
    swapped = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2 :]
    if swapped == number:  # equal neighbours: swapping them is not a mistake
        return
    assert not is_damm_valid(swapped)


def test_exhaustively_all_substitutions_and_transpositions_of_four_digit_bodies() -> None:
    # Exhaustive over a small domain rather than sampled: every body 0000..9999.
    for value in range(10_000):
        body = f"{value:04d}"
        number = body + damm_digit(body)
        for pos in range(len(number)):
            for d in "0123456789":
                if d != number[pos]:
                    assert not is_damm_valid(number[:pos] + d + number[pos + 1 :])
        for pos in range(len(number) - 1):
            if number[pos] != number[pos + 1]:
                assert not is_damm_valid(number[:pos] + number[pos + 1] + number[pos] + number[pos + 2 :])


# --- sequence -> number ----------------------------------------------------------------------------


@given(sequences)
def test_number_has_nine_ascii_digits_and_a_valid_check_digit(seq: int) -> None:
    number = number_for_sequence(seq)
    assert len(number) == NUMBER_DIGITS
    assert number.isascii() and number.isdigit()
    assert is_damm_valid(number)


@given(sequences)
def test_sequence_round_trips(seq: int) -> None:
    assert sequence_for_number(number_for_sequence(seq)) == seq


@pytest.mark.parametrize("half_digits", [1, 2])
def test_permutation_is_a_bijection_over_reduced_domains(half_digits: int) -> None:
    # Same code path as the real 8-digit permutation, with a domain small enough to check entirely.
    size = 10 ** (2 * half_digits)
    images = [numbers._permute(n, half_digits) for n in range(size)]
    assert sorted(images) == list(range(size))
    assert all(numbers._unpermute(x, half_digits) == n for n, x in enumerate(images))


def test_first_numbers_are_unique_and_not_sequential() -> None:
    bodies = [int(number_for_sequence(seq)[:-1]) for seq in range(1, 20_001)]
    assert len(set(bodies)) == len(bodies)
    # Neighbouring tickets must not have neighbouring numbers.
    assert not any(abs(a - b) < 1000 for a, b in itertools.pairwise(bodies))


def test_numbers_are_stable() -> None:
    # Numbers are stored and printed; the permutation must never change under existing tickets.
    assert number_for_sequence(1) == "350823614"
    assert number_for_sequence(MAX_SEQUENCE) == "515059553"


@pytest.mark.parametrize("seq", [0, -1, MAX_SEQUENCE + 1, 10**12, True, 1.0, "1", None])
def test_sequence_out_of_range_is_refused(seq: object) -> None:
    with pytest.raises(ValueError):
        number_for_sequence(seq)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "12345678", "3508236140", "350823615", "35082361a"])
def test_sequence_for_number_refuses_non_numbers(bad: str) -> None:
    with pytest.raises(ValueError):
        sequence_for_number(bad)


def test_sequence_for_number_refuses_the_body_of_sequence_zero() -> None:
    body = f"{numbers._permute(0, 4):08d}"
    with pytest.raises(ValueError):
        sequence_for_number(body + damm_digit(body))


# --- display ---------------------------------------------------------------------------------------


def test_format_groups_in_threes() -> None:
    assert format_number("482910375") == "482 910 375"
    assert format_number("000000000") == "000 000 000"


@pytest.mark.parametrize("bad", ["", "48291037", "4829103750", "48291037x", "４８２９１０３７５"])
def test_format_refuses_anything_but_nine_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        format_number(bad)


@given(sequences)
def test_formatted_number_parses_back(seq: int) -> None:
    number = number_for_sequence(seq)
    assert parse_number(format_number(number)) == number


# --- parsing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "482910378",
        "482-910-378",
        "482 910 378",
        "  482 910 378\n",
        "４８２９１０３７８",
        "４８２　９１０　３７８",
        "482–910–378",
        "482.910.378",
        "#482910378",
        "#482 910 378#",
        "No.482910378",
        "no. 482-910-378",
        "NO 482910378",
        "№482910378",
        "＃４８２９１０３７８",
    ],
)
def test_parse_accepts_what_people_type(text: str) -> None:
    assert parse_number(text) == VALID


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "12",
        "DROP TABLE",
        "'; DROP TABLE tickets; --",
        "48291037",
        "4829103780",
        "482910378 482910378",
        "482910378abc",
        "No.No.482910378",
        "##482910378",
        "٤٨٢٩١٠٣٧٨",  # Arabic-Indic digits: not what we print, not silently accepted
        "4" * 10_000,
        "+482910378",
    ],
)
def test_parse_calls_non_numbers_garbage(text: str) -> None:
    with pytest.raises(BadNumber) as exc:
        parse_number(text)
    assert exc.value.reason == "garbage"


@pytest.mark.parametrize("text", ["482910375", "482 910 375", "482-910-375", "４８２９１０３７５", "428910378"])
def test_parse_calls_right_shape_wrong_check_digit_mistyped(text: str) -> None:
    with pytest.raises(BadNumber) as exc:
        parse_number(text)
    assert exc.value.reason == "mistyped"


def test_bad_number_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_number("abc")


@pytest.mark.parametrize("value", [None, 482910378, b"482910378"])
def test_parse_non_strings_is_garbage(value: object) -> None:
    with pytest.raises(BadNumber) as exc:
        parse_number(value)  # type: ignore[arg-type]
    assert exc.value.reason == "garbage"


@given(st.text(max_size=40))
def test_parse_never_raises_anything_but_bad_number(text: str) -> None:
    try:
        result = parse_number(text)
    except BadNumber as exc:
        assert exc.reason in ("garbage", "mistyped")
    else:
        assert len(result) == NUMBER_DIGITS and is_damm_valid(result)
