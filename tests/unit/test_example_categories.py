"""The example city's categories, closer to the platform's (about forty): today's keys kept, the missing homes
added, each routed to a unit with a liaison group, each with suggestion words."""

from __future__ import annotations

from pathlib import Path

from bot.config import load_config

ROOT = Path(__file__).resolve().parents[2]
CITY = load_config(ROOT / "config.example.toml").city

#: The keys tickets and configs already refer to, in their order (the first twelve are the first two pages).
KEPT = ("housing", "transport", "city_management", "labour", "rural", "education", "environment", "municipal",
        "health", "public_safety", "utilities", "parking", "noise", "market", "civil_affairs", "medical_insurance",
        "registration", "business", "culture_tourism", "public_housing", "tutoring", "illegal_building", "land")


def test_todays_keys_keep_their_order_and_other_stays_last() -> None:
    keys = [c.key for c in CITY.categories]
    assert tuple(keys[:len(KEPT)]) == KEPT and keys[-1] == "other"
    assert 36 <= len(keys) <= 44


def test_the_missing_homes_exist_and_route_to_their_units() -> None:
    routes = {c.key: c.route for c in CITY.categories}
    assert routes["city_enforcement"] == "city_management"  # the bureau's own group gets cases
    assert routes["telecom"] == "communications" and routes["banking"] == "finance"
    assert routes["traffic_police"] == "traffic_police" and routes["flood_control"] == "water_resources"
    assert routes["pets"] == "local"


def test_every_category_routes_to_a_unit_with_a_group_and_has_suggestion_words() -> None:
    for category in CITY.categories:
        for route in (category.route, *category.routes.values()):
            assert route == "local" or CITY.group_for_unit(route) is not None, category.key
        assert category.key == "other" or len(category.suggest) >= 8, category.key
    assert CITY.category("other").suggest == ()


def test_the_file_says_which_category_wins_where_two_overlap() -> None:
    text = (ROOT / "examples" / "fuyang" / "city.toml").read_text(encoding="utf-8")
    assert "Where two categories overlap, the one named here wins" in text
    for words in ("city management / municipal / parking / noise / illegal building",
                  "health / medical insurance / labour", "housing / public housing / land"):
        assert words in text
