"""`complaint-bot report`: the report of a period as a PNG chart, an .xlsx ledger or text, from the command line.

Wiring (in bot/cli.py): ``cli_report.register(sub)`` in ``_parser()`` and, in ``main()`` inside the ``try``,
``if args.command == "report": return cli_report.run(args)``. A bad config raises ConfigError for main().
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
from datetime import date
from pathlib import Path

from bot.config import load_config

EXIT_USAGE = 2
_TAG = re.compile(r"</?(?:b|i|code)>")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("report", help="report of a period: PNG chart, .xlsx ledger or text")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--from", dest="start", required=True, type=date.fromisoformat, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, type=date.fromisoformat, help="last day (included)")
    p.add_argument("--format", choices=("png", "xlsx", "text"), default="text")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--out", type=Path, help="output file (required for png and xlsx; text goes to stdout)")
    p.add_argument("--db", type=Path, help="database file (default: storage.database of the config)")
    return p


def run(args: argparse.Namespace) -> int:
    if args.end < args.start:
        print(f"complaint-bot report: --to ({args.end}) is before --from ({args.start})", file=sys.stderr)
        return EXIT_USAGE
    if args.format != "text" and args.out is None:
        print(f"complaint-bot report: --out is required for --format {args.format}", file=sys.stderr)
        return EXIT_USAGE
    config = load_config(args.config)
    db_path = args.db or config.storage.database
    if not config.storage.is_postgresql and not Path(db_path).exists():
        print(f"complaint-bot report: no database at {db_path}", file=sys.stderr)
        return EXIT_USAGE
    target = db_path if isinstance(db_path, str) else Path(db_path)
    return asyncio.run(_report(config.city, target, args, config.reports.ranking_weights))


async def _report(city, db_path: Path, args: argparse.Namespace,  # type: ignore[no-untyped-def]
                  weights: tuple[tuple[str, float], ...] = ()) -> int:
    from bot.reports.chart import render_png
    from bot.reports.ledger import write_ledger
    from bot.reports.model import build_report
    from bot.reports.text import render_text
    from bot.texts import Texts
    from storage.db import Database

    texts = Texts()
    db = await Database.open(db_path)
    try:
        if args.format == "xlsx":
            def progress(rows: int) -> None:
                print(f"\r{rows} rows", end="", file=sys.stderr, flush=True)

            stats = await write_ledger(db, city, args.start, args.end, args.out, args.lang, texts=texts,
                                       progress=progress, weights=weights)
            print(f"\r{args.out}: {stats.rows} tickets on {stats.ledger_sheets} sheet(s) in {stats.seconds} s",
                  file=sys.stderr)
            return 0
        report = await build_report(db, city, args.start, args.end, weights=weights)
        if args.format == "png":
            args.out.write_bytes(render_png(report, args.lang, texts))
            print(f"{args.out}: chart of {report.total.received} tickets", file=sys.stderr)
            return 0
        plain = "\n\n".join(html.unescape(_TAG.sub("", m)) for m in render_text(report, args.lang, texts))
        if args.out:
            args.out.write_text(plain + "\n", encoding="utf-8")
        else:
            print(plain)
        return 0
    finally:
        await db.close()
