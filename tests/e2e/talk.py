"""Helpers for end-to-end tests: catalogue texts as the person sees them (HTML tags parsed away)."""

from __future__ import annotations

import html
import re

from bot.texts import Texts

_TEXTS = Texts()
_TAG = re.compile(r"</?(?:b|i|code|u|s|a)(?:\s[^>]*)?>")


def plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def say(lang: str, key: str, **params: object) -> str:
    """The catalogue text for `key` as the person reads it."""
    return plain(_TEXTS.get(lang, key, **params))


def first_line(lang: str, key: str, **params: object) -> str:
    return say(lang, key, **params).splitlines()[0]


def zh(key: str, **params: object) -> str:
    return say("zh", key, **params)


def en(key: str, **params: object) -> str:
    return say("en", key, **params)


async def rate(person, solved: str = "solved", satisfaction: str = "satisfied", lang: str = "zh"):
    """Answer the rating's two questions (bot.domain.rating values), one tap each; returns the second answer."""
    await person.tap(say(lang, f"rates.btn_{solved}"))
    return await person.tap(say(lang, f"rates.btn_{satisfaction}"))


NUMBER = re.compile(r"\b(\d{3} \d{3} \d{3})\b")


def number_in(text: str) -> str:
    found = NUMBER.search(text)
    assert found, f"no ticket number in {text!r}"
    return found.group(1).replace(" ", "")


async def eventually(probe, timeout: float = 10.0, what: str = "condition"):
    """Wait (by polling, briefly) until `await probe()` is truthy; for effects with no event to wait on."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _category_pages() -> int:
    import math
    from pathlib import Path

    from bot.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[2] / "config.example.toml")
    return math.ceil(len(cfg.city.categories) / cfg.intake.categories_per_page)


#: How many pages the example city's category buttons take (the prompt says "page x/PAGES").
PAGES = _category_pages()


async def to_summary(person, category: str, point: tuple[float, float], description: str,
                     page2: bool = False) -> None:
    """A scripted resident's /new up to the summary: a category (on page 2 if asked), a shared point, no photos,
    the description."""
    await person.say("/new")
    await person.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
    if page2:
        await person.tap(zh("intake.btn_next"))
        await person.expect(first_line("zh", "intake.ask_category", page=2, pages=PAGES))
    await person.tap(category)
    await person.expect(first_line("zh", "intake.ask_location"))
    await person.share_location(*point)
    await person.expect(zh("intake.location_received"))
    await person.say(zh("intake.btn_no_photos"))
    await person.say(description)
    await person.expect(first_line("zh", "intake.summary"))
