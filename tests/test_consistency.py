"""Checks that keep the project honest: catalogues match, every text key used exists, migrations are in order,
the code is lint-clean."""

from __future__ import annotations

import re
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain.lifecycle import TicketState
from bot.texts import LANGUAGES, Texts, catalogue
from storage.db import migration_scripts

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("bot", "handlers", "scheduler", "storage")
KEY_LITERAL = re.compile(r"""["']((?:cmd|start|help|common|limits|intake|photo|notice|status|state|event|my)"""
                         r"""\.[a-z_]+)["']""")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    zh = catalogue("zh")
    for lang in LANGUAGES:
        other = catalogue(lang)
        assert set(other) == set(zh), f"{lang}: keys differ: {set(other) ^ set(zh)}"
        for key in zh:
            assert _fields(other[key]) == _fields(zh[key]), f"{lang}:{key} placeholders differ"


def test_every_text_key_in_the_code_exists() -> None:
    keys = Texts().keys("zh")
    missing = []
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for key in KEY_LITERAL.findall(path.read_text(encoding="utf-8")):
                if key not in keys:
                    missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert not missing, missing


def test_keys_built_at_run_time_exist() -> None:
    keys = Texts().keys("zh")
    built = {f"state.{s.value}" for s in TicketState}
    built |= {f"photo.{r}" for r in ("too_big_bytes", "not_an_image", "too_many_pixels", "unsupported_format",
                                     "corrupt")}
    built |= {f"intake.description_{r}" for r in ("empty", "too_short", "too_long")}
    assert built <= keys, built - keys


def test_texts_fit_in_one_telegram_message() -> None:
    for lang in LANGUAGES:
        for key, text in catalogue(lang).items():
            assert 0 < len(text) <= 3000, f"{lang}:{key}"


def test_open_states_agree_everywhere() -> None:
    from bot.domain.lifecycle import OPEN_STATES
    from storage import tickets
    from storage.records import Ticket

    assert set(tickets.OPEN_STATES) == {s.value for s in OPEN_STATES}
    for state in TicketState:
        ticket = Ticket(*([None] * 20))  # type: ignore[arg-type]
        object.__setattr__(ticket, "state", state.value)
        assert ticket.is_open == (state in OPEN_STATES), state
    sql = " ".join(text for _, text in migration_scripts())
    listed = "(" + ", ".join(f"'{s}'" for s in tickets.OPEN_STATES) + ")"
    assert sql.count(listed) >= 3, "the partial indexes list the open states in the same order"


def test_no_sql_outside_storage() -> None:
    """ARCHITECTURE.md: SQL lives in storage/ only."""
    sql = re.compile(r"\.execute(many|script)?\(|\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b")
    found = [f"{path.relative_to(ROOT)}:{n}" for folder in ("bot", "handlers", "scheduler")
             for path in (ROOT / folder).rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if sql.search(line) and not line.lstrip().startswith("#")]
    assert not found, found


def test_migrations_are_numbered_without_gaps_or_twins() -> None:
    names = [name for name, _ in migration_scripts()]
    numbers = [int(name.split("_", 1)[0]) for name in names]
    assert numbers == list(range(1, len(numbers) + 1)), names


@pytest.mark.skipif(shutil.which("ruff") is None and not Path(sys.prefix, "bin", "ruff").exists(),
                    reason="ruff is part of the test extra")
def test_the_code_is_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.prefix, "bin", "ruff"))
    result = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
