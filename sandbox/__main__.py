"""``python -m sandbox --port 8081``: run the Bot API emulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from sandbox.server import Sandbox


async def _serve(host: str, port: int) -> None:
    sandbox = Sandbox()
    await sandbox.start(host, port)
    print(f"sandbox listening on {sandbox.url}  (bot base_url {sandbox.bot_base_url})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Telegram Bot API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
