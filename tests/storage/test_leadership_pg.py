"""Leadership on PostgreSQL (storage/leadership.py): session advisory locks on dedicated connections, against a
throwaway cluster of Debian's PostgreSQL 15 (skipped, saying why, where none can be started)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.leadership import AdvisoryLockLeadership, SoleProcess, lock_key, on_psycopg

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(*cmd: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A PostgreSQL cluster in a temporary directory, on a Unix socket only; its conninfo."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is needed to talk to PostgreSQL")
    del psycopg
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL server binaries in {PG_BIN} (Debian's postgresql-15)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: initdb refuses root")
    folder = Path(tempfile.mkdtemp(prefix="leadership-pg-"))
    data = folder / "data"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        subprocess.run(_as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                    "--no-sync"), check=True, capture_output=True)
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"),
                                    "-o", f"-k {folder} -p {port} -c listen_addresses='' -c fsync=off", "start"),
                       check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL cluster: {error}")
    try:
        yield f"host={folder} port={port} user=postgres dbname=postgres"
    finally:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


async def _connect(conninfo: str):
    import psycopg

    return await psycopg.AsyncConnection.connect(conninfo, autocommit=True)


async def test_one_session_leads_a_job_and_another_takes_over_when_it_dies(cluster: str) -> None:
    a_conn, b_conn, admin = await _connect(cluster), await _connect(cluster), await _connect(cluster)
    try:
        a, b = AdvisoryLockLeadership(on_psycopg(a_conn)), AdvisoryLockLeadership(on_psycopg(b_conn))
        assert await a.try_acquire("sweep") and a.held("sweep")
        assert not await b.try_acquire("sweep") and not b.held("sweep")  # a follower
        assert await b.try_acquire("outbox")  # each job has its own lock
        assert not await a.try_acquire("outbox")
        assert await a.try_acquire("sweep")  # asking again while leading: still ours

        # The leading process dies (kill -9: the server ends its session, and the session's locks with it).
        pid = a_conn.info.backend_pid
        await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(500):  # pg_terminate_backend only signals: wait (briefly) until the session is gone
            cur = await admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
            if await cur.fetchone() is None:
                break
            await asyncio.sleep(0.01)
        assert await b.try_acquire("sweep")  # the follower's next tick takes over
        assert not await a.try_acquire("sweep") and not a.held("sweep")  # its broken connection leads nothing
    finally:
        for conn in (a_conn, b_conn, admin):
            with contextlib.suppress(Exception):
                await conn.close()


async def test_a_stopping_leader_releases_at_once(cluster: str) -> None:
    a_conn, b_conn = await _connect(cluster), await _connect(cluster)
    try:
        a, b = AdvisoryLockLeadership(on_psycopg(a_conn)), AdvisoryLockLeadership(on_psycopg(b_conn))
        assert await a.try_acquire("digests") and await a.try_acquire("reports")
        assert not await b.try_acquire("digests")
        await a.release_all()
        assert not a.held("digests")
        assert await b.try_acquire("digests") and await b.try_acquire("reports")
    finally:
        await a_conn.close()
        await b_conn.close()


def test_lock_keys_are_stable_signed_64_bit_and_distinct() -> None:
    keys = {name: lock_key(name) for name in ("sweep", "digests", "reports", "outbox")}
    assert len(set(keys.values())) == 4
    assert all(-2**63 <= k < 2**63 for k in keys.values())
    # pinned: during a rolling deploy old and new instances must compete for the same lock
    assert keys["sweep"] == -1632844104464797143


async def test_on_sqlite_the_one_process_always_leads() -> None:
    sole = SoleProcess()
    assert await sole.try_acquire("sweep") and sole.held("outbox")
    await sole.release_all()
    assert sole.held("sweep")
