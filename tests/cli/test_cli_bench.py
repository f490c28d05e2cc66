"""`complaint-bot bench`: it finds bench/ in a checkout (and says plainly when there is none), runs the benches as
they run standalone, and prints one table judged against the targets, with one JSON file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bot import cli_bench
from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench import suite  # noqa: E402


def test_without_a_checkout_it_says_where_to_run_it(tmp_path: Path, monkeypatch, capsys) -> None:
    assert cli_bench.find_checkout([tmp_path]) is None
    assert cli_bench.find_checkout([tmp_path, ROOT]) == ROOT
    monkeypatch.setattr(cli_bench, "find_checkout", lambda: None)
    assert main(["bench", "--quick"]) == cli_bench.EXIT_NO_BENCH
    assert "run this command from a checkout" in capsys.readouterr().err


def test_an_unknown_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(SystemExit, match="known: intake, report, status, sweep, reminders, routing, suggest"):
        suite.selected(["report,nope"])
    assert [b.name for b in suite.selected(["sweep", "report,sweep"])] == ["sweep", "report"]


def test_figures_are_read_from_a_bench_json_and_judged() -> None:
    data = {"queries": {"ranking": {"median_s": 0.05}, "ranking_covering_index": {"median_s": 1.5}},
            "ledger": {"seconds": 75.0, "peak_rss_mb": 120.0}}
    rows = {f.figure: f for f in suite.figures_of("report", data)}
    ranking = rows["yearly ranking"]
    assert (ranking.ours, ranking.baseline, ranking.ratio, ranking.met) == (0.05, 1.5, pytest.approx(30), True)
    assert rows["ledger .xlsx, whole year"].met is False
    assert rows["ledger peak RSS"].met is True
    assert rows["ledger CSV, whole year"].met is None  # not written by the bench: not measured, never guessed
    text = suite.table(list(rows.values()))
    assert "yearly ranking" in text and "50.0 ms" in text and "30.00×" in text and "not measured" in text


def test_the_suite_runs_a_bench_standalone_and_writes_one_json(tmp_path: Path, monkeypatch, capsys) -> None:
    tiny = suite.Bench("routing", "bench.routing_bench", (), ("--points", "300", "--naive-points", "100"), "tiny")
    monkeypatch.setattr(suite, "BENCHES", (tiny,))
    monkeypatch.setattr(suite, "BY_NAME", {"routing": tiny})
    out = tmp_path / "suite.json"
    assert main(["bench", "--quick", "--only", "routing", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[1/1] routing: done in" in printed
    assert "figure" in printed and "routing lookups/s" in printed
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["quick"] is True and saved["benches"]["routing"]["returncode"] == 0
    assert saved["benches"]["routing"]["result"]["parameters"]["points"] == 300
    assert [f["figure"] for f in saved["figures"]] == ["routing lookups/s"]
