"""The web chat in a real headless Chromium (Debian's package, driven by Playwright; nothing is downloaded).

Through the page alone: a resident files a complaint with a photo and a location clicked on the city map, the
unit's liaison signs for it and resolves it in the unit's group chat, the resident rates it and checks its status
by number. Buttons are found by their catalogue texts, never by position. Screenshots of each role's chat are saved
to tests/browser/artifacts/ (git-ignored).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.config import Config
from sandbox.demo import play
from sandbox.local import RESIDENTS, LocalSandbox
from tests.browser.browser import ARTIFACTS, chromium_page, skip_reason
from tests.e2e.conftest import e2e_config
from tests.e2e.talk import first_line, zh
from tests.images import jpeg

pytestmark = [pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
              pytest.mark.timeout(300)]

WAIT_MS = 20_000
RESIDENT = RESIDENTS[0][0]


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    config: Config = e2e_config(tmp_path)
    async with LocalSandbox(config, clock=FakeClock(), people=True) as sandbox:
        yield sandbox


def _messages(page: Any) -> Any:
    return page.locator("#messages")


async def _open_chat(page: Any, name: str) -> None:
    if await page.locator("#back").is_visible():
        await page.click("#back")
    await page.locator(".chat-item", has_text=name).first.click()
    await page.wait_for_selector("#chat-pane[data-loaded]")
    await page.locator("#chat-title", has_text=name).wait_for()


async def _bot_says(page: Any, text: str) -> Any:
    """The newest bot message containing ``text`` (waiting for it to arrive over the live stream)."""
    message = _messages(page).locator(".msg.bot", has_text=text).last
    await message.wait_for(timeout=WAIT_MS)
    return message


async def _type(page: Any, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")
    await _messages(page).locator(".msg.mine", has_text=text).last.wait_for(timeout=WAIT_MS)


async def _tap(page: Any, text: str, on: str | None = None) -> None:
    """Click the inline button labelled ``text`` (on the newest message containing ``on``, if given)."""
    scope = _messages(page).locator(".msg", has_text=on).last if on else _messages(page)
    button = scope.locator(".inline-keyboard button", has_text=text).last
    await button.wait_for(timeout=WAIT_MS)
    await button.click()


async def _click_zone(page: Any, unit: str) -> None:
    """Click the map where the zone's name is drawn (the label lets the click through to the zone)."""
    box = await page.locator(f"#map svg text[data-unit='{unit}']").bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


async def test_resident_liaison_and_rating_through_the_page(local: LocalSandbox) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    photo = ARTIFACTS / "streetlight.jpg"
    photo.write_bytes(jpeg(800, 600, (40, 60, 90)))
    async with chromium_page(local.sandbox.url) as page:
        # ---- the resident files a complaint -----------------------------------------------------------------
        await _open_chat(page, RESIDENT)
        await _type(page, "/new")
        await _bot_says(page, first_line("zh", "intake.ask_category", page=1, pages=_pages(local)))
        housing = local.config.city.category("housing").name("zh")
        await _tap(page, housing)
        await _bot_says(page, first_line("zh", "intake.ask_location"))
        await page.locator("#reply-keyboard button", has_text=zh("intake.btn_share_location")).click()
        await page.locator("#map-dialog[open]").wait_for()
        await _click_zone(page, "yingzhou")
        await page.locator("#map-picked", has_text=re.compile(r"\d+\.\d+, \d+\.\d+")).wait_for()
        await page.screenshot(path=str(ARTIFACTS / "resident-map.png"))
        await page.click("#map-send")
        await _messages(page).locator(".msg.mine .location").last.wait_for(timeout=WAIT_MS)
        await _bot_says(page, zh("intake.location_received"))
        await page.set_input_files("#file", str(photo))
        await _messages(page).locator(".msg.mine img.photo").last.wait_for(timeout=WAIT_MS)
        await _bot_says(page, zh("intake.photo_received", count=1, max=local.config.intake.max_photos))
        await page.locator("#reply-keyboard button", has_text=zh("intake.btn_done")).click()
        await _bot_says(page, first_line("zh", "intake.ask_description", min=local.config.intake.description_min_chars,
                                         max=local.config.intake.description_max_chars))
        await _type(page, "小区门口的路灯白天一直亮着，晚上却不亮，已经一个星期了。")
        await _bot_says(page, first_line("zh", "intake.summary"))
        await _tap(page, zh("intake.btn_confirm"))
        registered = await _bot_says(page, first_line("zh", "notice.registered", number="", raw_number="", category="",
                                                      dispatched=""))
        shown = re.search(r"\d{3} \d{3} \d{3}", await registered.inner_text())
        assert shown, await registered.inner_text()
        number = shown.group(0)
        await page.screenshot(path=str(ARTIFACTS / "resident-filed.png"))

        view = await local.runner.services.lookup.status(number)  # type: ignore[union-attr]
        assert view.ticket.unit == "yingzhou"  # the district where the map was clicked
        assert view.photo_count == 1

        # ---- the liaison signs for it and resolves it -------------------------------------------------------
        group = local.config.city.group_for_unit("yingzhou")
        assert group is not None
        await _open_chat(page, group.title)
        await _bot_says(page, f"工单 {number}")
        await _tap(page, zh("card.btn_accept"), on=number)
        await page.locator("#toasts .toast", has_text=zh("done.accepted")).wait_for(timeout=WAIT_MS)  # the answer
        await _tap(page, zh("card.btn_resolve"), on=number)
        await _bot_says(page, zh("ask.resolve_answer"))
        answer = "已安排维修人员更换了路灯控制器，今晚起恢复正常。"
        await _type(page, answer)
        await _bot_says(page, zh("done.resolved"))
        await page.screenshot(path=str(ARTIFACTS / "liaison-resolved.png"))

        # ---- the resident rates the answer and checks the status --------------------------------------------
        await _open_chat(page, RESIDENT)
        await _bot_says(page, answer)
        await _tap(page, zh("rates.btn_solved"))  # the rating's two questions, one tap each
        await _tap(page, zh("rates.btn_satisfied"))
        await _bot_says(page, zh("notify.closed", number=number))
        await _type(page, f"/status {number.replace(' ', '')}")
        status = await _bot_says(page, f"工单 {number}")
        assert zh("state.closed") in await status.inner_text()
        await page.screenshot(path=str(ARTIFACTS / "resident-rated.png"))

        # ---- and every other role's chat, as it stands -----------------------------------------------------
        others = [(local.social_supervisor, "social-supervisor"), (local.admin, "admin")]
        for user, name in others:
            assert user is not None
            await _open_chat(page, user["first_name"])
            await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        for role in ("coordination", "supervision"):
            group = local.config.city.group_with_role(role)  # type: ignore[arg-type]
            assert group is not None
            await _open_chat(page, group.title)
            await page.screenshot(path=str(ARTIFACTS / f"{role}.png"))



