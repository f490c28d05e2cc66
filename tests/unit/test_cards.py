"""Cards are pure: a ticket in, text and buttons out. Their buttons are exactly what the state allows."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import cards
from bot.callbacks import TicketButton
from bot.cards import CardExtras
from bot.config import load_config
from bot.texts import Texts
from storage.records import Ticket

ROOT = Path(__file__).resolve().parents[2]
CITY = load_config(ROOT / "config.example.toml").city
TEXTS = Texts()
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def ticket(**changes: object) -> Ticket:
    base = Ticket(
        id=7, number="350823614", state="dispatched", version=3, category="municipal", reporter_id=1,
        description="路灯<白天>亮着 & 晚上不亮", lat=32.822, lon=115.862, location_source="gps", place_key=None,
        place_text=None, district="yingzhou", unit="fuhe_park", deadline_class="immediate", sign_due_at=NOW,
        due_at=None, created_at=NOW, updated_at=NOW, closed_at=None, zone="fuhe_park",
        route_reason=json.dumps({"key": "route.local_by_location",
                                 "params": {"zone": "fuhe_park", "category": "municipal"}}))
    return dataclasses.replace(base, **changes)


def labels(payload: dict) -> list[str]:
    return [b["text"] for row in payload["reply_markup"]["inline_keyboard"] for b in row]


@pytest.mark.parametrize(("state", "lead", "expected"), [
    ("dispatched", False, ["签收", "退回", "建议并单"]),
    ("dispatched", True, ["签收", "建议并单"]),
    ("accepted", False, ["办结", "申请延期", "退回", "询问群众", "建议并单"]),
    ("accepted", True, ["办结", "申请延期", "询问群众", "建议并单"]),
    ("reopened", False, ["签收", "办结", "询问群众", "建议并单"]),
    ("resolved", False, []),
    ("closed", False, []),
    ("returned", False, []),
    ("withdrawn", False, []),
    ("merged", False, []),
])
def test_unit_card_buttons_follow_the_state(state: str, lead: bool, expected: list[str]) -> None:
    assert labels(cards.unit_card(TEXTS, "zh", CITY, ticket(state=state, lead=lead), CardExtras())) == expected


def test_buttons_carry_the_ticket_and_its_version() -> None:
    payload = cards.unit_card(TEXTS, "zh", CITY, ticket(), CardExtras())
    decoded = [TicketButton.decode(b["callback_data"]) for row in payload["reply_markup"]["inline_keyboard"]
               for b in row]
    assert {(b.ticket_id, b.version) for b in decoded} == {(7, 3)}


def test_a_former_units_card_has_no_buttons() -> None:
    assert labels(cards.unit_card(TEXTS, "zh", CITY, ticket(), CardExtras(), actionable=False)) == []


def test_the_card_says_why_and_escapes_what_people_typed() -> None:
    text = cards.unit_card(TEXTS, "zh", CITY, ticket(), CardExtras(photo_count=2))["text"]
    assert "位置在阜合园区" in text and "照片：2 张" in text
    assert "&lt;白天&gt;" in text and "&amp;" in text and "<白天>" not in text


def test_coordination_card_offers_decisions_only_while_undecided() -> None:
    returned = ticket(state="returned", unit=None, bounces=2, escalated=True)
    payload = cards.coordination_card(TEXTS, "zh", CITY, returned, CardExtras(return_reason=("yingzhou", "不归我们")))
    assert labels(payload) == ["指定主办单位", "重新派单", "调整期限类别", "不予受理", "并单"]
    assert "已退回/转办 2 次" in payload["text"] and "不归我们" in payload["text"]
    assert labels(cards.coordination_card(TEXTS, "zh", CITY, ticket(), CardExtras())) == []


def test_unit_picker_lists_every_unit_but_the_excluded() -> None:
    rows = cards.unit_picker("zh", CITY, ticket(), "hp", exclude=frozenset({"fuhe_park"}),
                             chosen=frozenset({"yingzhou"}))
    names = [b["text"] for row in rows for b in row]
    assert len(names) == len(CITY.units) - 1 and "✓ 颍州区" in names and "阜合园区" not in names


def test_a_long_description_still_fits_one_message() -> None:
    long = ticket(description="很" * 1500, answer=None)
    assert len(cards.unit_card(TEXTS, "zh", CITY, long, CardExtras(photo_count=6))["text"]) < 4096
