"""Intake use-cases against a real database, without Telegram: atomic confirmation, limits, stale steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.intake import DescriptionRejected, Step
from bot.texts import Texts
from bot.workflow import Intake, Refused, WorkflowDeps
from storage import outbox, tickets
from storage.db import Database
from storage.records import Photo
from tests.e2e.conftest import e2e_config

USER = 501


@pytest.fixture
async def intake(tmp_path: Path, storage_target):
    db = await Database.open(storage_target)
    deps = WorkflowDeps(db=db, config=e2e_config(tmp_path), clock=FakeClock(), texts=Texts())
    yield Intake(deps)
    await db.close()


async def at_summary(intake: Intake) -> None:
    await intake.begin(USER, "zh")
    await intake.choose_category(USER, "housing")
    await intake.set_place(USER, intake.d.config.city.places[0].key)
    await intake.add_photos(USER, [Photo(0, "photo", "f1", "u1", None, 10, 10)], None)
    await intake.photos_done(USER)
    await intake.set_description(USER, "楼上漏水已经三天了，物业不管。")


async def count(intake: Intake, table: str) -> int:
    return await intake.d.db.read(lambda c: c.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def test_confirm_writes_ticket_event_follower_outbox_and_drops_the_draft(intake: Intake) -> None:
    await at_summary(intake)
    ticket = await intake.confirm(USER, "zh")
    assert ticket.district == intake.d.config.city.places[0].unit  # a typed place knows its district
    assert (await count(intake, "events"), await count(intake, "outbox"), await count(intake, "followers")) == (1, 1, 1)
    assert await intake.draft(USER) is None
    (row,) = await intake.d.db.read(lambda c: outbox.due(c, intake.d.clock.now()))
    assert row.chat_id == USER and ticket.number[:3] in row.payload["text"]
    assert await intake.d.db.read(lambda c: tickets.photo_count(c, ticket.id)) == 1


async def test_a_failure_while_confirming_leaves_the_draft_and_no_ticket(intake: Intake, monkeypatch) -> None:
    await at_summary(intake)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "add", broken)
    with pytest.raises(RuntimeError):
        await intake.confirm(USER, "zh")
    for table in ("tickets", "events", "followers", "ticket_photos", "outbox"):
        assert await count(intake, table) == 0, table
    assert (await intake.draft(USER)).step == Step.SUMMARY
    assert await intake.d.db.read(lambda c: c.execute("SELECT count(*) FROM number_sequences").fetchone()[0]) == 0


async def test_a_step_that_is_not_current_is_refused(intake: Intake) -> None:
    await intake.begin(USER, "zh")
    with pytest.raises(Refused) as refused:
        await intake.photos_done(USER)
    assert refused.value.key == "intake.stale_button"
    with pytest.raises(Refused):
        await intake.confirm(USER, "zh")
    assert await count(intake, "tickets") == 0


async def test_description_rules(intake: Intake) -> None:
    await intake.begin(USER, "zh")
    await intake.choose_category(USER, "housing")
    await intake.skip_location(USER)
    await intake.photos_done(USER)
    for text, reason in (("", "empty"), ("   \n\n ", "empty"), ("短", "too_short"), ("长" * 1501, "too_long")):
        with pytest.raises(DescriptionRejected) as bad:
            await intake.set_description(USER, text)
        assert bad.value.reason == reason
    draft = await intake.set_description(USER, "  楼道灯坏了十天了，晚上很危险。\n\n\n\n请修理。  ")
    assert draft.description == "楼道灯坏了十天了，晚上很危险。\n\n请修理。"


async def test_exif_location_is_used_only_when_none_was_given(intake: Intake) -> None:
    await intake.begin(USER, "zh")
    await intake.choose_category(USER, "housing")
    await intake.skip_location(USER)
    city = intake.d.config.city.places[0]
    result = await intake.add_photos(USER, [Photo(0, "document", None, "u", b"x", 1, 1)], (city.lat, city.lon))
    assert result.location_from_exif and result.draft.location_source == "exif"
    result = await intake.add_photos(USER, [Photo(0, "document", None, "u2", b"x", 1, 1)], (32.0, 115.5))
    assert not result.location_from_exif and result.draft.lat == city.lat


async def test_the_daily_limit_counts_the_local_day(intake: Intake) -> None:
    limit = intake.d.config.limits.tickets_per_day
    for _ in range(limit):
        await at_summary(intake)
        await intake.confirm(USER, "zh")
    with pytest.raises(Refused) as refused:
        await intake.begin(USER, "zh")
    assert refused.value.key == "limits.tickets_per_day"
    intake.d.clock.advance(24 * 3600)  # type: ignore[attr-defined]
    draft, resumed = await intake.begin(USER, "zh")
    assert not resumed and draft.step == Step.CATEGORY
