"""Where no PostgreSQL server can start, the PostgreSQL tests skip saying exactly why (tests/pg_cluster.py)."""

from __future__ import annotations

import pytest

from tests import pg_cluster


def test_no_server_binaries_is_a_reason_to_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pg_cluster.ENV, raising=False)
    monkeypatch.setattr(pg_cluster.glob, "glob", lambda pattern: [])
    with pytest.raises(pg_cluster.Unavailable, match=r"no PostgreSQL server binaries .* COMPLAINT_BOT_TEST_PG"):
        pg_cluster.Cluster().start()


def test_root_without_a_postgres_user_is_a_reason_to_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    monkeypatch.delenv(pg_cluster.ENV, raising=False)
    monkeypatch.setattr(pg_cluster, "_bin_dir", lambda: pg_cluster.Path("/usr/lib/postgresql/15/bin"))
    monkeypatch.setattr(pg_cluster.os, "geteuid", lambda: 0)

    def no_user(name: str):
        raise KeyError(name)

    monkeypatch.setattr(pwd, "getpwnam", no_user)
    with pytest.raises(pg_cluster.Unavailable, match=r"running as root .* \(initdb refuses root\)"):
        pg_cluster.Cluster().start()
