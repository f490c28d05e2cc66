"""The intake's other paths: albums, EXIF locations, typed places, editing, cancelling, restarts, duplicates,
English."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from sandbox.local import LocalSandbox
from storage import drafts, tickets
from tests.e2e.talk import PAGES, en, first_line, number_in, zh
from tests.e2e.test_intake_happy import DESCRIPTION, STATION, file_complaint
from tests.images import jpeg, jpeg_with_gps

pytestmark = pytest.mark.backends  # run on SQLite and on PostgreSQL (tests/e2e/conftest.py)
PARK = (32.8625, 115.9105)  # 阜合园区, a point with an EXIF tag


async def to_photos_step(person, category: str = "房产物业", skip_location: bool = True) -> None:
    await person.say("/new")
    await person.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await person.tap(category)
    await person.expect(first_line("zh", "intake.ask_location"))
    if skip_location:
        await person.say(zh("intake.btn_skip"))
        await person.expect(zh("intake.location_skipped"))
    else:
        await person.expect(first_line("zh", "intake.ask_photos", max=6))


async def test_an_album_is_one_step_with_one_acknowledgement(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li)
    await li.send_album([jpeg(), jpeg(color=(1, 2, 3)), jpeg(color=(9, 9, 9))])
    await li.expect(zh("intake.photo_received", count=3, max=6))
    await li.say(zh("intake.btn_done"))
    await li.expect(first_line("zh", "intake.ask_description", min=10, max=1500))
    acks = [m for m in await li.transcript() if "已收到照片" in (m.get("text") or "")]
    assert len(acks) == 1, "an album of three is acknowledged once, not three times"


async def test_a_picture_sent_as_file_gives_the_location_and_loses_its_exif(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li, category="城市管理")
    await li.send_document(jpeg_with_gps(*PARK), "IMG_0001.jpg", "image/jpeg")
    ack = await li.expect(zh("intake.location_from_exif"))
    assert zh("intake.photo_received", count=1, max=6) in ack["text"]
    await li.say(zh("intake.btn_done"))
    await li.say(DESCRIPTION)
    summary = await li.expect(first_line("zh", "intake.summary"))
    assert zh("intake.location_exif") in summary["text"]
    await li.tap(zh("intake.btn_confirm"))
    number = number_in((await li.expect("工单编号"))["text"])

    ticket = await local.db.read(lambda c: tickets.by_number(c, number))
    assert ticket.location_source == "exif"
    assert abs(ticket.lat - PARK[0]) < 1e-4 and abs(ticket.lon - PARK[1]) < 1e-4
    stored = await local.db.read(lambda c: c.execute(
        "SELECT source, data FROM ticket_photos WHERE ticket_id = ?", (ticket.id,)).fetchone())
    assert stored["source"] == "document"
    image = Image.open(io.BytesIO(stored["data"]))
    assert not image.getexif(), "the stored copy carries no EXIF at all"
    assert b"TestCam" not in stored["data"]


async def test_a_typed_place_is_matched_to_the_city_places(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.say("/new")
    await li.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await li.tap("城市管理")
    await li.expect(first_line("zh", "intake.ask_location"))
    await li.say("火车站")
    place = local.config.city.place(local.config.city.places[0].key)
    matched = await li.expect("📍")
    draft = await local.runner.services.intake.draft(li.id)
    assert draft.location_source == "place" and draft.place_key is not None
    assert local.config.city.place(draft.place_key).name("zh") in matched["text"]
    assert place is not None


async def test_an_unknown_place_can_be_used_as_typed(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.say("/new")
    await li.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await li.tap("城市管理")
    await li.expect(first_line("zh", "intake.ask_location"))
    await li.say("我家楼下的小卖部")
    await li.expect(zh("intake.place_not_found", text="我家楼下的小卖部"))
    await li.tap(zh("intake.btn_use_as_typed"))
    await li.expect(first_line("zh", "intake.ask_photos", max=6))
    draft = await local.runner.services.intake.draft(li.id)
    assert (draft.location_source, draft.place_text, draft.lat) == ("text", "我家楼下的小卖部", None)


async def test_changing_the_category_at_the_summary(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li)
    await li.say(zh("intake.btn_no_photos"))
    await li.say(DESCRIPTION)
    await li.expect(first_line("zh", "intake.summary"))
    await li.tap(zh("intake.btn_edit_category"))
    await li.expect(first_line("zh", "suggest.ask_category"))  # the description is there: suggestions first
    await li.tap(zh("suggest.btn_other"))
    await li.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await li.tap("交通物流")
    summary = await li.expect(first_line("zh", "intake.summary"))
    assert "交通物流" in summary["text"] and DESCRIPTION in summary["text"]
    await li.tap(zh("intake.btn_confirm"))
    number = number_in((await li.expect("工单编号"))["text"])
    ticket = await local.db.read(lambda c: tickets.by_number(c, number))
    assert ticket.category == "transport" and ticket.description == DESCRIPTION


async def test_changing_the_description_keeps_everything_else(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li)
    await li.send_photo(jpeg())
    await li.say(zh("intake.btn_done"))
    await li.say(DESCRIPTION)
    await li.expect(first_line("zh", "intake.summary"))
    await li.tap(zh("intake.btn_edit_description"))
    await li.expect(first_line("zh", "intake.ask_description", min=10, max=1500))
    await li.say("路灯已经坏了一个月了，请尽快修理。")
    summary = await li.expect(first_line("zh", "intake.summary"))
    assert "一个月" in summary["text"] and "照片：1 张" in summary["text"]


async def test_cancel_discards_the_draft(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li)
    await li.say("/cancel")
    await li.expect(zh("intake.cancelled"))
    assert await local.runner.services.intake.draft(li.id) is None
    await li.say("/cancel")
    await li.expect(zh("intake.nothing_to_cancel"))
    await li.say("随便说点什么")  # too short to be a description: a hint, no new draft
    await li.expect(first_line("zh", "suggest.describe_more", min=10))
    assert await local.runner.services.intake.draft(li.id) is None


async def test_discard_button_at_the_summary(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li)
    await li.say(zh("intake.btn_no_photos"))
    await li.say(DESCRIPTION)
    await li.expect(first_line("zh", "intake.summary"))
    await li.tap(zh("intake.btn_cancel"))
    await li.expect(zh("intake.cancelled"))
    assert await local.db.read(lambda c: c.execute("SELECT count(*) FROM tickets").fetchone()[0]) == 0


async def test_a_restart_mid_draft_resumes_where_the_resident_was(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li)
    await li.send_photo(jpeg())
    await li.expect(zh("intake.photo_received", count=1, max=6))

    await local.restart_bot()

    await li.send_photo(jpeg(color=(0, 0, 255)))
    await li.expect(zh("intake.photo_received", count=2, max=6))
    await li.say("/new")
    await li.expect(zh("intake.resumed"))
    await li.expect(first_line("zh", "intake.ask_photos", max=6))
    await li.say(zh("intake.btn_done"))
    await li.say(DESCRIPTION)
    await li.expect(first_line("zh", "intake.summary"))
    await li.tap(zh("intake.btn_confirm"))
    number = number_in((await li.expect("工单编号"))["text"])
    ticket = await local.db.read(lambda c: tickets.by_number(c, number))
    assert await local.db.read(lambda c: tickets.photo_count(c, ticket.id)) == 2


async def test_same_problem_nearby_is_offered_to_follow(local: LocalSandbox, sb) -> None:
    first = await sb.person("李雷")
    number = await file_complaint(first, category="城市管理")

    second = await sb.person("韩梅梅")
    await second.say("/new")
    await second.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await second.tap(zh("intake.btn_next"))
    await second.expect(first_line("zh", "intake.ask_category", page=2, pages=PAGES))
    await second.tap(zh("intake.btn_prev"))
    await second.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await second.tap("城市管理")
    await second.share_location(STATION[0] + 0.0005, STATION[1])  # about 55 m north
    await second.say(zh("intake.btn_no_photos"))
    await second.say("这里的路灯不亮，已经好几天了。")
    summary = await second.expect(first_line("zh", "intake.summary"))
    assert zh("intake.duplicates_intro") in summary["text"]
    formatted = f"{number[:3]} {number[3:6]} {number[6:]}"
    await second.tap(zh("intake.btn_follow", number=formatted))
    await second.expect(zh("intake.followed", number=formatted, raw_number=number))

    ticket = await local.db.read(lambda c: tickets.by_number(c, number))
    assert sorted(await local.db.read(lambda c: tickets.followers(c, ticket.id))) == sorted([first.id, second.id])
    assert await local.db.read(lambda c: c.execute("SELECT count(*) FROM tickets").fetchone()[0]) == 1
    await second.say("/my")
    mine = await second.expect(zh("my.followed_header"))
    assert formatted in mine["text"]


async def test_other_categories_far_away_are_not_offered(local: LocalSandbox, sb) -> None:
    await file_complaint(await sb.person("李雷"))
    other = await sb.person("韩梅梅")
    await other.say("/new")
    await other.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await other.tap("交通物流")  # another category at the same point
    await other.share_location(*STATION)
    await other.say(zh("intake.btn_no_photos"))
    await other.say(DESCRIPTION)
    summary = await other.expect(first_line("zh", "intake.summary"))
    assert zh("intake.duplicates_intro") not in summary["text"]


async def test_an_english_speaker_is_answered_in_english(local: LocalSandbox, sb) -> None:
    tom = await sb.person("Tom", language_code="en-GB")
    await tom.say("/new")
    await tom.expect(first_line("en", "intake.ask_category", page=1, pages=PAGES))
    await tom.tap("Housing and property" if any(
        c.name_en == "Housing and property" for c in local.config.city.categories)
        else local.config.city.categories[0].name_en)
    await tom.expect(first_line("en", "intake.ask_location"))
    await tom.say(en("intake.btn_skip"))
    skipped = await tom.expect(en("intake.location_skipped"))
    assert first_line("en", "intake.ask_photos", max=6) in skipped["text"]
    await tom.say(en("intake.btn_no_photos"))
    await tom.say("The lift in our building has been broken for a week.")
    await tom.expect(first_line("en", "intake.summary"))
    await tom.tap(en("intake.btn_confirm"))
    confirmation = await tom.expect("Ticket number")
    registered = en("notice.registered", number="X", raw_number="X", category="Y", dispatched="")
    assert registered.splitlines()[0] in confirmation["text"]
    draft_left = await local.db.read(lambda c: drafts.get(c, tom.id))
    assert draft_left is None
