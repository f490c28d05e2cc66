"""`complaint-bot sandbox --demo --stay`: the demo plays, then the sandbox keeps serving the web chat with it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


async def test_the_demo_stays_for_the_web_chat(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "sandbox", "--demo", "--stay", "--port", "0",
        "--db", str(tmp_path / "demo.sqlite3"), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(120):
            while not (found := re.search(r"The web chat shows the demo's chats: (http://\S+)/", "".join(seen))):
                line = await proc.stdout.readline()
                assert line, "".join(seen)[-3000:]
                seen.append(line.decode())
        url = found.group(1)
        assert f"Web chat:          {url}/" in "".join(seen)  # the welcome names the page first
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/_control/directory") as resp:
                listed = (await resp.json())["chats"]
            async with http.get(f"{url}/") as resp:
                assert resp.status == 200
            demo = next(c for c in listed if c["title"] == "李雷")
            async with http.get(f"{url}/_control/messages", params={"chat_id": demo["chat_id"]}) as resp:
                texts = [m.get("text", "") for m in await resp.json()]
        assert any("已完结" in t for t in texts)
        assert {"resident", "unit", "coordination", "supervision", "social_supervisor", "admin"} <= {
            c["kind"] for c in listed}
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
