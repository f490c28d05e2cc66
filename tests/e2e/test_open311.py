"""Open311 end to end: a client's POST becomes a ticket whose card reaches the unit's liaison chat in the sandbox;
the liaison signs for it and resolves it through the real bot; GET requests/{id} then says closed in plain words
and servicerequestupdates lists each step with a stable update_id. The contact the client gave appears in no
API answer and in no message of any chat."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import aiohttp
import pytest

from bot.api.server import key_digest
from bot.config import Config, Open311Client
from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from storage import contacts, tickets
from tests.e2e.conftest import e2e_config
from tests.e2e.talk import zh
from tests.e2e.test_handling import chat, liaison
from tests.images import jpeg_with_gps

KEY = "e2e-key-of-fixmystreet"
YINGZHOU = (32.8830, 115.8120)  # 颍州区
CONTACT = {"email": "li.lei@example.cn", "first_name": "雷", "last_name": "李", "phone": "13800138000",
           "device_id": "phone-5", "account_id": "fms-user-9"}
CONTACT_WORDS = ("li.lei@example.cn", "李雷", "13800138000", "phone-5", "fms-user-9")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    cfg = e2e_config(tmp_path)
    return dataclasses.replace(cfg, open311=dataclasses.replace(
        cfg.open311, enabled=True, port=0, clients=(Open311Client("fixmystreet", key_digest(KEY)),)))


async def test_a_post_is_handled_by_the_unit_and_followed_through_the_api(local: LocalSandbox, sb) -> None:
    assert local.runner is not None and local.runner.api is not None and local.runner.api.url
    url = local.runner.api.url
    payloads: list[str] = []
    async with aiohttp.ClientSession() as http:
        async def call(method: str, path: str, **kw) -> tuple[int, str]:
            async with http.request(method, url + path, **kw) as r:
                text = await r.text()
                payloads.append(text)
                return r.status, text

        form = aiohttp.FormData()
        for name, value in {"api_key": KEY, "service_code": "municipal", "lat": str(YINGZHOU[0]),
                            "long": str(YINGZHOU[1]), "attribute[facility]": "manhole",
                            "description": "人民路口的井盖丢了，晚上很危险。", **CONTACT}.items():
            form.add_field(name, value)
        form.add_field("media", jpeg_with_gps(*YINGZHOU), filename="hole.jpg", content_type="image/jpeg")
        status, text = await call("POST", "/requests.json", data=form)
        assert status == 200, text
        number = json.loads(text)[0]["service_request_id"]
        shown = format_number(number)

        # the card reaches 颍州区's liaison chat like a resident's, with the answer and the photo, without the contact
        unit = await liaison(local, "yingzhou_liaison")
        unit_chat = chat(local, "yingzhou_liaison")
        card = await unit.expect(f"工单 {shown}", chat=unit_chat)
        assert "井盖丢了" in card["text"] and "哪一类设施？井盖" in card["text"]
        buttons = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons == ["签收", "退回", "建议并单"]
        assert any("photo" in m for m in await sb.messages(unit_chat))

        # the liaison signs for it and resolves it
        await unit.tap("签收", chat=unit_chat)
        await unit.expect(f"工单 {shown}", chat=unit_chat)
        status, text = await call("GET", f"/requests/{number}.json")
        assert json.loads(text)[0]["status"] == "open"
        assert json.loads(text)[0]["status_notes"] == zh("open311.note_accepted")
        await unit.tap("办结", chat=unit_chat)
        await unit.expect(zh("ask.resolve_answer"), chat=unit_chat)
        await unit.say("井盖已补装，并加装了防坠网。", chat=unit_chat)
        await unit.expect(zh("done.resolved"), chat=unit_chat)

        # GET requests/{id}: closed, in plain words, the unit named; in XML too
        status, text = await call("GET", f"/requests/{number}.json")
        (request,) = json.loads(text)
        assert status == 200 and (request["status"], request["status_notes"]) == (
            "closed", zh("open311.note_resolved"))
        assert request["agency_responsible"] == "颍州区" and request["service_code"] == "municipal"
        status, text = await call("GET", f"/requests/{number}.xml")
        assert status == 200 and "<status>closed</status>" in text

        # servicerequestupdates: every public step, each with a stable update_id
        period = {"start_date": "2026-03-01T00:00:00+08:00", "end_date": "2026-03-03T00:00:00+08:00"}
        status, text = await call("GET", "/servicerequestupdates.json", params=period)
        updates = [u for u in json.loads(text) if u["service_request_id"] == number]
        assert [u["status"] for u in updates] == ["open", "open", "in_progress", "fixed"]
        assert updates[-1]["description"] == zh("open311.note_resolved")
        status, again = await call("GET", "/servicerequestupdates.xml", params=period)
        ids = [u["update_id"] for u in updates]
        assert len(set(ids)) == 4 and all(f"<update_id>{i}</update_id>" in again for i in ids)

    t = await local.db.read(lambda c: tickets.by_number(c, number))
    events = await local.db.read(lambda c: tickets.events(c, t.id, public_only=True))
    assert ids == [str(e.id) for e in events]  # the update ids are our events' ids
    assert (t.state, t.channel, t.channel_client) == ("resolved", "open311", "fixmystreet")
    assert (await local.db.read(lambda c: contacts.get(c, t.id))).phone == "13800138000"  # kept for operators

    # the contact is in no API answer and in no message of any chat
    for payload in payloads:
        assert not any(word in payload for word in CONTACT_WORDS), payload
    for group in local.groups:
        for message in await sb.messages(chat(local, group)):
            words = json.dumps(message, ensure_ascii=False)
            assert not any(word in words for word in CONTACT_WORDS), (group, message)
