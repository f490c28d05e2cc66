"""Purging personal data from tickets closed long enough ago (`complaint-bot purge-personal-data`).

Batches of `batch` tickets, one transaction each: the bot may run meanwhile (each batch holds the write lock for a
few milliseconds), and an interrupted purge leaves whole batches done and the rest untouched; running it again
continues. What is kept and what goes: storage/purge.py.

A dry run purges a fresh backup copy (storage/backup.py: a snapshot taken without blocking the bot) and deletes it:
its counts are exactly what a real run would do, and the bot's writes never wait for it. Rolling each batch back
instead would miscount (a reporter whose tickets span two batches is only let go by the second once the first is
done), and one rolled-back transaction over everything would hold the write lock for the whole run.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from bot.domain.lifecycle import FINAL_STATES, SPEC, Action
from storage import backup
from storage import purge as repo
from storage.db import Database, IntegrityError
from storage.records import to_db

#: Events whose reason is text written to the reporter by staff (besides every resident's own event).
TEXT_TO_REPORTER = (SPEC[Action.ASK_REPORTER].event, SPEC[Action.RESOLVE].event)
BATCH = 500
RETRIES = 3


async def purge_personal_data(db: Database, now: datetime, older_than_days: int, *, dry_run: bool = False,
                              keep_users: Iterable[int] = (), batch: int = BATCH,
                              progress: Callable[[repo.PurgeCounts], None] | None = None) -> repo.PurgeCounts:
    """Purge final tickets closed more than `older_than_days` days before `now`; the totals (what would be, for a
    dry run). `keep_users` (the admins) never lose their user row."""
    cutoff, stamp, keep = to_db(now - timedelta(days=older_than_days)), to_db(now), tuple(keep_users)
    if dry_run and db.path is None:  # PostgreSQL: every batch in one transaction, rolled back
        def everything(c) -> repo.PurgeCounts:
            total, after = repo.PurgeCounts(), 0
            while ids := repo.candidates(c, FINAL_STATES, cutoff, after, batch):
                total.add(repo.purge(c, ids, TEXT_TO_REPORTER, stamp, keep, repo.tied_elsewhere(c, ids)))
                after = ids[-1]
                if progress:
                    progress(total)
            return total

        return await db.rolled_back(everything)  # type: ignore[attr-defined]
    if dry_run:
        return await _on_a_copy(db.path, now, older_than_days, keep_users, batch, progress)
    total = repo.PurgeCounts()
    after = 0
    while True:
        ids = await db.read(lambda c, after=after: repo.candidates(c, FINAL_STATES, cutoff, after, batch))
        if not ids:
            return total
        for attempt in range(RETRIES):
            # The scan of follows and ratings is a read: the bot's writers never wait for it (storage/purge.py).
            elsewhere = await db.read(lambda c, ids=ids: repo.tied_elsewhere(c, ids))
            try:
                counts = await db.write(lambda c, ids=ids, elsewhere=elsewhere: repo.purge(
                    c, ids, TEXT_TO_REPORTER, stamp, keep, elsewhere))
                break
            except IntegrityError:  # someone followed a ticket in between: the batch rolled back
                if attempt == RETRIES - 1:
                    raise
        total.add(counts)
        after = ids[-1]
        if progress:
            progress(total)


async def _on_a_copy(path: Path, now: datetime, older_than_days: int, keep_users: Iterable[int], batch: int,
                     progress: Callable[[repo.PurgeCounts], None] | None) -> repo.PurgeCounts:
    scratch = Path(tempfile.mkdtemp(prefix="purge-dry-run-", dir=Path(path).parent))
    try:
        copy = scratch / "copy.sqlite3"
        await asyncio.to_thread(backup.copy, Path(path), copy)
        db = await Database.open(copy)
        try:
            return await purge_personal_data(db, now, older_than_days, keep_users=keep_users, batch=batch,
                                             progress=progress)
        finally:
            await db.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
