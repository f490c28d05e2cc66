"""`complaint-bot suggest`: ranked category keys for a text, or one line of keys per line of standard input."""

from __future__ import annotations

import io
from pathlib import Path

from bot.cli import EXIT_CONFIG, main

CONFIG = str(Path(__file__).resolve().parents[2] / "config.example.toml")


def test_a_text_prints_its_ranked_keys_tab_separated(capsys) -> None:
    assert main(["suggest", "--config", CONFIG, "--limit", "3", "小区门口的路灯坏了三天了"]) == 0
    keys = capsys.readouterr().out.rstrip("\n").split("\t")
    assert keys[0] == "municipal" and len(keys) == 3


def test_each_line_of_stdin_gets_one_line_of_keys(capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("楼上半夜蹦迪吵得睡不着\n!!!\n老板拖欠我们三个月工资\n"))
    assert main(["suggest", "--config", CONFIG]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert len(lines) == 4 and lines[3] == ""  # three texts, three lines
    assert lines[0].split("\t")[0] == "noise"
    assert lines[1] == ""  # nothing scores: an empty line keeps the lines in step
    assert lines[2].split("\t")[0] == "labour"


def test_a_zone_hint_pushes_its_categories(capsys) -> None:
    text = "庄稼被水泡了好几天"
    assert main(["suggest", "--config", CONFIG, "--zone", "linquan", text]) == 0
    assert capsys.readouterr().out.split("\t")[0] == "rural"
    assert main(["suggest", "--config", CONFIG, "--zone", "nowhere", text]) == EXIT_CONFIG
    assert "nowhere" in capsys.readouterr().err
