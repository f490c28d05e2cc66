"""`complaint-bot import FILE --mapping MAPPING.toml`: import a hotline's ledger (CSV or .xlsx).

Open cases enter the workflow (routing, cards, deadlines from their received time); finished ones go straight
into the ledger and the reports (bot.workflow.importing). A second import of the same file adds nothing. Bad rows
are refused with their line number and reason, all of them written to FILE.refused.csv (or --refused PATH).

Wiring (in bot/cli.py): ``cli_import.register(sub)`` in ``_parser()`` and ``if args.command == "import": return
cli_import.run(args)`` inside main()'s ``try``. A bad config raises ConfigError for main().
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import time
from pathlib import Path
from typing import TextIO

from bot.clock import Clock, SystemClock
from bot.config import Config, load_config
from bot.domain.ledger_import import LedgerMapping, MappingError, RowParser, load_mapping
from bot.ledger_files import LedgerFileError, open_ledger
from bot.workflow.importing import ImportSummary

EXIT_USAGE = 2
SHOWN_REFUSALS = 20
REPO_ROOT = Path(__file__).resolve().parent.parent


def _target(text: str) -> Path | str:
    """A --db value: a PostgreSQL URL as it is (a Path would fold its //), else a file's path."""
    from storage.dialect import is_postgresql

    return text if is_postgresql(text) else Path(text)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("import", help="import a hotline ledger (CSV or .xlsx) through a column mapping")
    p.add_argument("file", type=Path, help="the ledger: .csv (UTF-8 or GB18030) or .xlsx")
    p.add_argument("--mapping", required=True, type=Path, help="the mapping TOML (see examples/import/)")
    p.add_argument("--config", type=Path, default=REPO_ROOT / "config.example.toml",
                   help="the deployment config (its city and database)")
    p.add_argument("--db", type=_target, help="database file or postgresql:// URL (default: storage.database of "
                   "the config)")
    p.add_argument("--source", help="the source's name, the tickets' channel client (default: the mapping's)")
    p.add_argument("--dry-run", action="store_true", help="read and check everything, write nothing")
    p.add_argument("--refused", type=Path, help="where to write the refused rows (default: FILE.refused.csv)")
    return p


def parser_for(config: Config, mapping: LedgerMapping) -> RowParser:
    city = config.city
    return RowParser(
        mapping, timezone=city.timezone,
        categories={c.key: (c.name_zh, c.name_en) for c in city.categories},
        units={u.key: (u.name_zh, u.name_en) for u in city.units},
        max_text=config.intake.description_max_chars,
    )


def mapping_for(config: Config, path: Path, source: str | None = None) -> LedgerMapping:
    import dataclasses

    city = config.city
    mapping = load_mapping(path, category_keys={c.key for c in city.categories},
                           unit_keys={u.key for u in city.units})
    return dataclasses.replace(mapping, source=source.strip()) if source and source.strip() else mapping


class Progress:
    """A one-line bar on stderr, redrawn at most ten times a second (only when stderr is a terminal)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, rows: int) -> None:
        now = time.perf_counter()
        if now - self.last < 0.1:
            return
        self.last = now
        rate = rows / max(now - self.started, 1e-9)
        bar = "#" * min(30, rows // 5000) + "-" * max(0, 30 - rows // 5000)
        self.out.write(f"\r[{bar}] {rows:,} rows  {rate:,.0f} rows/s")
        self.out.flush()

    def done(self) -> None:
        self.out.write("\n")
        self.out.flush()


def write_refused(path: Path, result: ImportSummary) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(("line", "case_id", "reason"))
        w.writerows((r.line, r.ref, r.reason) for r in result.refused)


def summary_lines(result: ImportSummary, source: str, seconds: float, dry_run: bool,
                  refused_path: Path | None) -> list[str]:
    verb = "would import" if dry_run else "imported"
    rate = result.rows / seconds if seconds > 0 else 0.0
    lines = [f"{source}: {result.rows} rows in {seconds:.1f} s ({rate:,.0f} rows/s)",
             f"{verb}: {result.imported} (open {result.open}, finished {result.finished})",
             f"skipped as known: {result.known}",
             f"refused: {len(result.refused)}"]
    for r in result.refused[:SHOWN_REFUSALS]:
        lines.append(f"  line {r.line}: {r.reason}" + (f" [{r.ref}]" if r.ref else ""))
    if len(result.refused) > SHOWN_REFUSALS:
        lines.append(f"  … and {len(result.refused) - SHOWN_REFUSALS} more")
    if refused_path is not None and result.refused:
        lines.append(f"all refused rows: {refused_path}")
    return lines


async def import_file(config: Config, db_path: Path | str, file: Path, mapping: LedgerMapping, *,
                      dry_run: bool = False, clock: Clock | None = None, progress: Progress | None = None
                      ) -> ImportSummary:
    """Open the database, import ``file`` and close it (the bot may be running on the same file meanwhile)."""
    from bot.texts import Texts
    from bot.workflow import WorkflowDeps
    from bot.workflow.dispatch import Dispatcher
    from bot.workflow.importing import LedgerImport
    from bot.workflow.messages import Messages
    from bot.workflow.transitions import Transitions
    from storage import imports
    from storage.db import Database

    ledger = open_ledger(file, sheet=mapping.sheet)
    parser = parser_for(config, mapping)
    problem = parser.header_problem(ledger.header)
    if problem:
        raise LedgerFileError(f"{file}: {problem}")
    db = await Database.open(db_path)
    try:
        await db.read(imports.bulk_cache)
        # the use-cases it needs, wired as bot.services does (without the reports' charting, slow to import)
        deps = WorkflowDeps(db=db, config=config, clock=clock or SystemClock(), texts=Texts())
        messages = Messages(deps)
        importer = LedgerImport(deps, Dispatcher(deps, Transitions(deps, messages), messages))
        return await importer.run(mapping.source, parser, ledger.header, ledger.rows, dry_run=dry_run,
                                  progress=progress)
    finally:
        await db.close()


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    db_path: Path | str = args.db or config.storage.database
    try:
        mapping = mapping_for(config, args.mapping, args.source)
    except MappingError as error:
        print(f"complaint-bot import: {args.mapping}: {error}", file=sys.stderr)
        return EXIT_USAGE
    progress = Progress(sys.stderr) if sys.stderr.isatty() else None
    started = time.perf_counter()
    try:
        result = asyncio.run(import_file(config, db_path, args.file, mapping, dry_run=args.dry_run,
                                         progress=progress))
    except LedgerFileError as error:
        print(f"complaint-bot import: {error}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if progress is not None:
            progress.done()
    seconds = time.perf_counter() - started
    refused_path = None
    if result.refused:
        refused_path = args.refused or args.file.with_name(args.file.name + ".refused.csv")
        write_refused(refused_path, result)
    for line in summary_lines(result, mapping.source, seconds, args.dry_run, refused_path):
        print(line)
    return 0
