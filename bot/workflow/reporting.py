"""Reports for the supervision group: computed on a read-only snapshot, rendered (chart, ledger, text), and
queued in the outbox like every other message, so a failed delivery is retried rather than lost."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from bot.reports.ledger import write_ledger
from bot.reports.model import build_report
from bot.reports.text import render_text
from bot.workflow.common import WorkflowDeps
from storage import chats, outbox

FORMATS = frozenset({"text", "png", "xlsx"})
#: ``/report FROM TO csv``: the ledger as CSV in place of the .xlsx.
CSV_FORMATS = frozenset({"text", "png", "csv"})


@dataclass(frozen=True)
class QueuedReport:
    start: date
    end: date
    messages: int
    ledger_rows: int | None


class Reporting:
    def __init__(self, deps: WorkflowDeps) -> None:
        self.d = deps

    @property
    def folder(self) -> Path:
        """Where rendered charts and ledgers wait for the outbox (beside a SQLite database; on PostgreSQL, which
        has no file, under the system's temporary directory, one folder per database)."""
        storage = self.d.config.storage
        if storage.is_postgresql:
            name = urlsplit(str(storage.database)).path.strip("/") or "postgresql"
            return Path(tempfile.gettempdir()) / f"complaint-bot-reports-{name}"
        return Path(storage.database).parent / "reports"

    def yesterday(self) -> tuple[date, date]:
        today = self.d.clock.now().astimezone(self.d.config.city.timezone).date()
        return today - timedelta(days=1), today - timedelta(days=1)

    def last_week(self) -> tuple[date, date]:
        today = self.d.clock.now().astimezone(self.d.config.city.timezone).date()
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)

    def last_days(self, days: int = 7) -> tuple[date, date]:
        today = self.d.clock.now().astimezone(self.d.config.city.timezone).date()
        return today - timedelta(days=days), today - timedelta(days=1)

    async def supervision_chat(self) -> int | None:
        return await self.d.db.read(lambda c: chats.chat_for(c, "supervision"))

    async def queue(self, chat_id: int, start: date, end: date, formats: frozenset[str], key: str | None = None,
                    lang: str | None = None) -> QueuedReport:
        """Compute and render the report of [start, end] and queue it for `chat_id`. With a `key` (scheduled
        reports) a second call for the same period queues nothing again."""
        city, texts = self.d.config.city, self.d.texts
        lang = lang or self.d.group_lang
        now = self.d.clock.now()
        weights = self.d.config.reports.ranking_weights
        report = await build_report(self.d.db, city, start, end, as_of=now, weights=weights)
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = f"{key or 'report'}-{start.isoformat()}-{end.isoformat()}-{int(now.timestamp())}"
        rows: list[tuple[str, dict]] = []
        if "text" in formats:
            rows += [("message", {"text": part, "parse_mode": "HTML"}) for part in render_text(report, lang, texts)]
        if "png" in formats:
            from bot.reports.chart import render_png  # matplotlib: loaded when a chart is drawn

            png = await asyncio.to_thread(render_png, report, lang, texts)
            path = self.folder / f"{stem}.png"
            path.write_bytes(png)
            rows.append(("photo_file", {"path": str(path), "caption": texts.get(
                lang, "report.chart_caption", start=start.isoformat(), end=end.isoformat())}))
        ledger_rows = None
        for kind in ("xlsx", "csv"):
            if kind not in formats:
                continue
            path = self.folder / f"{stem}.{kind}"
            stats = await write_ledger(self.d.db, city, start, end, path, lang, texts=texts, as_of=now,
                                       weights=weights, kind=kind)
            ledger_rows = stats.rows
            name = texts.get(lang, "report.sheet_ledger")
            rows.append(("document_file", {"path": str(path), "filename": f"{name}-{start}-{end}.{kind}",
                                           "caption": texts.get(lang, "report.ledger_caption", start=start.isoformat(),
                                                                end=end.isoformat(), rows=stats.rows)}))

        def tx(c: sqlite3.Connection) -> int:
            queued = 0
            for i, (kind, payload) in enumerate(rows):
                dedupe = f"report:{key}:{start}:{end}:{i}" if key else None
                if outbox.add(c, chat_id, kind, payload, now, dedupe_key=dedupe):
                    queued += 1
            return queued

        queued = await self.d.db.write(tx)
        self.d.outbox_kick()
        return QueuedReport(start, end, queued, ledger_rows)
