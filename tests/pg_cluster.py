"""A throwaway PostgreSQL server for the tests.

`COMPLAINT_BOT_TEST_PG` (a URL such as ``postgresql://postgres@127.0.0.1:5432/postgres``) names a server to use;
otherwise one is started from Debian's binaries (/usr/lib/postgresql/*/bin): initdb into a temporary directory,
a unix socket in that directory, a free port, fsync off. As root (initdb refuses root) the cluster runs as the
``postgres`` user through ``runuser``, in a directory that user owns. Where no server can start, `Cluster.start`
raises `Unavailable` with the reason, and the PostgreSQL tests skip saying exactly that.

Every test gets a fresh database: ``CREATE DATABASE … TEMPLATE`` a database migrated once per session.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit

ENV = "COMPLAINT_BOT_TEST_PG"
TEMPLATE = f"complaint_bot_template_{os.getpid()}"  # one per test session, so sessions sharing a server never clash


class Unavailable(Exception):
    """No PostgreSQL server can be started here (the reason is the message)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise Unavailable("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): "
                          "install Debian's postgresql package or set " + ENV)
    return Path(found[-1]).parent


class Cluster:
    """One server for the session; `new_database()` gives a fresh migrated database's URL."""

    def __init__(self) -> None:
        self.base_url = ""  # a URL without the database name's path part filled in: see `url`
        self._dir: Path | None = None
        self._run_as: list[str] = []
        self._pg_ctl: Path | None = None
        self._names = itertools.count(1)
        self._template_ready = False

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> Cluster:
        given = os.environ.get(ENV)
        if given:  # postgresql://user@host:port/admin_db?options: new databases beside admin_db
            parts = urlsplit(given)
            self.base_url = f"{parts.scheme}://{parts.netloc}"
            self._admin_db = parts.path.strip("/") or "postgres"
            self._query = f"?{parts.query}" if parts.query else ""
            return self
        bin_dir = _bin_dir()
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                import pwd
                pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and there is no 'postgres' user to run the server as "
                                  "(initdb refuses root)") from None
            if runuser is None:
                raise Unavailable("running as root without runuser to run the server as 'postgres' "
                                  "(initdb refuses root)")
            self._run_as = [runuser, "-u", "postgres", "--"]
        self._dir = Path(tempfile.mkdtemp(prefix="complaint-bot-pg-"))
        if self._run_as:
            shutil.chown(self._dir, "postgres", "postgres")
        data = self._dir / "data"
        init = subprocess.run([*self._run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                               "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                              capture_output=True, text=True)
        if init.returncode != 0:
            self._cleanup()
            raise Unavailable("initdb failed: " + (init.stderr.strip().splitlines() or ["?"])[-1])
        port = _free_port()
        self._pg_ctl = bin_dir / "pg_ctl"
        options = (f"-p {port} -k {self._dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB")
        run = subprocess.run([*self._run_as, str(self._pg_ctl), "-D", str(data), "-l", str(self._dir / "log"),
                              "-o", options, "-w", "-t", "30", "start"], capture_output=True, text=True)
        if run.returncode != 0:
            log = (self._dir / "log").read_text(errors="replace") if (self._dir / "log").exists() else run.stderr
            self._cleanup()
            raise Unavailable("the PostgreSQL server did not start: " + (log.strip().splitlines() or ["?"])[-1])
        self.base_url = f"postgresql://postgres@{quote(str(self._dir), safe='')}:{port}"
        self._admin_db, self._query = "postgres", ""
        return self

    def stop(self) -> None:
        if self._pg_ctl and self._dir:
            subprocess.run([*self._run_as, str(self._pg_ctl), "-D", str(self._dir / "data"), "-m", "immediate",
                            "-w", "stop"], capture_output=True)
        self._cleanup()

    def server_pid(self) -> int | None:
        """The postmaster's process id of a server this cluster started (None for a given server): what
        bench/pg_bench.py reads the server's CPU time from."""
        pid_file = self._dir / "data" / "postmaster.pid" if self._dir else None
        if pid_file is None or not pid_file.exists():
            return None
        return int(pid_file.read_text().split()[0])

    def _cleanup(self) -> None:
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # -- databases --------------------------------------------------------------------------------------------

    def url(self, database: str) -> str:
        return f"{self.base_url}/{database}{self._query}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(self._admin_db), autocommit=True) as conn:
            conn.execute(sql)

    def empty_database(self) -> str:
        """A new database with nothing in it."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def new_database(self) -> str:
        """A new database with every migration applied (a copy of the session's template)."""
        if not self._template_ready:
            self._make_template()
        name = f"t{os.getpid()}_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def _make_template(self) -> None:
        from storage.pg import migrate

        self._admin(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        self._admin(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0")

        migrate(self.url(TEMPLATE))
        self._template_ready = True
