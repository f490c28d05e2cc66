"""Two bot instances on one database (two `Intake`s, as two processes have): on PostgreSQL, where several
instances share it, what one moved on the other sees at the resident's next update (the draft cache is off);
on SQLite one process owns the file and keeps its cache."""

from __future__ import annotations

from pathlib import Path

from bot.clock import FakeClock
from bot.domain.intake import Step
from bot.texts import Texts
from bot.workflow import Intake, WorkflowDeps
from storage.db import Database
from storage.records import Photo
from tests.e2e.conftest import e2e_config

USER = 502


async def test_a_draft_moved_on_by_another_instance_is_seen_here(tmp_path: Path, pg_url: str) -> None:
    db = await Database.open(pg_url)
    try:
        config, clock = e2e_config(tmp_path), FakeClock()
        here = Intake(WorkflowDeps(db=db, config=config, clock=clock, texts=Texts()))
        there = Intake(WorkflowDeps(db=db, config=config, clock=clock, texts=Texts()))
        assert not here.caching
        await here.begin(USER, "zh")
        assert (await here.draft(USER)).step == Step.CATEGORY.value
        await there.choose_category(USER, "housing")  # the resident's next update went to the other instance
        draft = await here.draft(USER)
        assert draft.step != Step.CATEGORY.value and draft.category == "housing"
        await there.cancel(USER)
        assert await here.draft(USER) is None
    finally:
        await db.close()


async def test_one_process_on_sqlite_keeps_its_cache(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        intake = Intake(WorkflowDeps(db=db, config=e2e_config(tmp_path), clock=FakeClock(), texts=Texts()))
        assert intake.caching
    finally:
        await db.close()


async def test_an_album_split_over_two_instances_is_acknowledged_once_after_its_last_picture(
        tmp_path: Path, pg_url: str) -> None:
    db = await Database.open(pg_url)
    try:
        config, clock = e2e_config(tmp_path), FakeClock()
        here = Intake(WorkflowDeps(db=db, config=config, clock=clock, texts=Texts()))
        there = Intake(WorkflowDeps(db=db, config=config, clock=clock, texts=Texts()))
        await here.begin(USER, "zh")
        await here.choose_category(USER, "housing")
        await here.set_place(USER, config.city.places[0].key)
        first_at = clock.now()
        await here.add_photos(USER, [Photo(0, "photo", "f1", "u1", None, 10, 10, "alb")], None)  # its timer ...
        clock.advance(0.2)
        second_at = clock.now()
        await there.add_photos(USER, [Photo(0, "photo", "f2", "u2", None, 10, 10, "alb")], None)  # ... and this one's
        assert await here.album_settled(USER, "alb", first_at) is None  # fired early: a later picture came elsewhere
        tally = await there.album_settled(USER, "alb", second_at)
        assert tally is not None and tally.added == 2 and tally.draft.photo_count == 2
        assert await here.album_settled(USER, "alb", first_at) is None  # once
    finally:
        await db.close()
