"""The intake's steps as data: which step follows which, and what a valid description is.

The resident's draft row stores the step; handlers look it up for every message, so the flow survives a
restart of the bot (a ConversationHandler keeps its state in memory, which would not).
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Step(StrEnum):
    CATEGORY = "category"
    LOCATION = "location"
    PHOTOS = "photos"
    DESCRIPTION = "description"
    SUMMARY = "summary"
    # an operator's call (代录) asks for the caller first, then goes through the flow like a resident
    CALLER_PHONE = "caller_phone"
    CALLER_NAME = "caller_name"


#: The steps of an operator's call before the resident's flow starts at its first step.
CALLER_STEPS: tuple[Step, ...] = (Step.CALLER_PHONE, Step.CALLER_NAME)

FLOW: tuple[Step, ...] = (Step.CATEGORY, Step.LOCATION, Step.PHOTOS, Step.DESCRIPTION, Step.SUMMARY)

#: Fields a resident may change from the summary; each reopens the step of the same name.
EDITABLE: frozenset[Step] = frozenset({Step.CATEGORY, Step.LOCATION, Step.PHOTOS, Step.DESCRIPTION})

#: Steps the summary cannot do without (photos are optional: a step left with none is not asked again).
REQUIRED: tuple[Step, ...] = (Step.CATEGORY, Step.LOCATION, Step.DESCRIPTION)

#: Describe-first: a draft started by a message (no /new) begins at this step, given what the message filled.
#: A description goes on to the category (with suggestions); a photo stays at the photos (more may follow, an
#: album is several messages) and then asks for the description, so that the category step can suggest; a
#: location asks for the description for the same reason.
DESCRIBE_FIRST_START: dict[Step, Step] = {
    Step.DESCRIPTION: Step.CATEGORY,
    Step.PHOTOS: Step.PHOTOS,
    Step.LOCATION: Step.DESCRIPTION,
}


def next_step(step: Step, editing: bool, filled: frozenset[Step] = frozenset()) -> Step:
    """The step after `step`, skipping the ones already `filled` (a draft started by a description, a photo
    or a location): the next unfilled step of the flow after it, else the first required one still
    missing, else the summary. A step opened from the summary goes straight back to it."""
    if editing or step is Step.SUMMARY:
        return Step.SUMMARY
    after = FLOW[FLOW.index(step) + 1:-1]
    return next((s for s in after if s not in filled),
                next((s for s in REQUIRED if s not in filled and s is not step), Step.SUMMARY))


class DescriptionRejected(ValueError):
    def __init__(self, reason: str, length: int) -> None:
        super().__init__(reason)
        self.reason = reason  # "empty" | "too_short" | "too_long"
        self.length = length


def clean_description(text: str | None, min_chars: int, max_chars: int) -> str:
    """Trimmed description text, or DescriptionRejected saying why not."""
    # Invisible format characters (zero-width spaces, direction marks) are not content either.
    cleaned = "".join(ch for ch in (text or "") if unicodedata.category(ch) != "Cf").strip()
    # Collapse runs of blank lines: a wall of empty lines is not content.
    lines = [line.rstrip() for line in cleaned.splitlines()]
    cleaned = "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1]))
    length = len(cleaned)
    if length == 0:
        raise DescriptionRejected("empty", 0)
    if length < min_chars:
        raise DescriptionRejected("too_short", length)
    if length > max_chars:
        raise DescriptionRejected("too_long", length)
    return cleaned
