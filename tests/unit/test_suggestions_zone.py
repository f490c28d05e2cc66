"""Suggestions for a draft use the zone it lies in: its named place's unit, or the zone of its point."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from bot.config import load_config
from bot.workflow.suggestions import Suggestions
from storage.records import Draft

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config.example.toml")
NOW = datetime(2026, 3, 2, tzinfo=UTC)


def draft(**fields: object) -> Draft:
    base = dict(user_id=1, id="abc123", step="category", editing=False, category=None, lat=None, lon=None,
                location_source=None, place_key=None, place_text=None, description=None, photo_count=0,
                created_at=NOW, updated_at=NOW)
    return Draft(**{**base, **fields})  # type: ignore[arg-type]


def suggestions() -> Suggestions:
    return Suggestions(SimpleNamespace(config=CONFIG))  # type: ignore[arg-type]


def test_the_zone_is_the_places_unit_or_the_zone_of_the_point() -> None:
    s = suggestions()
    assert s.zone_of(draft(place_key="taihe_town", location_source="place")) == "taihe"
    assert s.zone_of(draft(lat=32.8300, lon=115.8700, location_source="gps")) == "fuhe_park"  # park over district
    assert s.zone_of(draft(location_source="none")) is None


async def test_a_draft_without_a_description_gets_no_suggestions_and_the_zone_pushes() -> None:
    s = suggestions()
    assert await s.for_draft(draft()) == []
    text = "厂里晚上偷偷排黑烟，还拖欠工程款"
    in_park = draft(description=text, lat=32.8300, lon=115.8700, location_source="gps")
    assert await s.for_draft(in_park) == await s.for_text(text, "fuhe_park")
    pushed = {x.key: x.score for x in s.suggester.rank(text, "fuhe_park")}
    plain = {x.key: x.score for x in s.suggester.rank(text)}
    hinted = {c.key for c in CONFIG.city.categories if "fuhe_park" in c.suggest_zones}
    assert hinted & set(plain) == {"environment", "business"}  # both score: both are pushed, nothing else
    assert {k for k in plain if pushed[k] > plain[k]} == hinted
