"""`complaint-bot backup` while residents file tickets, and `restore` into a bot that carries on from the copy."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

from bot.cli import main
from bot.clock import FakeClock
from bot.domain.numbers import format_number
from sandbox.local import LocalSandbox
from storage import tickets
from tests.cli.test_cli import config_text
from tests.e2e.talk import eventually, zh
from tests.e2e.test_handling import YINGZHOU, chat, file

UNIT_GROUP = "yingzhou_liaison"


def snapshot(path: Path) -> dict[str, list[tuple]]:
    """What must survive: every ticket, every event, every outbox row still owed."""
    conn = sqlite3.connect(path)
    try:
        return {
            "tickets": conn.execute("SELECT * FROM tickets ORDER BY id").fetchall(),
            "events": conn.execute("SELECT * FROM events ORDER BY id").fetchall(),
            "pending": conn.execute("SELECT * FROM outbox WHERE status = 'pending' ORDER BY id").fetchall(),
        }
    finally:
        conn.close()


async def cli(*args: str) -> tuple[int, str, str]:
    """`complaint-bot ARGS` as a separate process, as an operator runs it next to the bot."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_backup_under_write_load_restores_into_a_working_bot(
        local: LocalSandbox, sb, clock: FakeClock, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path), encoding="utf-8")
    database = Path(local.config.storage.database)
    # The unit's group answers 429 for an hour (the clock stands still): its cards stay owed in the outbox.
    await sb.fault("429", method="sendMessage", chat_id=chat(local, UNIT_GROUP), retry_after=3600)
    residents = [await sb.person(f"居民{i}") for i in range(3)]
    confirmed: list[str] = []
    copied = asyncio.Event()

    async def writer(person) -> None:
        """Files tickets until the copy is done (and at least two each)."""
        n = 0
        while n < 2 or not copied.is_set():
            confirmed.append(await file(person, "房产物业", YINGZHOU, f"楼道的灯坏了第{n}次，晚上看不见路，请尽快修。"))
            n += 1

    load = [asyncio.create_task(writer(p)) for p in residents]
    await eventually(lambda: asyncio.sleep(0, len(confirmed) >= 2), timeout=30, what="two tickets filed")
    seen_before = list(confirmed)
    code, out, err = await cli("backup", "--config", str(config), "--to", str(tmp_path / "copy.sqlite3"))
    during = len(confirmed) - len(seen_before)
    still_writing = not any(task.done() for task in load)
    copied.set()
    await asyncio.gather(*load)
    assert code == 0, err
    assert "integrity check ok" in out
    assert still_writing  # the residents filed tickets all the while the copy was made
    backup = snapshot(tmp_path / "copy.sqlite3")
    numbers = {row[1] for row in backup["tickets"]}
    assert set(seen_before) <= numbers, during  # every ticket a resident saw confirmed before the backup began
    assert numbers <= set(confirmed)
    assert backup["pending"], "the unit's cards were still owed when the copy was taken"
    filed = len(confirmed)

    # A running bot's database is never overwritten.
    code, _, err = await cli("restore", "--config", str(config), "--from", str(tmp_path / "copy.sqlite3"))
    assert code == 2 and "in use by a running bot" in err
    assert len(snapshot(database)["tickets"]) == filed

    await local.stop_bot()
    assert main(["restore", "--config", str(config), "--from", str(tmp_path / "copy.sqlite3")]) == 0
    assert snapshot(database) == backup
    assert Path(f"{database}.before-restore").exists()  # the replaced file is kept aside

    await local.start_bot()
    clock.advance(3601)
    local.runner.outbox.kick()
    owed = [row[0] for row in backup["pending"]]

    async def delivered() -> bool:
        rows = snapshot(database)["pending"]
        return not {r[0] for r in rows} & set(owed)

    await eventually(delivered, timeout=30, what="the owed cards delivered by the restored bot")
    group_texts = [m.get("text") or "" for m in await sb.messages(chat(local, UNIT_GROUP))]
    for number in numbers:
        assert any(format_number(number) in t for t in group_texts), f"no card for {number}"
    someone = await sb.person("韩梅梅")
    first = sorted(numbers)[0]
    await someone.say(f"/status {first}")
    reply = await someone.expect(format_number(first))
    assert zh("state.dispatched") in reply["text"]
    ticket = await local.db.read(lambda c: tickets.by_number(c, first))
    assert ticket is not None and ticket.state == "dispatched"


def test_restore_refuses_a_file_that_is_not_our_database(tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path), encoding="utf-8")
    assert main(["migrate", "--config", str(config)]) == 0
    before = (tmp_path / "bot.sqlite3").read_bytes()
    text = tmp_path / "notes.txt"
    text.write_text("not a database", encoding="utf-8")
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE tickets (id INTEGER)")
    conn.commit()
    conn.close()
    for bad, why in ((text, "not an SQLite database"), (other, "not a complaint-bot database"),
                     (tmp_path / "missing.sqlite3", "no such file")):
        assert main(["restore", "--config", str(config), "--from", str(bad)]) == 2
        assert why in capsys.readouterr().err
    assert (tmp_path / "bot.sqlite3").read_bytes() == before


def test_backup_refuses_to_overwrite_a_file(tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path), encoding="utf-8")
    assert main(["migrate", "--config", str(config)]) == 0
    (tmp_path / "copy.sqlite3").write_text("keep me", encoding="utf-8")
    assert main(["backup", "--config", str(config), "--to", str(tmp_path / "copy.sqlite3")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "copy.sqlite3").read_text(encoding="utf-8") == "keep me"


def test_restore_refuses_a_damaged_backup_and_keeps_the_database(tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path), encoding="utf-8")
    assert main(["migrate", "--config", str(config)]) == 0
    copy = tmp_path / "copy.sqlite3"
    assert main(["backup", "--config", str(config), "--to", str(copy)]) == 0
    data = bytearray(copy.read_bytes())
    page = 4096
    data[3 * page:5 * page] = b"\xff" * (2 * page)  # two pages of the schema's tables overwritten
    copy.write_bytes(bytes(data))
    before = (tmp_path / "bot.sqlite3").read_bytes()
    assert main(["restore", "--config", str(config), "--from", str(copy)]) == 2
    assert "refused" in capsys.readouterr().err
    assert (tmp_path / "bot.sqlite3").read_bytes() == before
    assert not list(tmp_path.glob("*.restoring*")) and not list(tmp_path.glob("*.partial"))
