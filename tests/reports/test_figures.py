"""Report figures on a hand-built database, each checked against values worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from bot.config import City
from bot.reports.model import build_report, median_from_histogram
from storage.db import Database
from tests.reports.conftest import AS_OF, PERIOD


async def test_unit_figures_by_hand(hand_db: Database, city: City) -> None:
    report = await build_report(hand_db, city, *PERIOD, as_of=AS_OF)
    units = {u.key: u for u in report.units}
    yz = units["yingzhou"]
    assert (yz.received, yz.signed, yz.signed_on_time) == (3, 3, 2)
    assert (yz.resolved, yz.resolved_on_time) == (2, 1)
    assert (yz.open, yz.overdue_open, yz.due) == (1, 1, 3)
    assert yz.on_time_rate == pytest.approx(1 / 3)
    assert yz.signed_on_time_rate == pytest.approx(2 / 3)
    assert (yz.rated, yz.satisfied, yz.satisfaction_rate) == (2, 1, 0.5)
    assert yz.recomplaint_rate == pytest.approx(1 / 3)
    assert yz.bounce_rate == pytest.approx(1 / 3)
    assert yz.median_hours == 30  # answers after 30 h and 100 h: the lower middle one, to the hour

    tr = units["transport"]  # T4 and T8 (T9 is before the period in local time)
    assert (tr.received, tr.resolved, tr.resolved_on_time, tr.on_time_rate) == (2, 2, 2, 1.0)
    assert tr.median_hours == 10
    assert tr.satisfaction_rate == 1.0 and tr.rated == 1

    lq = units["linquan"]  # dispatched, deadline ahead: nothing due yet
    assert (lq.received, lq.due, lq.overdue_open, lq.on_time_rate, lq.rank) == (1, 0, 0, None, None)
    assert lq.median_hours is None


async def test_ranking_order_and_unranked_units(hand_db: Database, city: City) -> None:
    report = await build_report(hand_db, city, *PERIOD, as_of=AS_OF)
    assert [u.key for u in report.units[:2]] == ["transport", "yingzhou"]
    assert [u.rank for u in report.units[:3]] == [1, 2, None]
    # Every unit of the city is listed (zeros included) and the unranked ones come after the ranked.
    assert {u.key for u in report.units} == {u.key for u in city.units}
    assert all(u.rank is None for u in report.units[2:])


async def test_districts_are_ranked_by_where_it_happened(hand_db: Database, city: City) -> None:
    report = await build_report(hand_db, city, *PERIOD, as_of=AS_OF)
    districts = {d.key: d for d in report.districts}
    yz = districts["yingzhou"]  # T1, T2, T3 and the transport bureau's T4 and T8
    assert (yz.received, yz.resolved, yz.resolved_on_time, yz.due) == (5, 4, 3, 5)
    assert yz.on_time_rate == pytest.approx(3 / 5)
    assert districts["linquan"].received == 2 and districts["linquan"].on_time_rate is None
    assert report.districts[0].key == "yingzhou"
    assert "transport" not in districts  # departments are not districts


async def test_city_total(hand_db: Database, city: City) -> None:
    report = await build_report(hand_db, city, *PERIOD, as_of=AS_OF)
    t = report.total
    assert t.received == 7  # including T6, still with the coordinators
    assert (t.resolved, t.resolved_on_time, t.overdue_open) == (4, 3, 1)
    assert t.median_hours == 20  # 10, 20, 30, 100 -> the lower middle


async def test_top_categories_and_shares(hand_db: Database, city: City) -> None:
    report = await build_report(hand_db, city, *PERIOD, as_of=AS_OF)
    assert [(c.key, c.tickets) for c in report.categories] == [
        ("housing", 2), ("transport", 2), ("city_management", 1), ("other", 1), ("rural", 1)]
    assert report.categories[0].share == pytest.approx(2 / 7)
    assert sum(c.share for c in report.categories) == pytest.approx(1.0)


async def test_daily_volume_in_local_days(hand_db: Database, city: City) -> None:
    report = await build_report(hand_db, city, *PERIOD, as_of=AS_OF)
    assert [(d.day, n) for d, n in report.daily] == [(1, 1), (2, 3), (3, 2), (4, 1), (5, 0)]


async def test_empty_period(hand_db: Database, city: City) -> None:
    report = await build_report(hand_db, city, date(2025, 1, 1), date(2025, 1, 31), as_of=AS_OF)
    assert report.total.received == 0
    assert report.categories == ()
    assert all(u.rank is None and u.received == 0 for u in report.units)
    assert len(report.daily) == 31 and all(n == 0 for _, n in report.daily)


async def test_period_must_not_end_before_it_starts(hand_db: Database, city: City) -> None:
    with pytest.raises(ValueError):
        await build_report(hand_db, city, date(2026, 3, 5), date(2026, 3, 1))


def test_median_from_histogram() -> None:
    assert median_from_histogram([]) is None
    assert median_from_histogram([(5, 1)]) == 5
    assert median_from_histogram([(9, 1), (1, 1), (4, 1)]) == 4
    assert median_from_histogram([(1, 2), (7, 2)]) == 1  # lower middle of an even count
    assert median_from_histogram([(1, 1), (7, 3)]) == 7
