"""Every bad input PRODUCT.md names gets a clear answer in the person's language, and nothing is half-written."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.clock import FakeClock
from sandbox.local import LocalSandbox
from storage import drafts
from tests.e2e.conftest import e2e_config
from tests.e2e.talk import PAGES, en, first_line, zh
from tests.e2e.test_intake_happy import DESCRIPTION, file_complaint
from tests.e2e.test_intake_paths import to_photos_step
from tests.images import jpeg, png_bomb


async def to_description_step(person) -> None:
    await to_photos_step(person)
    await person.say(zh("intake.btn_no_photos"))
    await person.expect(first_line("zh", "intake.ask_description", min=10, max=1500))


async def ticket_count(local: LocalSandbox) -> int:
    return await local.db.read(lambda c: c.execute("SELECT count(*) FROM tickets").fetchone()[0])


async def test_an_invisible_description_is_empty(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_description_step(li)
    await li.say("\u200b\u200b\u200b")
    await li.expect(zh("intake.description_empty"))
    draft = await local.db.read(lambda c: drafts.get(c, li.id))
    assert (draft.step, draft.description) == ("description", None)


async def test_a_ten_thousand_character_description_is_refused_with_its_length(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_description_step(li)
    await li.say("很" * 10_000)
    await li.expect(zh("intake.description_too_long", length=10_000, max=1500))
    await li.say("太短")
    await li.expect(zh("intake.description_too_short", length=2, min=10))
    await li.say(DESCRIPTION)
    await li.expect(first_line("zh", "intake.summary"))


async def test_a_sticker_or_voice_where_text_is_expected(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_description_step(li)
    await li.send_sticker()
    await li.expect(zh("intake.text_expected"))
    await li.send_voice()
    await li.expect(zh("intake.text_expected"))
    assert (await local.db.read(lambda c: drafts.get(c, li.id))).step == "description"


async def test_a_pdf_where_a_photo_is_expected_is_refused(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li)
    await li.send_document(b"%PDF-1.4\n%fake\n", "complaint.pdf", "application/pdf")
    await li.expect(zh("photo.document_not_image"))
    await li.send_sticker()
    await li.expect(zh("intake.photo_expected"))
    assert (await local.db.read(lambda c: drafts.get(c, li.id))).photo_count == 0


async def test_a_fake_image_and_a_decompression_bomb_are_refused(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li)
    await li.send_document(b"this is not a picture at all" * 10, "photo.jpg", "image/jpeg")
    await li.expect(zh("photo.not_an_image"))
    await li.send_document(png_bomb(), "huge.png", "image/png")
    await li.expect(zh("photo.too_many_pixels"))
    await li.send_document(jpeg(), "fine.jpg", "image/jpeg")
    await li.expect(zh("intake.photo_received", count=1, max=6))
    assert (await local.db.read(lambda c: drafts.get(c, li.id))).photo_count == 1


async def test_an_oversized_image_file_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    cfg = e2e_config(tmp_path)
    cfg = dataclasses.replace(cfg, intake=dataclasses.replace(cfg.intake, max_image_bytes=1024 * 1024))
    async with LocalSandbox(cfg, clock=clock) as local:
        li = await local.client.person("李雷")
        await to_photos_step(li)
        big = jpeg(3000, 3000) + b"\0" * (1024 * 1024)
        await li.send_document(big, "big.jpg", "image/jpeg")
        await li.expect(zh("photo.too_big_bytes", max_mb=1))
        assert (await local.db.read(lambda c: drafts.get(c, li.id))).photo_count == 0


async def test_more_photos_than_allowed_keeps_the_first_ones(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li)
    await li.send_album([jpeg(color=(i, i, i)) for i in range(8)])
    ack = await li.expect(zh("intake.photo_received", count=6, max=6))
    assert zh("intake.photos_over_limit", ignored=2, max=6) in ack["text"]
    await li.send_photo(jpeg())
    await li.expect(zh("intake.photos_over_limit", ignored=1, max=6))
    assert (await local.db.read(lambda c: drafts.get(c, li.id))).photo_count == 6


async def test_impossible_and_faraway_locations(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.say("/new")
    await li.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await li.tap("城市管理")
    await li.expect(first_line("zh", "intake.ask_location"))
    await li.share_location(123.0, 200.0)
    await li.expect(zh("intake.location_impossible"))
    await li.share_location(39.9042, 116.4074)  # Beijing
    await li.expect(zh("intake.location_outside", city="阜阳市"))
    draft = await local.db.read(lambda c: drafts.get(c, li.id))
    assert (draft.step, draft.lat, draft.location_source) == ("location", None, None)


async def test_a_button_from_an_old_conversation_changes_nothing(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.say("/new")
    old = await li.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await li.say("/cancel")
    await li.expect(zh("intake.cancelled"))
    await li.say("/new")
    await li.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    answer = await sb.callback_answer(await sb.press(li.id, li.private, old["message_id"], button_text="交通物流"))
    assert answer["text"] == zh("intake.stale_button") and answer["show_alert"]
    assert (await local.db.read(lambda c: drafts.get(c, li.id))).category is None


async def test_a_button_from_an_earlier_step_changes_nothing(local: LocalSandbox, sb) -> None:
    li = await sb.person("Tom", language_code="en")
    await li.say("/new")
    prompt = await li.expect(first_line("en", "intake.ask_category", page=1, pages=PAGES))
    data = prompt["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await li.tap(prompt["reply_markup"]["inline_keyboard"][0][0]["text"])
    await li.expect(first_line("en", "intake.ask_location"))
    answer = await sb.callback_answer(await sb.press(li.id, li.private, prompt["message_id"], data=data, forge=True))
    assert answer["text"] == en("intake.stale_button")
    assert (await local.db.read(lambda c: drafts.get(c, li.id))).step == "location"
    # and the step the draft is at is asked again (its prompt may have been lost with a crash)
    await li.expect(first_line("en", "intake.ask_location"))


async def test_forged_callback_data_is_refused(local: LocalSandbox, sb) -> None:
    li = await sb.person("李雷")
    await li.say("/new")
    prompt = await li.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    draft = await local.db.read(lambda c: drafts.get(c, li.id))
    for data in (f"i|{draft.id}|c|cat|no_such_category", "garbage", "i|zzzzzz|c|cat|housing"):
        answer = await sb.callback_answer(await sb.press(li.id, li.private, prompt["message_id"], data=data,
                                                         forge=True))
        assert answer["show_alert"], data
        assert answer["text"] in (zh("intake.stale_button"), zh("common.button_expired")), data
    assert (await local.db.read(lambda c: drafts.get(c, li.id))).category is None


@pytest.mark.parametrize("garbage", ["hello", "12", "DROP TABLE tickets", "１２３４５６７８９０１２"])
async def test_status_with_garbage(local: LocalSandbox, sb, garbage: str) -> None:
    li = await sb.person("李雷")
    await li.say(f"/status {garbage}")
    await li.expect(zh("status.garbage", text=garbage))


async def test_too_many_messages_a_minute_get_one_polite_refusal(tmp_path: Path, clock: FakeClock) -> None:
    async with LocalSandbox(e2e_config(tmp_path, messages_per_minute=3), clock=clock) as local:
        li = await local.client.person("李雷")
        for _ in range(3):
            await li.say("/help")
            await li.expect(first_line("zh", "help.text", max_photos=6))
        await li.say("/help")
        await li.expect(zh("limits.messages_per_minute", seconds=60))
        await li.say("/help")  # still limited, and not told again
        clock.advance(61)
        await li.say("/help")
        await li.expect(first_line("zh", "help.text", max_photos=6))
        refusals = [m for m in await li.transcript() if "太快" in (m.get("text") or "")]
        assert len(refusals) == 1


async def test_tickets_per_day_limit(tmp_path: Path, clock: FakeClock) -> None:
    async with LocalSandbox(e2e_config(tmp_path, tickets_per_day=1), clock=clock) as local:
        li = await local.client.person("李雷")
        await file_complaint(li)
        await li.say("/new")
        await li.expect(zh("limits.tickets_per_day", limit=1))
        assert await ticket_count(local) == 1
        clock.advance(24 * 3600)
        await li.say("/new")
        await li.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
