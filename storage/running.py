"""Which database a running bot holds: an exclusive ``flock`` on ``<database>.lock`` for the bot's lifetime.

A lock, not a pid file: the kernel releases it when the process ends in any way (``kill -9`` included), so there
is never a stale marker to clean up, and a probe cannot be fooled by a recycled pid. ``flock`` locks belong to
the open file, so two holders conflict even inside one process (the tests run bot and CLI in one). The pid
written into the file only names the holder in messages. SQLite's own locks cannot tell: in WAL mode an idle
bot holds no lock at all, and readers never block an exclusive writer's probe.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DatabaseInUse(Exception):
    """Another process (or another holder in this one) runs a bot on this database."""

    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path} is in use by a running bot" + (f" (pid {pid})" if pid else ""))
        self.path = path
        self.pid = pid


def lock_path(database: Path) -> Path:
    return Path(f"{database}.lock")


class RunningLock:
    """Held while a bot (or a restore) works on a database; `acquire` raises DatabaseInUse if someone else is."""

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self._fd: int | None = None

    def acquire(self) -> RunningLock:
        if str(self.database) == ":memory:" or self._fd is not None:
            return self
        path = lock_path(self.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseInUse(self.database, holder_pid(self.database)) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunningLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder_pid(database: Path) -> int | None:
    try:
        text = lock_path(database).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def in_use(database: Path) -> bool:
    """Probe: is a bot running on `database` right now? (Takes and drops the lock if nobody holds it.)"""
    try:
        RunningLock(database).acquire().release()
    except DatabaseInUse:
        return True
    return False
