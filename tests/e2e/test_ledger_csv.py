"""/report FROM TO csv in the supervision group: one "being prepared" message, the text and the chart as always,
and the ledger as a CSV document (UTF-8 with a BOM, the catalogue's headers, a row per ticket) instead of the
.xlsx."""

from __future__ import annotations

import csv
import io

import pytest

from bot.clock import FakeClock
from bot.reports.ledger import LEDGER_HEADERS
from bot.texts import Texts
from sandbox.local import LocalSandbox
from tests.e2e.talk import eventually, zh
from tests.e2e.test_deadlines import local_time
from tests.e2e.test_handling import YINGZHOU, chat, file, liaison

pytestmark = pytest.mark.backends  # run on SQLite and on PostgreSQL (tests/e2e/conftest.py)


async def test_report_with_csv_brings_the_ledger_as_csv(local: LocalSandbox, sb, clock: FakeClock) -> None:
    clock.set(local_time(2, 10))
    resident = await sb.person("韩梅梅")
    await file(resident, "房产物业", YINGZHOU, "楼道灯坏了两个星期，物业一直说等配件。")
    await file(resident, "城市管理", YINGZHOU, "=HYPERLINK(\"x\") 路口井盖缺失，晚上很危险。")
    clock.set(local_time(4, 9))
    supervisor = await liaison(local, "supervision")
    sup_chat = chat(local, "supervision")
    await supervisor.say("/report 2026-03-01 2026-03-03 csv", chat=sup_chat)
    await supervisor.expect(zh("report.generating", start="2026-03-01", end="2026-03-03"), chat=sup_chat)

    async def files() -> list[dict]:
        found = [m for m in await sb.messages(sup_chat) if m.get("outgoing") and ("photo" in m or "document" in m)]
        return found if len(found) >= 2 else []

    found = await eventually(files, timeout=30, what="chart and ledger")
    documents = [m for m in found if "document" in m]
    assert len(documents) == 1 and documents[0]["document"]["file_name"].endswith(".csv")
    preparing = [m for m in await sb.messages(sup_chat)
                 if m.get("outgoing") and m.get("text") == zh("report.generating", start="2026-03-01",
                                                                 end="2026-03-03")]
    assert len(preparing) == 1  # one "being prepared" message, no stream of edits
    token = local.token
    async with __import__("aiohttp").ClientSession() as http:
        params = {"file_id": documents[0]["document"]["file_id"]}
        async with http.get(f"{local.sandbox.bot_base_url}{token}/getFile", params=params) as r:
            path = (await r.json())["result"]["file_path"]
        async with http.get(f"{local.sandbox.file_base_url}{token}/{path}") as r:
            data = await r.read()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0] == [Texts().get("zh", f"report.{h}") for h in LEDGER_HEADERS]
    descriptions = sorted(r[LEDGER_HEADERS.index("col_description")] for r in table[1:])
    assert descriptions == ["'=HYPERLINK(\"x\") 路口井盖缺失，晚上很危险。", "楼道灯坏了两个星期，物业一直说等配件。"]
    assert {r[LEDGER_HEADERS.index("col_district")] for r in table[1:]} == {"颍州区"}
