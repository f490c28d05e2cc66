"""The intake's step table is complete: every step has a prompt, every step but the summary takes messages, and
every intake op has exactly one step whose buttons carry it."""

from __future__ import annotations

from collections import Counter

from bot.callbacks import IntakeOp
from bot.domain.intake import Step
from handlers import intake


def test_every_step_has_a_prompt_and_all_but_the_summary_take_messages() -> None:
    assert set(intake._PROMPTS) == set(Step)
    assert set(intake._ON_MESSAGE) == set(Step) - {Step.SUMMARY}


def test_every_op_is_handled_at_one_step() -> None:
    ops = Counter(op for _, op in intake._ON_BUTTON)
    assert set(ops) == set(IntakeOp) and set(ops.values()) == {1}
    assert {step for step, _ in intake._ON_BUTTON} == {Step.CATEGORY, Step.LOCATION, Step.SUMMARY}
