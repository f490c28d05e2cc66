"""`complaint-bot run --webhook` as an operator meets it: the secret token only from the environment."""

from __future__ import annotations

from pathlib import Path

from bot.cli import EXIT_CONFIG, main
from tests.cli.test_cli import config_text


def test_run_webhook_without_a_secret_says_which_variable(tmp_path: Path, capsys, monkeypatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path), encoding="utf-8")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "777:cli_test_token_abcdefghijklmnop")
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    assert main(["run", "--config", str(path), "--webhook"]) == EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "TELEGRAM_WEBHOOK_SECRET" in err and "never from a file" in err


def test_a_secret_written_in_the_file_is_refused_before_anything_runs(tmp_path: Path, capsys, monkeypatch) -> None:
    path = tmp_path / "config.toml"
    text = config_text(tmp_path).replace('[telegram.webhook]\n', '[telegram.webhook]\nsecret = "abc"\n')
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "777:cli_test_token_abcdefghijklmnop")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "abc")
    assert main(["run", "--config", str(path), "--webhook"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "telegram.webhook.secret" in err and "never read from a file" in err
    assert not (tmp_path / "bot.sqlite3").exists()
