"""How the web chat shows what a bot sends, with a scripted bot speaking the raw Bot API (no complaint bot):
formatting from entities only, media, places, downloads, edits in place, deletions, alerts, and what a person
types shown as text, never as markup."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import load_config
from sandbox.client import SandboxClient
from sandbox.server import Sandbox
from sandbox.webcity import city_map
from tests.browser.browser import ARTIFACTS, chromium_page, skip_reason
from tests.images import jpeg

pytestmark = [pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
              pytest.mark.timeout(300)]

CONFIG = Path(__file__).resolve().parents[2] / "config.example.toml"
TOKEN = "777:RENDERING_TEST_TOKEN_abcdefghij"
WAIT_MS = 20_000


class RawBot:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = f"{base}{TOKEN}"

    async def __call__(self, method: str, files: dict[str, bytes] | None = None, **params: Any) -> Any:
        if files:
            form = aiohttp.FormData()
            for key, value in params.items():
                form.add_field(key, value if isinstance(value, str) else json.dumps(value))
            for key, data in files.items():
                form.add_field(key, io.BytesIO(data), filename=f"{key}.jpg", content_type="image/jpeg")
            request: dict[str, Any] = {"data": form}
        else:
            request = {"data": {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}}
        async with self.http.post(f"{self.base}/{method}", **request) as resp:
            body = await resp.json()
        assert body["ok"], body
        return body["result"]


@pytest.fixture
async def world() -> AsyncIterator[tuple[Sandbox, SandboxClient, RawBot, dict[str, Any]]]:
    sandbox = Sandbox()
    await sandbox.start()
    try:
        async with SandboxClient(sandbox.url, token=TOKEN) as client, aiohttp.ClientSession() as http:
            await client.create_bot(TOKEN, username="render_bot", first_name="Render bot")
            user = await client.create_user("王芳", language_code="zh")
            sandbox.web.publish([{"chat_id": user["id"], "user_id": user["id"], "kind": "resident",
                                  "title": user["first_name"]}], city_map(load_config(CONFIG).city))
            yield sandbox, client, RawBot(http, sandbox.bot_base_url), user
    finally:
        await sandbox.stop()


async def test_what_a_bot_sends_is_shown_as_telegram_would(world: Any) -> None:
    sandbox, _client, bot, user = world
    chat = user["id"]
    async with chromium_page(sandbox.url) as page:
        await page.locator(".chat-item", has_text="王芳").click()
        await page.wait_for_selector("#chat-pane[data-loaded]")
        typed = '<img src=x onerror="document.body.dataset.owned=1"> & <b>not bold</b>'
        await page.fill("#text", typed)
        await page.press("#text", "Enter")
        mine = page.locator("#messages .msg.mine .body").last
        await mine.wait_for(timeout=WAIT_MS)
        assert await mine.inner_text() == typed  # shown as typed: text, not markup

        await bot("sendMessage", chat_id=chat, parse_mode="HTML",
                  text='<b>粗体</b> <i>斜体</i> <a href="https://example.org/x">链接</a> <code>code</code> '
                       '<tg-spoiler>剧透</tg-spoiler> &lt;script&gt;alert(1)&lt;/script&gt;',
                  reply_markup={"inline_keyboard": [[{"text": "确认", "callback_data": "ok"},
                                                     {"text": "网站", "url": "https://example.org"}]]})
        formatted = page.locator("#messages .msg.bot", has_text="粗体").last
        await formatted.wait_for(timeout=WAIT_MS)
        assert await formatted.locator("b").inner_text() == "粗体"
        assert await formatted.locator("i").inner_text() == "斜体"
        assert await formatted.locator("a[href='https://example.org/x']").inner_text() == "链接"
        assert await formatted.locator("code").inner_text() == "code"
        assert await formatted.locator(".spoiler").inner_text() == "剧透"
        assert "<script>alert(1)</script>" in await formatted.inner_text()
        assert await page.locator("#messages script, #messages img[src='x']").count() == 0
        assert await page.evaluate("document.body.dataset.owned") is None

        await bot("sendPhoto", files={"photo": jpeg(320, 240)}, chat_id=str(chat), caption="一张")
        pictures = {"a": jpeg(300, 200, (10, 200, 10)), "b": jpeg(300, 200, (10, 10, 200))}
        album = await bot("sendMediaGroup", files=pictures, chat_id=str(chat),
                          media=[{"type": "photo", "media": "attach://a", "caption": "两张"},
                                 {"type": "photo", "media": "attach://b"}])
        await bot("sendLocation", chat_id=chat, latitude=32.89, longitude=115.81)
        await bot("sendVenue", chat_id=chat, latitude=32.9161, longitude=115.8639, title="阜阳站",
                  address="颍东区 站前路")
        form = aiohttp.FormData()
        form.add_field("chat_id", str(chat))
        form.add_field("document", b"PK-ledger", filename="ledger.xlsx",
                       content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        async with bot.http.post(f"{bot.base}/sendDocument", data=form) as resp:
            assert (await resp.json())["ok"]
        download = page.locator("#messages a.doc", has_text="ledger.xlsx")
        await download.wait_for(timeout=WAIT_MS)
        assert await download.get_attribute("download") == "ledger.xlsx"
        assert await page.locator("#messages .msg.bot", has_text="一张").locator("img.photo").count() == 1
        assert await page.locator("#messages .msg.bot", has_text="两张").locator("img.photo").count() == 2
        assert await page.locator("#messages .location svg").count() == 2
        assert await page.locator("#messages .venue-title", has_text="阜阳站").count() == 1
        loaded = await page.evaluate(
            "Promise.all([...document.querySelectorAll('#messages img.photo')].map(i => i.decode().then(() => "
            "i.naturalWidth)))")
        assert all(width > 0 for width in loaded)  # the images really come from the sandbox

        # an inline button: the press reaches the bot, whose alert shows in the page
        await formatted.locator(".inline-keyboard button", has_text="确认").click()
        updates = await bot("getUpdates", timeout=5)
        query = next(u["callback_query"] for u in updates if "callback_query" in u)
        assert query["data"] == "ok"
        await bot("answerCallbackQuery", callback_query_id=query["id"], text="已确认！", show_alert=True)
        await page.locator("#alert-dialog[open]", has_text="已确认！").wait_for(timeout=WAIT_MS)
        await page.screenshot(path=str(ARTIFACTS / "rendering.png"))
        await page.click("#alert-ok")

        # edits happen in place, deletions remove
        message_id = query["message"]["message_id"]
        await bot("editMessageText", chat_id=chat, message_id=message_id, text="改过了")
        edited = page.locator(f"#messages [data-mid='{message_id}']", has_text="改过了")
        await edited.wait_for(timeout=WAIT_MS)
        assert await page.locator(f"#messages [data-mid='{message_id}']").count() == 1
        await bot("deleteMessage", chat_id=chat, message_id=message_id)
        await page.locator(f"#messages [data-mid='{message_id}']").wait_for(state="detached", timeout=WAIT_MS)

        # an album stays one bubble when a part of it is edited or deleted
        await bot("editMessageCaption", chat_id=chat, message_id=album[0]["message_id"], caption="两张（改）")
        bubble = page.locator("#messages .msg.bot", has_text="两张（改）")
        await bubble.wait_for(timeout=WAIT_MS)
        assert await bubble.locator("img.photo").count() == 2
        await bot("deleteMessage", chat_id=chat, message_id=album[1]["message_id"])
        await bubble.locator("img.photo").nth(1).wait_for(state="detached", timeout=WAIT_MS)
        assert await bubble.locator("img.photo").count() == 1
        assert await page.locator("#messages .msg", has_text="两张").count() == 1

        # a question with force_reply: what the person types next answers it
        asked = await bot("sendMessage", chat_id=chat, text="请回复办理结果：", reply_markup={"force_reply": True})
        await page.locator("#messages .msg.bot", has_text="请回复办理结果").wait_for(timeout=WAIT_MS)
        await page.fill("#text", "已修好")
        await page.press("#text", "Enter")
        answer = page.locator("#messages .msg.mine", has_text="已修好")
        await answer.locator(".quote", has_text="请回复办理结果").wait_for(timeout=WAIT_MS)
        [update] = [u for u in await bot("getUpdates", offset=updates[-1]["update_id"] + 1) if "message" in u]
        assert update["message"]["reply_to_message"]["message_id"] == asked["message_id"]
