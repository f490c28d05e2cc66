"""Callback data: every button we draw fits Telegram's 64 bytes and reads back; anything else reads as nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import OPS, IntakeButton, TicketButton
from bot.domain.intake import Step

keys = st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)


@given(op=st.sampled_from(sorted(OPS)), ticket_id=st.integers(1, 10**12 - 1), version=st.integers(1, 999_999),
       arg=st.one_of(st.just(""), keys, st.integers(0, 10**9).map(str)))
def test_ticket_buttons_round_trip_within_64_bytes(op: str, ticket_id: int, version: int, arg: str) -> None:
    button = TicketButton(op, ticket_id, version, arg)
    data = button.encode()
    assert len(data.encode()) <= 64
    assert TicketButton.decode(data) == button


@given(step=st.sampled_from(list(Step)), op=st.from_regex(r"[a-z]{1,4}", fullmatch=True), arg=keys)
def test_intake_buttons_round_trip_within_64_bytes(step: Step, op: str, arg: str) -> None:
    button = IntakeButton("a1b2c3", step, op, arg)
    data = button.encode()
    assert len(data.encode()) <= 64
    assert IntakeButton.decode(data) == button


@given(st.text(max_size=80))
def test_any_other_text_decodes_to_nothing_or_a_valid_button(text: str) -> None:
    for kind in (TicketButton, IntakeButton):
        decoded = kind.decode(text)
        assert decoded is None or decoded.encode() == text


def test_unknown_ops_and_oversized_data_are_refused() -> None:
    assert TicketButton.decode("t|zzz|1|1|") is None
    assert TicketButton.decode("t|acc|1|1|" + "x" * 60) is None
    assert IntakeButton.decode("i|a1b2c3|q|cat|housing") is None
