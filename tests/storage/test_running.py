"""storage.running: one holder per database, seen by a probe, gone when its process dies however it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storage.running import DatabaseInUse, RunningLock, in_use

#: Takes the lock, says so, then blocks reading its stdin (never closed by the test) until it is killed.
HOLD = ("import sys; from storage.running import RunningLock; "
        "RunningLock(sys.argv[1]).acquire(); print('held', flush=True); sys.stdin.read()")


def test_a_second_holder_is_refused_and_named(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    assert not in_use(db)
    with RunningLock(db):
        assert in_use(db)
        with pytest.raises(DatabaseInUse) as refused:
            RunningLock(db).acquire()
        assert refused.value.pid == os.getpid()
    assert not in_use(db)


def test_the_lock_goes_with_a_killed_process(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert in_use(db)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert not in_use(db)  # no stale marker after kill -9
