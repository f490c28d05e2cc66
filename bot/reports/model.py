"""The figures of a report, computed from the database for a period of local dates.

Definitions (the choices the issue left open are marked *):

- Period*: a ticket belongs to the period of its creation (``created_at`` in [start 00:00, end+1 00:00) local
  time). Each ticket is counted once, for its current responsible unit (``unit``) and for the district or zone
  where it happened (``district``). So "received" is the tickets created in the period that the unit holds now;
  a ticket that bounced counts for the unit that finally took it (its bounce shows in that unit's bounce rate).
  Tickets still with the coordinators (no unit) count in the city's total only.
- signed for on time: first sign-for before the sign-for deadline; rate over tickets signed for.
- resolved: answered at least once; resolved on time: first answer before the handling deadline.
- overdue open: open now (registered, dispatched, accepted, returned, reopened) and past its deadline at
  ``as_of``.
- on-time completion* (the ranking): resolved on time / tickets that were due: answered, plus overdue and never
  answered. Tickets still within their deadline do not count either way.
- median handling time*: last answer − creation, the wait the resident sees (signing late cannot hide it),
  over answered tickets, in whole hours (the hour in which the middle ticket falls: stored as an hour histogram
  so the median costs one index scan).
- satisfaction: satisfied / rated (the last rating). re-complaint rate: tickets reopened at least once /
  received. bounce rate: tickets returned or transferred at least once / received.
- withdrawn* (撤回): withdrawn by the reporter before any unit signed for it. Counted on a line of its own, and
  not in received nor in any rate: a resident changing their mind is no unit's doing (the daily volume, which
  counts what was filed, still has them).
- merged duplicates (state ``merged``) count nowhere: the ticket they were merged into is the one case.
- The three rates of 12345 practice (三率), beside the figures above:
  - response rate (响应率)*: signed for on time / tickets that were due to be signed for: signed for, plus
    dispatched, never signed for and past the sign-for deadline at ``as_of`` (one still inside it counts
    neither way, as for on-time completion).
  - resolution rate (解决率)*: answered 解决 / ratings that asked "was it solved?" (the last rating). 部分解决
    is not solved: it counts in the denominator only and is shown beside the rate; ratings made before the
    question existed count neither way.
  - satisfaction rate (满意率): (满意 + 基本满意) / rated: the ``satisfaction`` figure above, since ``rating`` is
    ``satisfied`` for both (bot.domain.rating), and older one-tap ratings count as they always did.
- ranking order: on-time completion, then volume (received), then key; units with nothing due come last. With
  ``reports.ranking_weights`` configured, by the weighted mean of the configured rates instead (each rate in
  [0, 1]; a rate a unit has no figure for is left out of its mean and its weight with it), then volume, then key;
  units with none of the weighted rates come last, unranked.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import City
from bot.domain import channels
from storage import reports as sql
from storage.db import Database

TOP_CATEGORIES = 5


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def day_bounds(self, tz: ZoneInfo) -> list[str]:
        """Local midnights from start to end + 1 as UTC ISO texts (days + 1 bounds)."""
        return [_utc_text(datetime.combine(self.start + timedelta(days=i), time(0), tz)) for i in range(self.days + 1)]

    def utc_bounds(self, tz: ZoneInfo) -> tuple[str, str]:
        """[start, end) as the UTC ISO texts stored in created_at."""
        lo = datetime.combine(self.start, time(0), tz)
        hi = datetime.combine(self.end + timedelta(days=1), time(0), tz)
        return _utc_text(lo), _utc_text(hi)


def _utc_text(when: datetime) -> str:
    """The stored form of a time: UTC ISO-8601 with microseconds (sorts as time)."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class UnitFigures:
    """Figures of one unit (or district, or the whole city: key None). Rates are None when undefined."""

    key: str | None
    name_zh: str
    name_en: str
    received: int = 0
    signed: int = 0
    signed_on_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    open: int = 0
    overdue_open: int = 0
    overdue_unanswered: int = 0
    rated: int = 0
    satisfied: int = 0
    recomplained: int = 0
    bounced: int = 0
    withdrawn: int = 0  # withdrawn by the reporter before sign-for: shown apart, in none of the rates
    sign_overdue: int = 0
    solution_rated: int = 0
    solved: int = 0
    partly_solved: int = 0
    median_hours: int | None = None
    rank: int | None = None

    def name(self, lang: str) -> str:
        return self.name_en if lang.lower().startswith("en") else self.name_zh

    @property
    def due(self) -> int:
        return self.resolved + self.overdue_unanswered

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.resolved_on_time, self.due)

    @property
    def signed_on_time_rate(self) -> float | None:
        return _ratio(self.signed_on_time, self.signed)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.rated)

    @property
    def response_rate(self) -> float | None:
        """响应率: signed for on time / due to be signed for (signed, or unsigned past the deadline)."""
        return _ratio(self.signed_on_time, self.signed + self.sign_overdue)

    @property
    def resolution_rate(self) -> float | None:
        """解决率: 解决 / ratings that asked whether it was solved (部分解决 is not solved)."""
        return _ratio(self.solved, self.solution_rated)

    @property
    def recomplaint_rate(self) -> float | None:
        return _ratio(self.recomplained, self.received)

    @property
    def bounce_rate(self) -> float | None:
        return _ratio(self.bounced, self.received)

    def add(self, counts: sql.Counts) -> None:
        for f in _COUNT_FIELDS:
            setattr(self, f, getattr(self, f) + getattr(counts, f))


