"""``reports.ranking_weights``: the ranking's weighting of the rates, validated with one message naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.config.schema import RANKING_RATES
from bot.reports.model import RANKED_RATES
from tests.unit.city_builder import config_error, write_config


def test_unset_keeps_the_on_time_ranking(tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path)).reports.ranking_weights == ()


def test_weights_are_read_in_the_rates_order(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[reports.ranking_weights]\nsatisfaction = 0.5\nresponse = 0.3\nresolution = 0.2\n")
    assert load_config(path).reports.ranking_weights == (("response", 0.3), ("resolution", 0.2),
                                                         ("satisfaction", 0.5))


def test_every_weighable_rate_is_a_figure_of_the_report() -> None:
    assert set(RANKING_RATES) == set(RANKED_RATES)


@pytest.mark.parametrize(("tables", "key", "fragment"), [
    ("[reports.ranking_weights]\nspeed = 1\n", "reports.ranking_weights", "unknown key 'speed'"),
    ("[reports.ranking_weights]\nresponse = -1\n", "reports.ranking_weights.response", "must be a weight ≥ 0"),
    ("[reports.ranking_weights]\nresponse = \"high\"\n", "reports.ranking_weights.response", "must be a number"),
    ("[reports.ranking_weights]\nresponse = 0\nsatisfaction = 0\n", "reports.ranking_weights",
     "at least one weight must be > 0"),
    ("[reports]\nranking_weights = 3\n", "reports.ranking_weights", "must be a table"),
])
def test_bad_weights_are_refused(tmp_path: Path, tables: str, key: str, fragment: str) -> None:
    config_error(tmp_path, key, fragment, tables=tables)


def test_the_example_three_rates_config_loads() -> None:
    example = Path(__file__).resolve().parents[2] / "examples/fuyang/config.three-rates.toml"
    assert load_config(example).reports.ranking_weights == (("response", 1.0), ("resolution", 1.0),
                                                            ("satisfaction", 2.0))
