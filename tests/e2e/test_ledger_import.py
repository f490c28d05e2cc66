"""A hotline ledger imported while the bot runs (the CLI's own path, its own database connection): the open case's
card reaches the unit's liaison chat and its deadline runs from when the hotline received it (the reminder comes
on that clock); the finished case is in the report and the ledger with no message sent; a re-import adds
nothing; the report breaks the figures down by channel. On SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.cli_import import import_file, mapping_for
from bot.clock import FakeClock
from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from storage import imports, tickets
from tests.e2e.talk import eventually, first_line, zh
from tests.e2e.test_deadlines import _outbox_idle, local_time, sweeper_of
from tests.e2e.test_handling import chat, liaison
from tests.unit.test_ledger_import import EXAMPLES, HEADER

pytestmark = pytest.mark.backends  # run on SQLite and on PostgreSQL (tests/e2e/conftest.py)

OPEN = ["FY-OPEN-1", "2026-03-02 09:00:00", "小区楼道灯坏了很久，晚上看不见。", "颍州区西湖大道12号", "物业管理",
        "颍州区政府", "办理中", "", "", ""]
FINISHED = ["FY-DONE-1", "2026-03-02 08:40:00", "路口垃圾桶满了三天没人清运，气味很大。", "颍州区清河路", "市容环卫",
            "颍州区", "已办结", "2026-03-02 09:30:00", "已安排环卫车清运。", "满意"]


async def _download(local: LocalSandbox, file_id: str) -> bytes:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        base = f"{local.sandbox.bot_base_url}{local.token}"
        async with http.get(f"{base}/getFile", params={"file_id": file_id}) as r:
            path = (await r.json())["result"]["file_path"]
        async with http.get(f"{local.sandbox.file_base_url}{local.token}/{path}") as r:
            return await r.read()


async def test_an_imported_ledger_enters_the_workflow_and_the_reports(local: LocalSandbox, sb, clock: FakeClock,
                                                                      tmp_path: Path) -> None:
    clock.set(local_time(2, 10))  # Monday 10:00; the open case came in by phone at 09:00
    ledger = tmp_path / "fy12345.csv"
    with open(ledger, "w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows([HEADER, OPEN, FINISHED])
    unit_chat = chat(local, "yingzhou_liaison")
    a = await liaison(local, "yingzhou_liaison")  # watching before the import: its card may go out at once
    config = local.config
    mapping = mapping_for(config, EXAMPLES / "fy12345.mapping.toml")
    result = await import_file(config, config.storage.database, ledger, mapping, clock=clock)
    assert (result.open, result.finished, result.known, result.refused) == (1, 1, 0, [])

    def numbers(c):  # type: ignore[no-untyped-def]
        return [tickets.get(c, imports.ticket_of(c, "fy12345", ref)) for ref in ("FY-OPEN-1", "FY-DONE-1")]

    opened, done = await local.db.read(numbers)
    assert opened.sign_due_at == local_time(2, 15, 30)  # 4 working hours from 09:00, not from the import at 10:00
    card = await a.expect(f"工单 {format_number(opened.number)}", chat=unit_chat)
    assert "楼道灯" in card["text"]

    clock.set(local_time(2, 11, 1))  # 2 working hours before 15:30 (from the import time it would be 16:30+)
    assert (await sweeper_of(local).sweep()).reminders == 1
    reminder = await a.expect(first_line("zh", "remind.soon_header", count=1), chat=unit_chat)
    assert format_number(opened.number) in reminder["text"]

    again = await import_file(config, config.storage.database, ledger, mapping, clock=clock)
    assert (again.imported, again.known) == (0, 2)

    supervisor = await liaison(local, "supervision")
    sup_chat = chat(local, "supervision")
    await supervisor.say("/report 2026-03-02 2026-03-02", chat=sup_chat)
    text = await supervisor.expect("诉求办理情况报告", chat=sup_chat, timeout=30)
    assert zh("report.channels_heading") in text["text"]
    assert zh("report.channel_client_line", channel=zh("report.channel_import"), client="fy12345", received=2,
              satisfaction="100.0%") in text["text"]

    async def ledger_file() -> list[dict]:
        return [m for m in await sb.messages(sup_chat) if m.get("outgoing") and "document" in m]

    document = (await eventually(ledger_file, timeout=30, what="the ledger"))[0]
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(await _download(local, document["document"]["file_id"])),
                              read_only=True)["台账"].iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == sorted([opened.number, done.number])

    await eventually(lambda: _outbox_idle(local), what="the outbox to drain")
    shown = format_number(done.number)
    for group in local.groups:
        said = [m for m in await sb.messages(chat(local, group))
                if m.get("outgoing") and shown in (m.get("text") or "")]
        assert not said, f"the finished case was announced in {group}"
    said = [m for m in await sb.messages(unit_chat) if m.get("outgoing")
            and format_number(opened.number) in (m.get("text") or "")]
    assert len(said) == 2  # the card and the reminder, nothing again after the re-import
