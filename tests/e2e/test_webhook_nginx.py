"""The emulator delivers by webhook to nginx (the example config's upstream and location), nginx to one
instance of our webhook server: a resident files a complaint end to end through the proxy. (Several instances
need the shared PostgreSQL store; on SQLite one process owns the database.)"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.webhook import SECRET_HEADER
from sandbox.local import LocalSandbox
from storage import inbox, tickets
from tests.e2e.nginx import Nginx, free_port, running_nginx
from tests.e2e.talk import eventually
from tests.e2e.test_intake_happy import file_complaint


@pytest.fixture
def proxy(tmp_path: Path) -> tuple[Nginx, int]:
    instance = free_port()  # where our one instance listens, behind nginx
    with running_nginx(tmp_path / "nginx", [instance]) as nginx:
        yield nginx, instance


@pytest.fixture
async def local(config: Config, clock: FakeClock, proxy: tuple[Nginx, int]) -> AsyncIterator[LocalSandbox]:
    nginx, instance = proxy
    hook = dataclasses.replace(config.webhook, url=nginx.url, listen_host="127.0.0.1", listen_port=instance)
    async with LocalSandbox(config, clock=clock, webhook=hook) as sandbox:
        yield sandbox


async def test_a_complaint_filed_through_nginx(local: LocalSandbox, sb, proxy: tuple[Nginx, int]) -> None:
    nginx, _ = proxy
    assert (await local.runner.app.bot.get_webhook_info()).url == nginx.url  # Telegram posts to the proxy

    li = await sb.person("李雷", language_code="zh")
    number = await file_complaint(li)

    ticket = await local.db.read(lambda c: tickets.by_number(c, number))
    assert ticket is not None and ticket.state == "dispatched"
    async def all_done():
        rows = await local.db.read(inbox.rows)
        return rows if all(r["state"] == "done" for r in rows) else None

    rows = await eventually(all_done, what="every row marked done")  # marked just after the last reply
    assert len(rows) == 7
    posts = [line for line in nginx.access_log() if '"POST /telegram/webhook HTTP/1.1" 200' in line]
    assert len(posts) == len(rows)  # every update came through nginx, the secret header passed along

    async with aiohttp.ClientSession() as session:  # the instance, not nginx, checks the token
        async with session.post(nginx.url, json={"update_id": 1}, headers={SECRET_HEADER: "wrong"}) as resp:
            assert resp.status == 403
        async with session.get(nginx.url) as resp:
            assert resp.status == 403  # only POST is passed on
        async with session.post(nginx.url.replace("/telegram/webhook", "/other")) as resp:
            assert resp.status == 404
    assert len(await local.db.read(inbox.rows)) == 7
