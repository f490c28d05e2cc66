"""A shared or EXIF point in words: the resident's summary, the unit's card and /status say the district and the
nearest named place, never raw coordinates; an EXIF point outside the city is told, not silently dropped."""

from __future__ import annotations

import base64
import re

from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from storage import drafts
from tests.e2e.talk import PAGES, first_line, number_in, zh
from tests.e2e.test_handling import chat, liaison
from tests.e2e.test_intake_happy import DESCRIPTION
from tests.e2e.test_intake_paths import to_photos_step
from tests.images import jpeg_with_gps

NEAR_STATION = (32.9175, 115.8639)  # about 150 m north of 阜阳站, in 颍东区
IN_WORDS = "颍东区 · 阜阳站附近"
COORDINATES = re.compile(r"\d{2}\.\d{3,}")
NANJING = (32.0603, 118.7969)  # far outside 阜阳市


async def test_summary_card_and_status_say_where_in_words(local: LocalSandbox, sb) -> None:
    resident = await sb.person("王芳")
    unit = await liaison(local, "yingdong_liaison")
    await resident.say("/new")
    await resident.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    await resident.tap("房产物业")
    await resident.expect(first_line("zh", "intake.ask_location"))
    await resident.share_location(*NEAR_STATION)
    await resident.expect(zh("intake.location_received"))
    await resident.say(zh("intake.btn_no_photos"))
    await resident.say(DESCRIPTION)
    summary = await resident.expect(first_line("zh", "intake.summary"))
    assert zh("where.shared", source=zh("intake.location_point"), words=IN_WORDS) in summary["text"]
    assert not COORDINATES.search(summary["text"]), summary["text"]
    await resident.tap(zh("intake.btn_confirm"))
    number = number_in((await resident.expect("工单编号"))["text"])

    card = await unit.expect(f"工单 {format_number(number)}", chat=chat(local, "yingdong_liaison"))
    assert zh("card.place", place=IN_WORDS) in card["text"], card["text"]
    assert not COORDINATES.search(card["text"]), card["text"]
    pins = [m for m in await sb.messages(chat(local, "yingdong_liaison")) if "location" in m]
    assert pins, "the card keeps its map pin"

    await resident.say(f"/status {number}")
    status = await resident.expect(f"工单 {format_number(number)}")
    assert f"地区：{IN_WORDS}" in status["text"], status["text"]


async def test_an_exif_point_outside_the_city_is_told_and_the_complaint_has_no_place(local: LocalSandbox, sb
                                                                                     ) -> None:
    li = await sb.person("李雷")
    await to_photos_step(li)
    await li.send_document(jpeg_with_gps(*NANJING), "IMG_0002.jpg", "image/jpeg")
    told = zh("where.exif_outside", city="阜阳市", button=zh("intake.btn_edit_location"))
    ack = await li.expect(told)
    assert zh("intake.photo_received", count=1, max=6) in ack["text"]
    assert zh("intake.location_from_exif") not in ack["text"]
    draft = await local.db.read(lambda c: drafts.get(c, li.id))
    assert draft.lat is None and draft.lon is None
    await li.say(zh("intake.btn_done"))
    await li.say(DESCRIPTION)
    summary = await li.expect(first_line("zh", "intake.summary"))
    assert zh("intake.location_none") in summary["text"]
    # the summary offers to add the place: the step asks for a location as if none had been given
    await li.tap(zh("intake.btn_edit_location"))
    await li.expect(first_line("zh", "intake.ask_location"))


async def test_an_album_of_files_outside_the_city_is_told_once(local: LocalSandbox, sb) -> None:
    li = await sb.person("韩梅梅")
    await to_photos_step(li)
    files = [{"document": {"data_b64": base64.b64encode(jpeg_with_gps(*NANJING, width=w)).decode(),
                           "file_name": f"IMG_{w}.jpg", "mime_type": "image/jpeg"}} for w in (640, 320)]
    await sb.send(li.id, album=files)
    await li.expect(zh("intake.photo_received", count=2, max=6))
    told = zh("where.exif_outside", city="阜阳市", button=zh("intake.btn_edit_location"))
    assert sum(told in (m.get("text") or "") for m in await li.transcript()) == 1
