"""Headless Debian Chromium for the browser tests, driven by Playwright's Python package (never
``playwright install``: the browser is the system's, nothing is downloaded at run time)."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Screenshots of each role's chat (git-ignored); docs/ holds copies of a few.
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def skip_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (python3 -m pip install 'playwright>=1.40,<2')"
    return None


@contextlib.asynccontextmanager
async def chromium_page(url: str, width: int = 1100, height: int = 820) -> AsyncIterator[Any]:
    """A page of a fresh headless Chromium (its own user-data-dir) on the web chat, ready to use."""
    from playwright.async_api import async_playwright

    profile = tempfile.mkdtemp(prefix="webchat-chromium-")
    try:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), args=ARGS, headless=True,
                viewport={"width": width, "height": height}, locale="zh-CN")
            errors: list[str] = []
            try:
                page = context.pages[0] if context.pages else await context.new_page()
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                await page.goto(f"{url}/")
                await page.wait_for_selector("body[data-ready=true]")
                yield page
            finally:
                await context.close()
            assert not errors, f"errors in the page: {errors}"
    finally:
        shutil.rmtree(profile, ignore_errors=True)
