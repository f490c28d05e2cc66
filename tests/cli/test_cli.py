"""The `complaint-bot` command as an operator meets it: a bad config, and `run` against a Bot API server."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.cli import EXIT_CONFIG, main
from sandbox.client import SandboxClient
from sandbox.server import Sandbox
from tests.e2e.talk import PAGES, first_line

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "777:cli_test_token_abcdefghijklmnop"


def config_text(tmp_path: Path, base: str = "https://api.telegram.org", storage: str | None = None) -> str:
    """The example config made runnable in `tmp_path`; `storage` (a path or a postgresql:// URL) replaces the
    default SQLite file there."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('city = "examples/fuyang/city.toml"', f'city = "{ROOT / "examples/fuyang/city.toml"}"')
    text = text.replace('base_url = "https://api.telegram.org/bot"', f'base_url = "{base}/bot"')
    text = text.replace('base_file_url = "https://api.telegram.org/file/bot"', f'base_file_url = "{base}/file/bot"')
    text = text.replace('poll_timeout_s = 30', 'poll_timeout_s = 1')
    return text.replace('url = "data/complaint-bot.sqlite3"', f'url = "{storage or tmp_path / "bot.sqlite3"}"')


def test_a_bad_config_stops_with_one_line_and_exit_code_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "city.toml"
    bad.write_text(config_text(tmp_path).replace("max_photos = 6", 'max_photos = "six"'), encoding="utf-8")
    assert main(["migrate", "--config", str(bad)]) == EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "city.toml" in err and "intake.max_photos" in err and "six" in err


def test_run_without_a_token_says_which_variable(tmp_path: Path, capsys, monkeypatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path), encoding="utf-8")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["run", "--config", str(path)]) == EXIT_CONFIG
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_migrate_creates_the_database(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path), encoding="utf-8")
    assert main(["migrate", "--config", str(path)]) == 0
    assert (tmp_path / "bot.sqlite3").exists()


async def test_run_serves_any_bot_api_server_given_its_base_url(tmp_path: Path) -> None:
    """`complaint-bot run` as a separate process, pointed at a Bot API server only by its config."""
    server = Sandbox()
    await server.start(port=0)
    try:
        path = tmp_path / "config.toml"
        path.write_text(config_text(tmp_path, server.url), encoding="utf-8")
        async with SandboxClient(server.url, token=TOKEN) as client:
            await client.create_bot(TOKEN, username="cli_bot")
            env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", "--config", str(path), env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                resident = await client.person("李雷")
                await resident.say("/start")
                await resident.expect(first_line("zh", "start.welcome", city="阜阳市"), timeout=30)
                await resident.say("/new")
                await resident.expect(first_line("zh", "intake.ask_category", page=1, pages=PAGES))
            finally:
                proc.send_signal(signal.SIGTERM)
                _, stderr = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, stderr.decode()
        log = stderr.decode()
        assert TOKEN not in log and TOKEN.split(":")[1] not in log, "the token must never reach the log"
        assert "/new" not in log, "message texts must not reach the log at INFO"
    finally:
        await server.stop()


async def test_the_sandbox_demo_completes_a_complaint(tmp_path: Path) -> None:
    """The README's first command: the sandbox with the example city, a scripted resident, a liaison."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "sandbox", "--demo", "--port", "0", "--db", str(tmp_path / "demo.sqlite3"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    output, _ = await asyncio.wait_for(proc.communicate(), 120)
    text = output.decode()
    assert proc.returncode == 0, text[-3000:]
    assert "✓ complaint filed as" in text
    for shown in ("第 1 步", "工单编号", "签收", "已办结您的工单", "已完结"):
        assert shown in text, shown
