"""Fixtures: the example city, and databases built by hand or seeded."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import City, load_city
from bot.domain.numbers import number_for_sequence
from bot.seed import seed_demo
from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def city() -> City:
    return load_city(ROOT / "examples/fuyang/city.toml")


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SHANGHAI)


def iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat(timespec="microseconds")


# Hand-built tickets: (created, unit, district, category, state, signed_on_time, resolved after h,
#                      resolved_on_time, due, rating, reopen_count, bounces)
HAND = [
    # T1..T3 with yingzhou; T2 answered late, re-complained and bounced; T3 open past its deadline.
    (local(2026, 3, 2, 10), "yingzhou", "yingzhou", "housing", "closed", 1, 30, 1, local(2026, 3, 9, 10),
     "satisfied", 0, 0),
    (local(2026, 3, 2, 11), "yingzhou", "yingzhou", "housing", "closed", 0, 100, 0, local(2026, 3, 4, 11),
     "dissatisfied", 1, 1),
    (local(2026, 3, 2, 12), "yingzhou", "yingzhou", "city_management", "accepted", 1, None, None,
     local(2026, 3, 4, 12), None, 0, 0),
    # T4: transport bureau, in Yingzhou, answered on time after 10 h, not rated.
    (local(2026, 3, 3, 9), "transport", "yingzhou", "transport", "resolved", 1, 10, 1, local(2026, 3, 10, 9),
     None, 0, 0),
    # T5: Linquan, dispatched, deadline still ahead of AS_OF: not due, not overdue.
    (local(2026, 3, 3, 15), "linquan", "linquan", "rural", "dispatched", None, None, None,
     local(2026, 3, 20, 15), None, 0, 0),
    # T6: still with the coordinators (no unit).
    (local(2026, 3, 4, 8), None, "linquan", "other", "registered", None, None, None, None, None, 0, 0),
    # T7: after the period.
    (local(2026, 4, 1, 8), "yingzhou", "yingzhou", "housing", "closed", 1, 5, 1, local(2026, 4, 8, 8),
     "satisfied", 0, 0),
    # T8: 00:10 on March 1st local time is still February 28th in UTC: inside the period.
    (local(2026, 3, 1, 0, 10), "transport", "yingzhou", "transport", "closed", 1, 20, 1, local(2026, 3, 8, 0),
     "satisfied", 0, 0),
    # T9: 23:30 on February 28th local time: before the period.
    (local(2026, 2, 28, 23, 30), "transport", "yingzhou", "transport", "closed", 1, 20, 1, local(2026, 3, 7, 0),
     "satisfied", 0, 0),
]
PERIOD = (date(2026, 3, 1), date(2026, 3, 5))


def insert_hand_built(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO users(id, language, reachable, first_seen, last_seen) VALUES (1, 'zh', 1, 'x', 'x')")
    for i, (created, unit, district, category, state, signed, res_h, res_ok, due, rating, reopen, bounces) \
            in enumerate(HAND, 1):
        resolved = None if res_h is None else created + timedelta(hours=res_h, minutes=10)
        conn.execute(
            "INSERT INTO tickets(number, state, category, reporter_id, description, location_source, district, "
            "unit, deadline_class, due_at, created_at, updated_at, signed_on_time, resolved_at, resolved_on_time, "
            "rating, reopen_count, bounces, accepted_at) "
            "VALUES (?, ?, ?, 1, ?, 'none', ?, ?, 'general', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (number_for_sequence(i), state, category, f"描述 {i}", district, unit, iso(due), iso(created),
             iso(created), signed, iso(resolved), res_ok, rating, reopen, bounces,
             iso(created + timedelta(hours=1)) if signed is not None else None),
        )


@pytest.fixture
async def hand_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(tmp_path / "hand.sqlite3")
    await db.write(insert_hand_built)
    yield db
    await db.close()


@pytest.fixture(scope="session")
def seeded_path(tmp_path_factory: pytest.TempPathFactory, city: City) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "year.sqlite3"
    seed_demo(path, city, 4000, date(2026, 12, 31), seed=7)
    return path


@pytest.fixture
async def seeded_db(seeded_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(seeded_path)
    yield db
    await db.close()