_COUNT_FIELDS = tuple(f.name for f in fields(sql.Counts) if f.name not in ("unit", "district", "category"))


@dataclass(frozen=True)
class CategoryShare:
    key: str | None  # None: all other categories together
    name_zh: str
    name_en: str
    tickets: int
    share: float

    def name(self, lang: str) -> str:
        return self.name_en if lang.lower().startswith("en") else self.name_zh


@dataclass(frozen=True)
class ChannelFigures:
    """Tickets of one channel (and client: an Open311 client, an imported ledger's source) in the period."""

    channel: str  # bot.domain.channels
    client: str | None
    received: int
    rated: int
    satisfied: int

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.rated)


@dataclass(frozen=True)
class Report:
    city_zh: str
    city_en: str
    period: Period
    as_of: datetime
    total: UnitFigures  # the whole city
    units: tuple[UnitFigures, ...]  # ranked
    districts: tuple[UnitFigures, ...]  # ranked: by where it happened
    categories: tuple[CategoryShare, ...]  # top five, then "others" if any
    daily: tuple[tuple[date, int], ...] = field(default=())  # every day of the period, zeros included
    weights: tuple[tuple[str, float], ...] = ()  # the ranking's weighting (empty: by on-time completion)
    channels: tuple[ChannelFigures, ...] = ()  # by channel and client, in channel order

    def city(self, lang: str) -> str:
        return self.city_en if lang.lower().startswith("en") else self.city_zh


def median_from_histogram(buckets: Iterable[tuple[int, int]]) -> int | None:
    """The hour bucket holding the lower-middle ticket ((n+1)//2-th smallest), from (hour, count) pairs."""
    items = sorted(buckets)
    n = sum(c for _, c in items)
    if n == 0:
        return None
    target = (n + 1) // 2
    seen = 0
    for hour, count in items:
        seen += count
        if seen >= target:
            return hour
    return items[-1][0]  # unreachable


#: The rates a ranking weighting may name (``reports.ranking_weights``) → the figure each reads.
RANKED_RATES: dict[str, str] = {"on_time": "on_time_rate", "response": "response_rate",
                                "resolution": "resolution_rate", "satisfaction": "satisfaction_rate"}
Weights = tuple[tuple[str, float], ...]


def score(u: UnitFigures, weights: Weights) -> float | None:
    """The weighted mean of the unit's rates named in ``weights`` (rates it has no figure for are left out, with
    their weights); None if it has none of them."""
    total = weight_sum = 0.0
    for name, weight in weights:
        rate = getattr(u, RANKED_RATES[name])
        if rate is not None and weight > 0:
            total += weight * rate
            weight_sum += weight
    return total / weight_sum if weight_sum else None


def rank(figures: Iterable[UnitFigures], weights: Weights = ()) -> tuple[UnitFigures, ...]:
    """Sorted for the ranking, with ``rank`` set (1-based) on those that have a score: the on-time completion
    rate (anything due), or with ``weights`` the weighted mean of those rates."""
    def value(u: UnitFigures) -> float | None:
        return score(u, weights) if weights else u.on_time_rate

    def order(u: UnitFigures) -> tuple:
        rate = value(u)
        return (rate is None, -(rate or 0.0), -u.received, u.key or "")

    ranked = sorted(figures, key=order)
    for i, u in enumerate(ranked, 1):
        u.rank = i if value(u) is not None else None
    return tuple(ranked)


@dataclass(frozen=True)
class RawFigures:
    counts: list[sql.Counts]
    handling: list[tuple[str | None, str | None, int, int]]
    daily: list[int]  # tickets per local day of the period
    channels: list[sql.ChannelCounts] = field(default_factory=list)


