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


def test_inbox_shows_what_waits_and_fails_and_exits_1_when_processing_falls_behind(tmp_path: Path, capsys) -> None:
    import argparse
    import asyncio
    from datetime import UTC, datetime, timedelta

    from bot import cli_inbox
    from storage import inbox
    from storage.db import Database

    path = tmp_path / "config.toml"
    path.write_text(config_text(tmp_path), encoding="utf-8")
    t0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

    async def fill() -> None:
        db = await Database.open(tmp_path / "bot.sqlite3")
        try:
            def rows(c) -> None:
                for uid in (1, 2, 3):
                    inbox.store(c, uid, 10 * uid, f'{{"update_id": {uid}}}', t0)
                for _ in (1, 2):  # claims updates 1 and 2; 3 stays pending
                    inbox.claim(c, "w", t0, t0 + timedelta(minutes=2))
                inbox.finish(c, 1, "w", t0)
                inbox.finish(c, 2, "w", t0, error="ValueError: not an update")
            await db.write(rows)
        finally:
            await db.close()

    asyncio.run(fill())
    args = argparse.Namespace(config=path, max_wait_s=60.0, failed=5)
    assert cli_inbox.run(args, now=t0 + timedelta(seconds=30)) == 0
    out = capsys.readouterr().out
    assert "1 pending, 1 done, 1 failed" in out and "received 30 s ago" in out
    assert "failed: update 2 (chat 20)" in out and "ValueError: not an update" in out
    assert cli_inbox.run(args, now=t0 + timedelta(seconds=61)) == 1
    assert "BEHIND" in capsys.readouterr().out
    assert main(["inbox", "--config", str(path), "--max-wait-s", "1e12"]) == 0  # the command, as run
