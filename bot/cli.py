"""`complaint-bot` commands: run (real Telegram or any Bot API server), sandbox (everything local), migrate; the
other sub-commands live in ``bot/cli_*.py``."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import (
    cli_api,
    cli_backup,
    cli_bench,
    cli_calendar,
    cli_import,
    cli_inbox,
    cli_migrate,
    cli_purge,
    cli_report,
    cli_seed,
    cli_suggest,
    cli_zones,
)
from bot.clock import SystemClock
from bot.config import Config, ConfigError, load_config
from bot.logs import hold_back_libraries
from bot.stop_signal import until_stop_signal

log = logging.getLogger("complaint-bot")

EXIT_CONFIG = 2
REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO_ROOT / "config.example.toml"


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    hold_back_libraries()  # httpx logs every request URL at INFO, and the URL holds the token (bot/logs.py)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="complaint-bot", description="A Telegram front desk for a city's complaints.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot against Telegram (token from the environment)")
    run.add_argument("--config", required=True, type=Path)
    run.add_argument("--webhook", action="store_true",
                     help="receive updates by webhook ([telegram.webhook]; secret token from the environment)")

    sb = sub.add_parser("sandbox", help="run the bot against the built-in Bot API emulator, with the example city")
    sb.add_argument("--config", type=Path, default=EXAMPLE_CONFIG)
    sb.add_argument("--port", type=int, default=8081, help="port of the emulator (0: any free port)")
    sb.add_argument("--db", type=Path, default=Path("sandbox-data/complaint-bot.sqlite3"))
    sb.add_argument("--fresh", action="store_true", help="start from an empty database")
    sb.add_argument("--webhook", action="store_true", help="the emulator delivers updates to our webhook server")
    sb.add_argument("--demo", action="store_true", help="play a resident filing a complaint, print it, exit")
    sb.add_argument("--stay", action="store_true",
                    help="with --demo: keep running afterwards, so the web chat shows the demo's chats")

    mig = sub.add_parser("migrate", help="create or upgrade the database, then exit")
    mig.add_argument("--config", required=True, type=Path)

    sweep = sub.add_parser("sweep", help="run the deadline sweep (and optionally the morning digest) once")
    sweep.add_argument("--config", required=True, type=Path)
    sweep.add_argument("--once", action="store_true", required=True)
    sweep.add_argument("--morning", action="store_true", help="also queue the morning digest")

    cli_zones.register(sub)
    cli_calendar.register(sub)
    cli_report.register(sub)
    cli_seed.register(sub)
    cli_suggest.register(sub)
    cli_backup.register(sub)
    cli_migrate.register(sub)
    cli_purge.register(sub)
    cli_bench.register(sub)
    cli_api.register(sub)
    cli_import.register(sub)
    cli_inbox.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose)
    if args.command == "zones":  # needs no config
        return cli_zones.run(args)
    if args.command == "bench":  # needs no config either
        return cli_bench.run(args)
    if args.command == "api-key":  # nor does a new API key
        return cli_api.run_key(args)
    try:
        if args.command == "calendar":
            return cli_calendar.run(args)
        if args.command == "inbox":
            return cli_inbox.run(args)
        if args.command == "report":
            return cli_report.run(args)
        if args.command == "seed-demo":
            return cli_seed.run(args)
        if args.command == "suggest":
            return cli_suggest.run(args)
        if args.command in cli_backup.COMMANDS:
            return cli_backup.run(args)
        if args.command in cli_migrate.COMMANDS:
            return cli_migrate.run(args)
        if args.command == "purge-personal-data":
            return cli_purge.run(args)
        if args.command == "api":
            return cli_api.run(args)
        if args.command == "import":
            return cli_import.run(args)
        config = load_config(args.config)
        if args.command == "run":
            token = config.token()
            secret = config.webhook_secret() if args.webhook else None
            return asyncio.run(_run(config, token, secret))
        if args.command == "migrate":
            return asyncio.run(_migrate(config))
        if args.command == "sandbox":
            return asyncio.run(_sandbox(config, args))
        if args.command == "sweep":
            return asyncio.run(_sweep(config, args.morning))
    except ConfigError as error:
        print(f"complaint-bot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    return 1


async def _migrate(config: Config) -> int:
    from storage.db import Database

    db = await Database.open(config.storage.database)
    await db.close()
    print(f"database ready: {config.storage.database}")
    return 0


async def _sweep(config: Config, morning: bool) -> int:
    """Queue what the scheduler would: the running bot's outbox sender delivers it."""
    from bot.services import Services
    from storage.db import Database

    db = await Database.open(config.storage.database)
    try:
        services = Services.build(config, db, SystemClock())
        checks = await services.sweeper.startup()
        result = await services.sweeper.sweep()
        queued = await services.sweeper.morning_digest() if morning else 0
    finally:
        await db.close()
    print(f"sweep: {result.reminders} reminders, {result.overdue} overdue, {result.escalated} escalated, "
          f"{result.auto_closed} auto-closed; {result.messages + queued} messages queued; "
          f"{checks['recomputed']} provisional deadlines recomputed; calendar horizon {checks['horizon']}")
    return 0


async def _run(config: Config, token: str, webhook_secret: str | None = None) -> int:
    """Poll, or with `webhook_secret` receive by webhook (``[telegram.webhook]``)."""
    from bot.app import BotRunner, build_application
    from storage.db import Database

    db = await Database.open(config.storage.database)
    # Webhook mode on PostgreSQL is how several instances run: their send limits are shared (bot/send_limits.py).
    app = build_application(config, db, SystemClock(), token, shared_limits=bool(webhook_secret))
    runner = BotRunner(app, config.telegram.poll_timeout_s,
                       webhook=config.webhook if webhook_secret else None, webhook_secret=webhook_secret or "")
    try:
        await runner.start()
        await until_stop_signal()
    finally:
        await runner.stop()
        await db.close()
    return 0


async def _sandbox(config: Config, args: argparse.Namespace) -> int:
    from sandbox.local import LocalSandbox

    db_path: Path = args.db
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    config = dataclasses.replace(config, storage=dataclasses.replace(config.storage, database=db_path.resolve()))
    async with LocalSandbox(config, port=args.port, people=True, webhook=args.webhook) as local:
        print(local.welcome(), flush=True)
        if args.demo:
            from sandbox.demo import play

            ok = await play(local)
            if not args.stay:
                return 0 if ok else 1
            print(f"\nThe web chat shows the demo's chats: {local.sandbox.url}/   Stop with Ctrl-C.", flush=True)
        await until_stop_signal()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
