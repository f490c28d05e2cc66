"""The three rates (响应率, 解决率, 满意率) and the weighted ranking, on tickets seeded through the lifecycle
(bot.seed.seed_tickets), each figure checked against a value worked out by hand; a merged duplicate counts
nowhere."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import City, load_city
from bot.domain.lifecycle import TicketState
from bot.domain.rating import Satisfaction, Solved
from bot.reports.model import build_report
from bot.reports.text import render_lines
from bot.seed import TicketSeed, seed_tickets
from bot.texts import Texts
from storage import users
from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
PERIOD = (date(2026, 3, 2), date(2026, 3, 6))
REPORTER = 88
S, SOL, SAT = TicketState, Solved, Satisfaction


def _seed(state: TicketState, unit: str, day: int, *, signed: bool | None = None, solved: Solved | None = None,
          satisfaction: Satisfaction | None = None, due: datetime | None = None) -> TicketSeed:
    return TicketSeed(state, "housing", unit, "general", datetime(2026, 3, day, 10, tzinfo=TZ), REPORTER, due=due,
                      signed_on_time=signed, solved=solved, satisfaction=satisfaction)


SEEDS = [
    # 颍州区 (yingzhou)
    _seed(S.CLOSED, "yingzhou", 2, signed=True, solved=SOL.SOLVED, satisfaction=SAT.SATISFIED),  # Y1
    _seed(S.CLOSED, "yingzhou", 2, signed=False, solved=SOL.PARTLY, satisfaction=SAT.BASIC),  # Y2
    _seed(S.REOPENED, "yingzhou", 3, signed=True, solved=SOL.PARTLY, satisfaction=SAT.DISSATISFIED),  # Y3
    _seed(S.DISPATCHED, "yingzhou", 3, due=AS_OF - timedelta(days=1)),  # Y4: not signed for, past the deadline
    _seed(S.DISPATCHED, "yingzhou", 4, due=AS_OF + timedelta(days=1)),  # Y5: still inside it: neither way
    _seed(S.MERGED, "yingzhou", 4),  # Y6: a duplicate merged into another: no case of its own
    _seed(S.CLOSED, "yingzhou", 5, signed=True),  # Y7: a one-tap rating from before the two questions
    # 临泉县 (linquan)
    _seed(S.CLOSED, "linquan", 2, signed=True, solved=SOL.SOLVED, satisfaction=SAT.SATISFIED),  # L1
    _seed(S.CLOSED, "linquan", 3, signed=False, solved=SOL.SOLVED, satisfaction=SAT.BASIC),  # L2
    _seed(S.REOPENED, "linquan", 5, signed=True, solved=SOL.UNSOLVED, satisfaction=SAT.SATISFIED),  # L3
    _seed(S.RESOLVED, "linquan", 6, signed=False),  # L4: answered, not rated yet
]


@pytest.fixture(scope="module")
def city() -> City:
    return load_city(ROOT / "examples/fuyang/city.toml")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(tmp_path / "rates.sqlite3")

    def tx(c: sqlite3.Connection) -> int:
        users.upsert(c, REPORTER, "zh", AS_OF)
        return seed_tickets(c, SEEDS)

    assert await db.write(tx) == len(SEEDS)
    yield db
    await db.close()


async def test_the_three_rates_per_unit_by_hand(db: Database, city: City) -> None:
    report = await build_report(db, city, *PERIOD, as_of=AS_OF)
    units = {u.key: u for u in report.units}
    yz = units["yingzhou"]
    assert yz.received == 6  # Y6 (merged) left out
    # response: on time Y1 Y3 Y7 / signed Y1 Y2 Y3 Y7 + unsigned past the deadline Y4 (Y5 is still inside it)
    assert (yz.signed, yz.signed_on_time, yz.sign_overdue) == (4, 3, 1)
    assert yz.response_rate == pytest.approx(3 / 5)
    # resolution: 解决 Y1 / asked Y1 Y2 Y3 (Y7's one-tap rating did not ask); 部分解决 counts as not solved
    assert (yz.solution_rated, yz.solved, yz.partly_solved) == (3, 1, 2)
    assert yz.resolution_rate == pytest.approx(1 / 3)
    # satisfaction: 满意 Y1 + 基本满意 Y2 + Y7's "satisfied" / rated Y1 Y2 Y3 Y7
    assert (yz.rated, yz.satisfied) == (4, 3)
    assert yz.satisfaction_rate == pytest.approx(3 / 4)

    lq = units["linquan"]
    assert (lq.received, lq.signed, lq.signed_on_time, lq.sign_overdue) == (4, 4, 2, 0)
    assert lq.response_rate == pytest.approx(2 / 4)
    assert (lq.solution_rated, lq.solved, lq.partly_solved, lq.resolution_rate) == (3, 2, 0, pytest.approx(2 / 3))
    # L3 is unsolved (so it reopened) but satisfied: it counts as satisfied
    assert (lq.rated, lq.satisfied, lq.satisfaction_rate) == (3, 3, 1.0)
    assert lq.recomplaint_rate == pytest.approx(1 / 4)

    total = report.total
    assert total.received == 10 and sum(n for _, n in report.daily) == 10
    assert total.response_rate == pytest.approx(5 / 9)
    assert total.resolution_rate == pytest.approx(3 / 6)
    assert total.satisfaction_rate == pytest.approx(6 / 7)


async def test_the_ranking_follows_a_configured_weighting(db: Database, city: City) -> None:
    # unconfigured: by on-time completion as always (nothing here was due to be answered: nobody is ranked)
    plain = await build_report(db, city, *PERIOD, as_of=AS_OF)
    assert [u.rank for u in plain.units if u.key in ("yingzhou", "linquan")] == [None, None]

    by_response = await build_report(db, city, *PERIOD, as_of=AS_OF, weights=(("response", 1.0),))
    assert [(u.key, u.rank) for u in by_response.units[:2]] == [("yingzhou", 1), ("linquan", 2)]
    assert all(u.rank is None for u in by_response.units[2:])  # no figures at all: unranked, last

    weights = (("response", 1.0), ("resolution", 1.0), ("satisfaction", 2.0))
    weighted = await build_report(db, city, *PERIOD, as_of=AS_OF, weights=weights)
    # yingzhou (0.6 + 1/3 + 2 × 0.75) / 4 = 0.608; linquan (0.5 + 2/3 + 2 × 1.0) / 4 = 0.792
    assert [(u.key, u.rank) for u in weighted.units[:2]] == [("linquan", 1), ("yingzhou", 2)]


async def test_the_report_text_shows_the_three_rates(db: Database, city: City) -> None:
    texts = Texts()
    weights = (("satisfaction", 2.0), ("response", 1.0))
    report = await build_report(db, city, *PERIOD, as_of=AS_OF, weights=weights)
    text = "\n".join(render_lines(report, "zh", texts))
    assert texts.get("zh", "report.rates_total", response="55.6%", resolution="50.0%", partly=2,
                     satisfaction="85.7%") in text
    assert texts.get("zh", "report.rates_unit", response="60.0%", resolution="33.3%", partly=2) in text
    assert "加权：满意率 ×2，响应率 ×1" in text
    english = "\n".join(render_lines(dataclasses.replace(report, weights=()), "en", texts))
    assert texts.get("en", "report.units_heading") in english