def query(conn: sqlite3.Connection, period: Period, tz: ZoneInfo, as_of: str) -> RawFigures:
    start, end = period.utc_bounds(tz)
    """Everything a report needs from the database, in one connection (run it in one read transaction)."""
    return RawFigures(sql.counts(conn, start, end, as_of), sql.handling_hours(conn, start, end),
                      sql.count_between(conn, period.day_bounds(tz)), sql.channel_counts(conn, start, end))


def assemble(city: City, period: Period, as_of: datetime, raw: RawFigures, weights: Weights = ()) -> Report:
    """The report from the raw groups (pure: no database); ``weights`` order the ranking (default: on time)."""
    unit_figs: dict[str, UnitFigures] = {u.key: UnitFigures(u.key, u.name_zh, u.name_en) for u in city.units}
    district_figs: dict[str, UnitFigures] = {
        u.key: UnitFigures(u.key, u.name_zh, u.name_en) for u in city.units if u.kind in ("district", "zone")
    }
    total = UnitFigures(None, city.name_zh, city.name_en)
    per_category: dict[str, int] = defaultdict(int)
    for c in raw.counts:
        total.add(c)
        per_category[c.category] += c.received
        if c.unit is not None:
            unit_figs.setdefault(c.unit, UnitFigures(c.unit, c.unit, c.unit)).add(c)
        if c.district is not None:
            district_figs.setdefault(c.district, UnitFigures(c.district, c.district, c.district)).add(c)

    hist_unit: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    hist_district: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    hist_total: dict[int, int] = defaultdict(int)
    for unit, district, hours, n in raw.handling:
        hist_total[hours] += n
        if unit is not None:
            hist_unit[unit][hours] += n
        if district is not None:
            hist_district[district][hours] += n
    total.median_hours = median_from_histogram(hist_total.items())
    for key, hist in hist_unit.items():
        unit_figs[key].median_hours = median_from_histogram(hist.items())
    for key, hist in hist_district.items():
        district_figs[key].median_hours = median_from_histogram(hist.items())

    return Report(
        city_zh=city.name_zh,
        city_en=city.name_en,
        period=period,
        as_of=as_of,
        total=total,
        units=rank(unit_figs.values(), weights),
        districts=rank(district_figs.values(), weights),
        categories=_top_categories(city, per_category, total.received),
        daily=tuple((period.start + timedelta(days=i), n) for i, n in enumerate(raw.daily)),
        weights=weights,
        channels=_channels(raw.channels),
    )


def _channels(rows: list[sql.ChannelCounts]) -> tuple[ChannelFigures, ...]:
    order = {name: i for i, name in enumerate(channels.CHANNELS)}
    figures = (ChannelFigures(*row) for row in rows)
    return tuple(sorted(figures, key=lambda f: (order.get(f.channel, len(order)), f.channel, f.client or "")))


def _top_categories(city: City, per_category: dict[str, int], total: int) -> tuple[CategoryShare, ...]:
    names = {c.key: (c.name_zh, c.name_en) for c in city.categories}
    ordered = sorted(((n, k) for k, n in per_category.items() if n), key=lambda x: (-x[0], x[1]))
    top = [
        CategoryShare(k, *names.get(k, (k, k)), tickets=n, share=n / total) for n, k in ordered[:TOP_CATEGORIES]
    ]
    rest = sum(n for n, _ in ordered[TOP_CATEGORIES:])
    if rest:
        # key None: the renderers name it from the catalogue (report.others)
        top.append(CategoryShare(None, "", "", tickets=rest, share=rest / total))
    return tuple(top)


async def build_report(db: Database, city: City, start: date, end: date, *, as_of: datetime | None = None,
                       weights: Weights = ()) -> Report:
    """The report for tickets created from ``start`` to ``end`` (local dates, inclusive).

    ``as_of`` (default: now) decides which open tickets are overdue. The queries run on their own read-only
    connection in a worker thread, so the bot's connection stays free while a yearly report is computed.
    """
    if end < start:
        raise ValueError(f"period ends before it starts: {start} … {end}")
    period = Period(start, end)
    as_of = as_of or datetime.now(UTC)
    as_of_text = _utc_text(as_of)

    def run(conn: sqlite3.Connection) -> RawFigures:
        return query(conn, period, city.timezone, as_of_text)

    if db.path is None or str(db.path) == ":memory:":  # PostgreSQL: a read is one snapshot already
        raw = await db.read(run)
    else:
        raw = await asyncio.to_thread(sql.snapshot, db.path, run)
    return assemble(city, period, as_of, raw, weights)
