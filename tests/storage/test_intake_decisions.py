"""What the intake decides for its handlers, against a real database: typed categories and places, pictures sent
as files, and album tallies that survive a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.intake import Step
from bot.texts import Texts
from bot.workflow import Intake, Refused, WorkflowDeps
from storage import drafts
from storage.db import Database
from storage.records import Photo
from tests.e2e.conftest import e2e_config
from tests.images import jpeg, jpeg_with_gps, png_bomb

USER = 502
PARK = (32.8625, 115.9105)  # inside the city, as in the e2e EXIF test
MAX_MB = 10


@pytest.fixture
async def intake(tmp_path: Path, storage_target):
    db = await Database.open(storage_target)
    yield Intake(WorkflowDeps(db=db, config=e2e_config(tmp_path), clock=FakeClock(), texts=Texts()))
    await db.close()


async def at_location(intake: Intake) -> None:
    await intake.begin(USER, "zh")
    await intake.choose_category(USER, "housing")


async def at_photos(intake: Intake) -> None:
    await at_location(intake)
    await intake.skip_location(USER)


def photo(n: int, album: str | None = None) -> Photo:
    return Photo(0, "photo", f"f{n}", f"u{n}", None, 10, 10, album)


# -- categories and places ----------------------------------------------------------------------------------

async def test_a_typed_category_by_name_or_key_moves_on_and_anything_else_writes_nothing(intake: Intake) -> None:
    await intake.begin(USER, "zh")
    assert await intake.typed_category(USER, "随便说点什么") is None
    assert (await intake.draft(USER)).step == Step.CATEGORY
    draft = await intake.typed_category(USER, "  Housing and property MANAGEMENT ")
    assert (draft.step, draft.category) == (Step.LOCATION, "housing")


async def test_a_forged_category_or_place_is_a_stale_button(intake: Intake) -> None:
    await intake.begin(USER, "zh")
    with pytest.raises(Refused) as refused:
        await intake.choose_category(USER, "no_such_category")
    assert refused.value.key == "intake.stale_button"
    await intake.choose_category(USER, "housing")
    with pytest.raises(Refused) as refused:
        await intake.set_place(USER, "no_such_place")
    assert refused.value.key == "intake.stale_button"


async def test_a_typed_place_naming_one_place_sets_it_and_moves_on(intake: Intake) -> None:
    await at_location(intake)
    typed = await intake.typed_place(USER, "  火车站 ")
    assert (typed.exact, typed.candidates, typed.text) == ("fuyang_station", (), "火车站")
    assert (typed.draft.step, typed.draft.place_key, typed.draft.location_source) == (
        Step.PHOTOS, "fuyang_station", "place")


async def test_a_typed_place_naming_several_offers_candidates_and_keeps_the_text(intake: Intake) -> None:
    await at_location(intake)
    typed = await intake.typed_place(USER, "区政府")
    assert typed.exact is None
    assert set(typed.candidates) == {"yingzhou_government", "yingquan_government", "yingdong_government"}
    assert (typed.draft.step, typed.draft.place_text, typed.draft.place_key) == (Step.LOCATION, "区政府", None)


async def test_a_typed_place_naming_nothing_keeps_the_text_cut_to_length(intake: Intake) -> None:
    await at_location(intake)
    typed = await intake.typed_place(USER, "我家楼下的小卖部")
    assert (typed.exact, typed.candidates, typed.draft.place_text) == (None, (), "我家楼下的小卖部")
    typed = await intake.typed_place(USER, "小" * 500)
    assert typed.text == "小" * 200 and typed.draft.place_text == typed.text
    assert (await intake.use_place_text(USER)).location_source == "text"


async def test_the_place_names_are_built_once(intake: Intake) -> None:
    assert intake.place_names() is intake.place_names()
    assert len(intake.place_names()) == len(intake.d.config.city.places)


# -- pictures sent as files ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("mime", "name", "size", "key"), [
    ("application/pdf", "scan.pdf", 1000, "photo.document_not_image"),
    (None, None, None, "photo.document_not_image"),
    ("image/jpeg", "big.jpg", MAX_MB * 1024 * 1024 + 1, "photo.too_big_bytes"),
])
def test_a_file_that_is_not_a_fitting_image_is_refused_before_download(intake: Intake, mime, name, size, key
                                                                        ) -> None:
    with pytest.raises(Refused) as refused:
        intake.check_document(mime, name, size)
    assert refused.value.key == key
    if key == "photo.too_big_bytes":
        assert refused.value.params == {"max_mb": MAX_MB}


@pytest.mark.parametrize(("mime", "name"), [("image/png", None), ("application/octet-stream", "IMG_1.JPEG"),
                                            (None, "x.webp")])
def test_an_image_by_type_or_name_may_be_downloaded(intake: Intake, mime, name) -> None:
    intake.check_document(mime, name, 1000)


@pytest.mark.parametrize(("data", "reason"), [(b"", "not_an_image"), (b"%PDF-1.4 hello", "not_an_image"),
                                              (png_bomb(), "too_many_pixels"), (jpeg()[:200], "corrupt")])
async def test_a_downloaded_image_that_fails_the_checks_is_refused_with_its_reason(intake: Intake, data, reason
                                                                                    ) -> None:
    with pytest.raises(Refused) as refused:
        await intake.check_document_image(data)
    assert (refused.value.key, refused.value.params) == (f"photo.{reason}", {"max_mb": MAX_MB})


async def test_a_good_image_file_is_kept_clean_and_gives_its_exif_point(intake: Intake) -> None:
    checked = await intake.check_document_image(jpeg_with_gps(*PARK))
    assert checked.gps is not None and b"TestCam" not in checked.data
    await at_photos(intake)
    added = await intake.add_document_image(USER, jpeg_with_gps(*PARK), "uniq", None)
    assert (added.added, added.ignored, added.location_from_exif) == (1, 0, True)
    (stored,) = await intake.draft_photos(USER)
    assert (stored.source, stored.file_id, stored.file_unique_id) == ("document", None, "uniq")


# -- albums --------------------------------------------------------------------------------------------------

async def test_an_album_tally_survives_a_restart(tmp_path: Path, storage_target) -> None:
    config, clock, path = e2e_config(tmp_path), FakeClock(), storage_target
    db = await Database.open(path)
    before = Intake(WorkflowDeps(db=db, config=config, clock=clock, texts=Texts()))
    await at_photos(before)
    for n in range(3):
        await before.add_photos(USER, [photo(n)], None)  # three single photos: room for three more
    await before.add_document_image(USER, jpeg_with_gps(*PARK), "g0", "album1")  # its EXIF gives the location
    for n in range(1, 3):
        await before.add_photos(USER, [photo(10 + n, "album1")], None)
    await db.close()  # the bot restarts in the middle of the album

    db = await Database.open(path)
    after = Intake(WorkflowDeps(db=db, config=config, clock=clock, texts=Texts()))
    for n in range(3, 5):
        result = await after.add_photos(USER, [photo(10 + n, "album1")], None)
        assert (result.added, result.ignored) == (0, 1)
    tally = await after.album_settled(USER, "album1")
    assert (tally.added, tally.ignored, tally.location_from_exif) == (3, 2, True)
    assert tally.draft.photo_count == 6 and tally.draft.location_source == "exif"
    # acknowledged once: the pending part is gone, and a second timer (another instance's) says nothing
    assert await after.album_settled(USER, "album1") is None
    await db.close()


async def test_a_new_intake_on_the_same_database_gives_the_same_tally(intake: Intake) -> None:
    await at_photos(intake)
    for n in range(8):
        await intake.add_photos(USER, [photo(n, "big")], None)
    fresh = Intake(intake.d)
    assert await fresh.d.db.read(lambda c: drafts.album(c, USER, "big")) == drafts.Album("big", 6, 2, False)
    tally = await fresh.album_settled(USER, "big")
    assert (tally.added, tally.ignored, tally.location_from_exif) == (6, 2, False)


async def test_albums_are_tallied_apart_and_single_photos_leave_no_pending_row(intake: Intake) -> None:
    await at_photos(intake)
    await intake.add_photos(USER, [photo(1)], None)
    await intake.add_photos(USER, [photo(2, "a")], None)
    await intake.add_photos(USER, [photo(3, "b")], None)
    await intake.add_photos(USER, [photo(4, "b")], None)
    rows = await intake.d.db.read(lambda c: c.execute("SELECT media_group_id FROM draft_albums ORDER BY 1")
                                  .fetchall())
    assert [r[0] for r in rows] == ["a", "b"]
    assert (await intake.album_settled(USER, "a")).added == 1
    assert (await intake.album_settled(USER, "b")).added == 2


async def test_an_album_that_settles_after_the_photo_step_is_not_acknowledged(intake: Intake) -> None:
    await at_photos(intake)
    await intake.add_photos(USER, [photo(1, "late")], None)
    await intake.photos_done(USER)
    assert await intake.album_settled(USER, "late") is None
    await intake.cancel(USER)
    assert await intake.album_settled(USER, "late") is None


async def test_redoing_the_photos_or_dropping_the_draft_drops_pending_albums(intake: Intake) -> None:
    await at_photos(intake)
    await intake.add_photos(USER, [photo(1, "x")], None)
    await intake.photos_done(USER)
    await intake.set_description(USER, "楼上漏水已经三天了，物业不管。")
    await intake.edit(USER, Step.PHOTOS)
    assert await intake.d.db.read(lambda c: drafts.album(c, USER, "x")) == drafts.Album("x", 0, 0, False)
    await intake.add_photos(USER, [photo(2, "y")], None)
    await intake.cancel(USER)
    count = await intake.d.db.read(lambda c: c.execute("SELECT count(*) FROM draft_albums").fetchone()[0])
    assert count == 0
