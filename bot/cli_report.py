"""`complaint-bot report`: the report of a period as a PNG chart, an .xlsx or CSV ledger or text, from the command
line. A ledger prints a progress line (rows done of all, rows/s) to stderr when that is a terminal.

Wiring (in bot/cli.py): ``cli_report.register(sub)`` in ``_parser()`` and, in ``main()`` inside the ``try``,
``if args.command == "report": return cli_report.run(args)``. A bad config raises ConfigError for main().
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
import time
from datetime import date
from pathlib import Path

from bot.config import load_config

EXIT_USAGE = 2
_TAG = re.compile(r"</?(?:b|i|code)>")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("report", help="report of a period: PNG chart, .xlsx or CSV ledger, or text")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--from", dest="start", required=True, type=date.fromisoformat, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, type=date.fromisoformat, help="last day (included)")
    p.add_argument("--format", choices=("png", "xlsx", "csv", "text"), default="text",
                   help="csv: the ledger's rows as CSV (UTF-8 with a BOM), without the figure sheets")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--out", type=Path, help="output file (required for png, xlsx and csv; text goes to stdout)")
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


class Progress:
    """``rows done / all (percent), rows/s`` rewritten in place on a terminal, at most every ``every_s``;
    nothing when stderr is a file or a pipe (a cron job's log gets only the final line)."""

    def __init__(self, stream=None, every_s: float = 0.5, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.stream = stream if stream is not None else sys.stderr
        self.on = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every_s, self.clock = every_s, clock
        self.started = clock()
        self.shown_at: float | None = None

    def __call__(self, rows: int, total: int) -> None:
        if not self.on:
            return
        now = self.clock()
        if self.shown_at is not None and now - self.shown_at < self.every_s and rows < total:
            return
        self.shown_at = now
        rate = rows / (now - self.started) if now > self.started else 0.0
        share = f" ({100 * rows // total} %)" if total else ""
        print(f"\r{rows:,} / {total:,} rows{share}, {rate:,.0f} rows/s", end="", file=self.stream, flush=True)

    def done(self) -> None:
        if self.on and self.shown_at is not None:
            print(file=self.stream)


async def _report(city, db_path: Path, args: argparse.Namespace,  # type: ignore[no-untyped-def]
                  weights: tuple[tuple[str, float], ...] = ()) -> int:
    from bot.texts import Texts
    from storage.db import Database

    texts = Texts()
    db = await Database.open(db_path)
    try:
        if args.format in ("xlsx", "csv"):
            from bot.reports.ledger import write_ledger  # only what the ledger needs (no matplotlib)

            progress = Progress()
            stats = await write_ledger(db, city, args.start, args.end, args.out, args.lang, texts=texts,
                                       progress=progress, weights=weights, kind=args.format)
            progress.done()
            sheets = f" on {stats.ledger_sheets} sheet(s)" if args.format == "xlsx" else ""
            rate = f", {stats.rows / stats.seconds:,.0f} rows/s" if stats.seconds else ""
            print(f"{args.out}: {stats.rows} tickets{sheets} in {stats.seconds} s{rate}", file=sys.stderr)
            return 0
        from bot.reports.model import build_report

        report = await build_report(db, city, args.start, args.end, weights=weights)
        if args.format == "png":
            from bot.reports.chart import render_png

            args.out.write_bytes(render_png(report, args.lang, texts))
            print(f"{args.out}: chart of {report.total.received} tickets", file=sys.stderr)
            return 0
        from bot.reports.text import render_text

        plain = "\n\n".join(html.unescape(_TAG.sub("", m)) for m in render_text(report, args.lang, texts))
        if args.out:
            args.out.write_text(plain + "\n", encoding="utf-8")
        else:
            print(plain)
        return 0
    finally:
        await db.close()
