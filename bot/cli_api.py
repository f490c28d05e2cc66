"""`complaint-bot api --config city.toml`: the Open311 API alone, on the bot's database (the running bot's
outbox sender sends the cards its tickets cause); `complaint-bot api-key NAME`: a new client key, printed once,
with the config lines that hold its hash.

Wiring (in bot/cli.py): ``cli_api.register(sub)`` in ``_parser()``; in ``main()``, ``api-key`` needs no config
(``cli_api.run_key(args)``) and ``api`` runs inside the ``try`` (``cli_api.run(args)``; a bad config raises
ConfigError).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path

from bot.config import KEY_MAX_LENGTH, KEY_PATTERN, load_config
from bot.stop_signal import until_stop_signal

COMMANDS = ("api", "api-key")


def register(subparsers: argparse._SubParsersAction) -> None:
    api = subparsers.add_parser("api", help="serve the Open311 GeoReport v2 API alone (without the Telegram bot)")
    api.add_argument("--config", required=True, type=Path)
    key = subparsers.add_parser("api-key", help="make a new Open311 client key: prints it once, and its config line")
    key.add_argument("name", help="the client's name (lowercase letters, digits, _), recorded on its tickets")


def new_key() -> str:
    return secrets.token_urlsafe(32)


def run_key(args: argparse.Namespace) -> int:
    from bot.api.server import key_digest

    name = args.name
    if not KEY_PATTERN.fullmatch(name) or len(name) > KEY_MAX_LENGTH:
        print(f"complaint-bot: api-key: the name must be lowercase letters, digits and _ (starting with a letter, "
              f"at most {KEY_MAX_LENGTH}), got {name!r}", file=sys.stderr)
        return 2
    key = new_key()
    print(f"The key of client {name!r} (give it to the client; it is not stored anywhere, and cannot be shown "
          "again):\n")
    print(f"    {key}\n")
    print("Add these lines to the config file (only the key's SHA-256 is kept):\n")
    print(f"[open311.clients.{name}]")
    print(f'key_sha256 = "{key_digest(key)}"')
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from bot.api.server import ApiServer
    from bot.clock import SystemClock
    from bot.services import Services
    from storage.db import Database

    config = load_config(args.config)
    db = await Database.open(config.storage.database)
    server = ApiServer(Services.build(config, db, SystemClock()))
    try:
        url = await server.start()
        print(f"Open311 API: {url}/services.xml   Stop with Ctrl-C.", flush=True)
        await until_stop_signal()
    finally:
        await server.stop()
        await db.close()
    return 0
