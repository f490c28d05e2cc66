"""The intake's step order when a draft starts from a message (describe-first): filled steps are skipped."""

from __future__ import annotations

from bot.domain.intake import DESCRIBE_FIRST_START, FLOW, Step, next_step

C, L, P, D, S = Step.CATEGORY, Step.LOCATION, Step.PHOTOS, Step.DESCRIPTION, Step.SUMMARY


def walk(start: Step, filled: set[Step]) -> list[Step]:
    """The steps a resident passes through, filling each as they go."""
    seen, step = [], start
    while step is not S:
        seen.append(step)
        filled.add(step)
        step = next_step(step, False, frozenset(filled))
        assert len(seen) < 10
    return seen


def test_the_classic_flow_is_unchanged() -> None:
    assert walk(C, set()) == list(FLOW[:-1])


def test_a_step_opened_from_the_summary_goes_back_to_it() -> None:
    assert all(next_step(s, True, frozenset()) is S for s in FLOW)


def test_a_description_first_asks_category_location_photos() -> None:
    assert walk(DESCRIBE_FIRST_START[D], {D}) == [C, L, P]


def test_a_photo_first_asks_description_then_category_then_location() -> None:
    assert walk(DESCRIBE_FIRST_START[P], {P}) == [P, D, C, L]


def test_a_photo_with_its_exif_location_skips_the_location() -> None:
    assert walk(DESCRIBE_FIRST_START[P], {P, L}) == [P, D, C]


def test_a_location_first_asks_description_category_photos() -> None:
    assert walk(DESCRIBE_FIRST_START[L], {L}) == [D, C, P]


def test_photos_left_empty_are_not_asked_again() -> None:
    # Photos done with none: the description was filled first, so nothing required is missing.
    assert next_step(P, False, frozenset({D, C, L})) is S
