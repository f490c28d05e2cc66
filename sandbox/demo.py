"""`complaint-bot sandbox --demo`: a scripted resident files a complaint, and the conversation is printed live."""

from __future__ import annotations

import html
import re

from bot.texts import Texts
from sandbox.client import Person
from sandbox.local import LocalSandbox

_TAG = re.compile(r"</?(?:b|i|code|u|s|a)(?:\s[^>]*)?>")
STATION = (32.8906, 115.8149)


def _plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


class _Narrator:
    """Prints what a person does and every message or edit the bot makes in the chat, as it happens."""

    def __init__(self, person: Person, chat: int | None = None, where: str = "") -> None:
        self.person = person
        self.chat = chat
        self.where = where

    def resident(self, what: str) -> None:
        print(f"\n👤 {self.person.user['first_name']}{self.where}: {what}", flush=True)

    def bot(self, message: dict) -> None:
        text = message.get("text") or message.get("caption") or ""
        buttons = [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                   for b in row]
        buttons += [b["text"] if isinstance(b, dict) else str(b)
                    for row in (message.get("reply_keyboard") or {}).get("keyboard", []) for b in row]
        print("🤖 " + text.replace("\n", "\n   "), flush=True)
        if buttons:
            print("   " + "  ".join(f"[{b}]" for b in buttons), flush=True)

    async def expect(self, contains: str) -> dict:
        message = await self.person.expect(contains, timeout=15, chat=self.chat)
        self.bot(message)
        return message


async def play(local: LocalSandbox) -> bool:
    """Walk a complaint from /new to its ticket number and /status, then the unit's liaison answers it and the
    resident rates the answer; True when it all worked."""
    texts = Texts()

    def t(key: str, **params: object) -> str:
        return _plain(texts.get("zh", key, **params))

    assert local.client is not None
    li = await local.client.person("李雷", language_code="zh")
    n = _Narrator(li)
    max_photos = local.config.intake.max_photos
    try:
        n.resident("/new")
        await li.say("/new")
        pages = -(-len(local.config.city.categories) // local.config.intake.categories_per_page)
        await n.expect(t("intake.ask_category", page=1, pages=pages).splitlines()[0])
        n.resident("按下 [城市管理]")
        await li.tap("城市管理")
        await n.expect(t("intake.category_chosen", category="城市管理"))
        await n.expect(t("intake.ask_location").splitlines()[0])
        n.resident(f"📍 发送位置 {STATION}")
        await li.share_location(*STATION)
        await n.expect(t("intake.location_received"))
        n.resident("🖼  发送一张照片")
        await li.send_photo(_demo_photo())
        await n.expect(t("intake.photo_received", count=1, max=max_photos))
        n.resident(f"按下 [{t('intake.btn_done')}]")
        await li.say(t("intake.btn_done"))
        await n.expect(t("intake.ask_description", min=local.config.intake.description_min_chars,
                         max=local.config.intake.description_max_chars).splitlines()[0])
        description = "阜阳站北广场的路灯白天一直亮着，晚上却不亮，已经一个星期了。"
        n.resident(description)
        await li.say(description)
        await n.expect(t("intake.summary").splitlines()[0])
        n.resident(f"按下 [{t('intake.btn_confirm')}]")
        await li.tap(t("intake.btn_confirm"))
        registered = t("notice.registered", number="", raw_number="", category="", dispatched="")
        confirmation = await n.expect(registered.splitlines()[0])
        number = re.search(r"\d{3} \d{3} \d{3}", confirmation["text"])
        if number is None:
            return False
        raw = number.group(0).replace(" ", "")
        n.resident(f"/status {raw}")
        await li.say(f"/status {raw}")
        await n.expect(number.group(0))
        await _liaison_answers(local, t, number.group(0), n, li)
    except AssertionError as error:
        print(f"\n✗ the demo did not complete: {error}", flush=True)
        return False
    print(f"\n✓ complaint filed as {number.group(0)}; the database is {local.config.storage.database}", flush=True)
    return True


async def _liaison_answers(local: LocalSandbox, t, shown: str, n: _Narrator, li: Person) -> None:
    """The unit's liaison signs for the case in the group chat and answers it; the resident rates the answer."""
    assert local.client is not None
    ticket = await local.runner.services.lookup.status(shown)  # type: ignore[union-attr]
    unit = ticket.ticket.unit
    group = next(g for g in local.config.city.groups if g.unit == unit)
    chat_id = local.groups[group.key]["id"]
    liaison = Person(local.client, local.liaisons[group.key], None, 0)
    g = _Narrator(liaison, chat_id, f"（{group.title}）")
    print(f"\n——— {group.title} ———", flush=True)
    await g.expect(f"工单 {shown}")
    g.resident("按下 [签收]")
    await liaison.tap("签收", chat=chat_id)
    await n.expect(t("notify.accepted", number=shown, unit=local.config.city.unit(unit).name("zh")))
    g.resident("按下 [办结]")
    await liaison.tap("办结", chat=chat_id)
    await g.expect(t("ask.resolve_answer"))
    answer = "已安排维修人员更换了路灯控制器，今晚起恢复正常。"
    g.resident(answer)
    await liaison.say(answer, chat=chat_id)
    await g.expect(t("done.resolved"))
    await n.expect(answer)
    n.resident(f"按下 [{t('rates.btn_solved')}]，再按 [{t('rates.btn_satisfied')}]")
    await li.tap(t("rates.btn_solved"))
    await li.tap(t("rates.btn_satisfied"))
    await n.expect(t("notify.closed", number=shown))


def _demo_photo() -> bytes:
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (30, 40, 60))
    draw = ImageDraw.Draw(image)
    draw.rectangle((380, 100, 420, 560), fill=(120, 120, 120))
    draw.ellipse((360, 60, 440, 120), fill=(250, 230, 120))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