async def test_two_tabs_stay_in_step_and_english_and_phone_width(local: LocalSandbox) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    english = next(name for name, lang in RESIDENTS if lang == "en")
    async with chromium_page(local.sandbox.url, width=375, height=740) as first, \
            chromium_page(local.sandbox.url, width=375, height=740) as second:
        await first.click("#lang")
        await first.locator("#chats-heading", has_text="Chats").wait_for()
        await _open_chat(first, english)
        await _open_chat(second, english)
        await _type(first, "/help")
        # the other tab sees the person's message and the bot's answer without reloading
        await _messages(second).locator(".msg.mine", has_text="/help").wait_for(timeout=WAIT_MS)
        reply = (await _bot_says(second, "/new"))
        assert await reply.inner_text()
        assert await first.locator("#composer button[type=submit]").inner_text() == "Send"
        width = await first.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page scrolls sideways at 375 px: {width}"
        # the command menu comes from the bot's setMyCommands
        await first.click("#commands-button")
        await first.locator("#suggestions button", has_text="/status").wait_for(timeout=WAIT_MS)
        await first.screenshot(path=str(ARTIFACTS / "phone-english.png"))


async def test_an_album_and_a_photo_sent_as_a_file_and_a_named_place(local: LocalSandbox) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = [ARTIFACTS / f"album-{i}.jpg" for i in range(2)]
    for i, path in enumerate(shots):
        path.write_bytes(jpeg(640, 480, (200, 60 * i, 40)))
    second = RESIDENTS[1][0]
    max_photos = local.config.intake.max_photos
    async with chromium_page(local.sandbox.url) as page:
        await _open_chat(page, second)
        await _type(page, "/new")
        await _tap(page, local.config.city.category("housing").name("zh"))
        await _bot_says(page, first_line("zh", "intake.ask_location"))
        await page.click("#location-button")  # the composer's map, then a named place instead of a click
        place = local.config.city.places[0]
        await page.select_option("#place", place.key)
        await page.click("#map-send")
        await _messages(page).locator(".msg.mine .venue-title", has_text=place.name("zh")).wait_for(timeout=WAIT_MS)
        await _bot_says(page, zh("intake.location_received"))
        await page.set_input_files("#file", [str(p) for p in shots])  # two at once: an album
        album = _messages(page).locator(".msg.mine .album").last
        await album.locator("img.photo").nth(1).wait_for(timeout=WAIT_MS)
        assert await album.locator("img.photo").count() == 2
        await _bot_says(page, zh("intake.photo_received", count=2, max=max_photos))
        await page.check("#as-file")
        await page.set_input_files("#file", str(shots[0]))
        link = _messages(page).locator(".msg.mine a.doc").last
        await link.wait_for(timeout=WAIT_MS)
        assert await link.get_attribute("download") == shots[0].name
        await _bot_says(page, zh("intake.photo_received", count=3, max=max_photos))
        await page.screenshot(path=str(ARTIFACTS / "album-and-file.png"))


async def test_the_page_follows_the_demo_as_it_plays(local: LocalSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    async with chromium_page(local.sandbox.url) as page:
        demo = asyncio.create_task(play(local))
        # the demo's resident is nobody the page was told about: the chat appears when he first speaks
        await page.locator(".chat-item", has_text="李雷").wait_for(timeout=WAIT_MS)
        await _open_chat(page, "李雷")
        await _bot_says(page, first_line("zh", "notice.registered", number="", raw_number="", category="",
                                         dispatched=""))
        closed = await _bot_says(page, re.sub(r"\{number\}.*", "", zh("notify.closed", number="{number}")))
        assert await demo is True
        assert await closed.is_visible()


def _pages(local: LocalSandbox) -> int:
    per_page = local.config.intake.categories_per_page
    return -(-len(local.config.city.categories) // per_page)
