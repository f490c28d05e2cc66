"""`complaint-bot api-key NAME` and `complaint-bot api --config …` as an operator meets them: a key printed once
with the config lines that hold its hash, and the API served alone on the bot's database."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import sqlite3
import sys
from pathlib import Path

import aiohttp

from bot.cli import EXIT_CONFIG, main
from tests.cli.test_cli import ROOT, config_text


def _new_key(capsys, name: str = "fixmystreet") -> tuple[str, str]:
    assert main(["api-key", name]) == 0
    out = capsys.readouterr().out
    key = re.search(r"^    (\S+)$", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    lines = out[out.index(f"[open311.clients.{name}]"):].strip()
    return key, lines


def test_api_key_prints_a_new_key_once_and_only_its_hash_goes_in_the_config(capsys) -> None:
    key, lines = _new_key(capsys)
    digest = hashlib.sha256(key.encode()).hexdigest()
    assert lines == f'[open311.clients.fixmystreet]\nkey_sha256 = "{digest}"'
    other, _ = _new_key(capsys)
    assert other != key and len(key) >= 40
    assert main(["api-key", "Not A Name"]) == EXIT_CONFIG
    assert "lowercase" in capsys.readouterr().err


def test_a_bad_client_in_the_config_is_one_line_and_exit_code_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path) + '\n[open311.clients.app]\nkey_sha256 = "secret"\n', encoding="utf-8")
    assert main(["migrate", "--config", str(path)]) == EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "open311.clients.app.key_sha256" in err and "SHA-256" in err


async def test_the_api_runs_alone_on_the_bots_database(tmp_path: Path, capsys) -> None:
    key, lines = _new_key(capsys)
    path = tmp_path / "config.toml"
    text = config_text(tmp_path).replace("enabled = false", "enabled = true").replace("port = 8311", "port = 0")
    path.write_text(text + "\n" + lines + "\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "api", "--config", str(path), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        url = re.search(r"(http://\S+)/services\.xml", line).group(1)  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/services.json") as r:
                assert r.status == 200 and any(s["service_code"] == "municipal" for s in await r.json())
            form = {"api_key": key, "service_code": "housing", "address_string": "阜阳站", "description": "电梯坏了。"}
            async with http.post(f"{url}/requests.json", data=form) as r:
                assert r.status == 200, await r.text()
                number = json.loads(await r.text())[0]["service_request_id"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, stderr.decode()
    assert key not in stderr.decode()
    conn = sqlite3.connect(tmp_path / "bot.sqlite3")
    try:
        row = conn.execute("SELECT channel, channel_client FROM tickets WHERE number = ?", (number,)).fetchone()
    finally:
        conn.close()
    assert row == ("open311", "fixmystreet")
