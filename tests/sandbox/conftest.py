"""Fixtures: a sandbox running in the test's event loop, its control client, and a raw Bot API caller."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from PIL import Image

from sandbox.client import SandboxClient
from sandbox.server import Sandbox

TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
OTHER_TOKEN = "654321:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

Call = Callable[..., Awaitable[tuple[int, dict[str, Any]]]]


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox()
    await sb.start()
    yield sb
    await sb.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.url, token=TOKEN) as sb:
        await sb.create_bot(TOKEN, username="test_complaint_bot")
        yield sb


@pytest.fixture
def call(sandbox: Sandbox, http: aiohttp.ClientSession) -> Call:
    """``await call("sendMessage", chat_id=1, text="x")`` → (HTTP status, JSON body), sent like PTB does:
    urlencoded form with structured values JSON-encoded. ``_token=`` overrides the bot, ``_json=True`` sends JSON."""

    async def _call(method: str, _token: str = TOKEN, _json: bool = False, **params: Any) -> tuple[int, Any]:
        url = f"{sandbox.bot_base_url}{_token}/{method}"
        if _json:
            kwargs: dict[str, Any] = {"json": params}
        else:
            kwargs = {"data": {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}}
        async with http.post(url, **kwargs) as resp:
            text = await resp.text()
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text  # e.g. the HTML of a 502 from "nginx"

    return _call


def make_jpeg(size: tuple[int, int] = (64, 48), gps: bool = False, color: str = "red") -> bytes:
    """A JPEG, optionally carrying a GPS EXIF block (IFD 0x8825) with a position in Fuyang."""
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "SandboxCam"  # Make
    if gps:
        exif[0x8825] = {1: "N", 2: (32.0, 53.0, 24.0), 3: "E", 4: (115.0, 48.0, 36.0)}
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()
