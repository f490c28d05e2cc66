"""The example city's suggestions on the labelled descriptions (tests/data/suggest_labelled.tsv, halves A and B,
and suggest_fresh.tsv, half C): accuracy, not timing. bench/suggest_bench.py prints the same figures per
category."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.suggest_bench import DATA, FRESH, evaluate, load_labelled, suggester_for
from tests.e2e.conftest import ROOT


@pytest.fixture(scope="module")
def result() -> dict:
    suggester = suggester_for(ROOT / "config.example.toml")
    rows = load_labelled(DATA) + load_labelled(FRESH, "C")
    return evaluate(lambda text: [s.key for s in suggester.rank(text)], rows)


def test_the_labelled_set_is_large_and_covers_every_category_but_other() -> None:
    from bot.config import load_config

    rows = load_labelled(DATA)
    keys = {c.key for c in load_config(ROOT / "config.example.toml").city.categories}
    per_category = Counter(row.key for row in rows)
    assert len(rows) >= 300
    assert set(per_category) == keys - {"other"}
    assert min(per_category.values()) >= 8
    fresh = load_labelled(FRESH, "C")
    assert {row.key for row in fresh} == set(per_category)
    texts = [row.text for row in rows + fresh]
    assert len(set(texts)) == len(texts)  # no description twice


def test_top_three_holds_the_target_overall_and_close_to_it_on_what_was_held_out(result: dict) -> None:
    assert result["overall"]["top3"] >= 0.90
    assert result["halves"]["B"]["top3"] >= 0.85  # the half the words were not tuned on
    assert result["halves"]["C"]["top3"] >= 0.80  # written after the tuning
