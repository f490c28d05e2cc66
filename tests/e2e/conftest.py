"""End-to-end fixtures: the sandbox emulator and the real bot Application polling it over HTTP.

The clock is a FakeClock: tests move it, nothing sleeps to reach a deadline. Waiting for the bot's replies is
done by long-polling the emulator's event log (`Person.expect`), never by fixed sleeps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import Config, load_config
from sandbox.local import LocalSandbox
from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
ADMIN_ID = 999  # the tests' administrator (config `admins`)


def e2e_config(tmp_path: Path, **limits: int) -> Config:
    cfg = load_config(ROOT / "config.example.toml")
    return dataclasses.replace(
        cfg,
        admins=(ADMIN_ID,),
        storage=dataclasses.replace(cfg.storage, database=tmp_path / "bot.sqlite3"),
        outbox=dataclasses.replace(cfg.outbox, poll_interval_s=0.05, backoff_base_s=1.0),
        intake=dataclasses.replace(cfg.intake, album_settle_s=0.3),
        limits=dataclasses.replace(cfg.limits, **{"messages_per_minute": 1000, "tickets_per_day": 50, **limits}),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def e2e_backend() -> str:
    """The storage backend of the bot under test: sqlite, or both for tests marked ``backends``."""
    return "sqlite"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test (or module) marked ``backends`` runs once on SQLite and once on PostgreSQL."""
    if "e2e_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("backends"):
        metafunc.parametrize("e2e_backend", BACKENDS)


@pytest.fixture
def config(tmp_path: Path, e2e_backend: str, request: pytest.FixtureRequest) -> Config:
    cfg = e2e_config(tmp_path)
    if e2e_backend == "postgresql":
        url = request.getfixturevalue("pg_url")
        cfg = dataclasses.replace(cfg, storage=dataclasses.replace(cfg.storage, database=url))
    return cfg


@pytest.fixture
async def local(config: Config, clock: FakeClock) -> AsyncIterator[LocalSandbox]:
    async with LocalSandbox(config, clock=clock) as sandbox:
        yield sandbox


@pytest.fixture
async def sb(local: LocalSandbox):
    assert local.client is not None
    return local.client
