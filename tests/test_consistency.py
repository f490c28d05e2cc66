"""Checks that keep the project honest: catalogues match, every text key used exists, migrations are in order,
the code is lint-clean."""

from __future__ import annotations

import ast
import re
import shutil
import sqlite3
import string
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import get_args

import pytest

from bot.domain.lifecycle import TicketState
from bot.texts import LANGUAGES, Texts, catalogue
from storage.db import migration_scripts

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("bot", "handlers", "scheduler", "storage", "sandbox")
NAME = r"[a-z_][a-z0-9_]*"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    zh = catalogue("zh")
    for lang in LANGUAGES:
        other = catalogue(lang)
        assert set(other) == set(zh), f"{lang}: keys differ: {set(other) ^ set(zh)}"
        for key in zh:
            assert _fields(other[key]) == _fields(zh[key]), f"{lang}:{key} placeholders differ"


# --- text keys in the code ----------------------------------------------------------------------------------
#
# A key is "<section>.<name>" where <section> is a top-level table of the catalogues (derived from them, so a new
# section is covered without touching this file). The code is read as Python (ast), so only whole string literals
# count: a module path, a logger name or a file name inside a longer string is never mistaken for a key.

#: Literals shaped like "<section>.<name>" that are not text keys, with the only file each may appear in.
NOT_KEYS = {
    "photo.jpg": "sandbox/content.py",  # the file name the emulator gives a stored photo
}


@cache
def _sections() -> frozenset[str]:
    return frozenset(k.split(".", 1)[0] for k in Texts().keys("zh"))


@cache
def _modules() -> tuple[tuple[str, ast.Module], ...]:
    return tuple((path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path)))
                 for folder in CODE_DIRS for path in sorted((ROOT / folder).rglob("*.py")))


def _expand(node: ast.JoinedStr) -> list[str] | None:
    """Every value of an f-string whose formatted parts are all choices between literals (`x if c else y`)."""
    values = [""]
    for part in node.values:
        if isinstance(part, ast.Constant):
            options = [str(part.value)]
        else:
            options = _choices(part.value) if isinstance(part, ast.FormattedValue) and not part.format_spec else None
            if options is None:
                return None
        values = [v + o for v in values for o in options]
    return values


def _choices(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _choices(node.body), _choices(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _template(node: ast.JoinedStr) -> str:
    return "".join(str(p.value) if isinstance(p, ast.Constant) else "{}" for p in node.values)


@cache
def _key_uses() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(literal keys → where, templates of keys built at run time → where) in the product code.

    A template is an f-string, or a literal that can only be the start or the pattern of a key ("state.",
    "ops.who_", "state.%s", "state.{}"), whose text starts with "<section>."; each formatted part becomes "{}".
    """
    starts = re.compile(rf"({'|'.join(sorted(_sections()))})\.")
    key = re.compile(rf"({'|'.join(sorted(_sections()))})\.{NAME}")
    literals: dict[str, list[str]] = {}
    templates: dict[str, list[str]] = {}
    for rel, tree in _modules():
        parts = {id(p) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for p in node.values}
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.JoinedStr):
                text = _template(node)
                if not starts.match(text):
                    continue
                expanded = _expand(node)
                if expanded is not None:
                    for value in expanded:
                        literals.setdefault(value, []).append(where)
                else:
                    templates.setdefault(text, []).append(where)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
                if key.fullmatch(node.value) and not node.value.endswith("_"):
                    literals.setdefault(node.value, []).append(where)
                elif re.fullmatch(rf"({'|'.join(sorted(_sections()))})\.[a-z0-9_]*(%s|\{{\}})?", node.value):
                    text = re.sub(r"(%s|\{\})$", "", node.value) + "{}"
                    templates.setdefault(text, []).append(where)
    return literals, templates


def test_every_text_key_in_the_code_exists() -> None:
    keys = Texts().keys("zh")
    literals, _ = _key_uses()
    assert len(literals) > 200, "the scan finds the code's keys"
    missing = [f"{where}: {lit}" for lit, sites in sorted(literals.items()) if lit not in keys
               for where in sites if lit not in NOT_KEYS]
    assert not missing, missing
    for lit, home in NOT_KEYS.items():
        sites = {where.split(":")[0] for where in literals.get(lit, [])}
        assert sites == {home}, f"NOT_KEYS[{lit!r}] is meant for {home} only, found in {sorted(sites) or 'none'}"
        assert lit not in keys, f"{lit} is a text key now: drop it from NOT_KEYS"


# --- keys built at run time ------------------------------------------------------------------------------------

#: Events the workflow writes itself (every other event is a lifecycle transition's ``event``).
SYSTEM_EVENTS = frozenset({"registered", "followed", "unroutable", "escalated", "deadline_recomputed",
                           "inquiry_undeliverable", "merge_absorbed", "rating_reason"})


def _calls(name: str) -> Iterator[tuple[str, ast.Call]]:
    for rel, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if called == name:
                    yield f"{rel}:{node.lineno}", node


def test_the_system_events_are_every_event_the_workflow_writes() -> None:
    """``add_event(..., action=…)``: a literal is one of SYSTEM_EVENTS, anything else a transition's event."""
    literal, other = set(), []
    for where, call in _calls("add_event"):
        action = next((k.value for k in call.keywords if k.arg == "action"), None)
        if isinstance(action, ast.Constant):
            literal.add(action.value)
        elif not (isinstance(action, ast.Attribute) and action.attr == "event"):
            other.append(f"{where}: action={ast.unparse(action) if action else '?'}")
    assert literal == SYSTEM_EVENTS, f"update SYSTEM_EVENTS: {sorted(literal ^ SYSTEM_EVENTS)}"
    assert not other, f"events whose name this test cannot derive: {other}"
    bulk = {rel for rel, tree in _modules() for node in ast.walk(tree)
            if isinstance(node, ast.Name | ast.alias) and "BulkLoader" in (getattr(node, "id", None),
                                                                            getattr(node, "name", None))}
    assert bulk <= {"storage/bulk.py", "bot/seed.py"}, f"events written in bulk elsewhere: {bulk}"


@pytest.fixture(scope="module")
def seeded_events(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The event names the demo seed writes (straight into the database, bypassing the workflow)."""
    from bot.config import load_city
    from bot.seed import seed_demo

    path = tmp_path_factory.mktemp("seed") / "seed.sqlite3"
    seed_demo(path, load_city(ROOT / "examples/fuyang/city.toml"), 400, date(2026, 12, 31), seed=3)
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT DISTINCT action FROM events")}
    finally:
        conn.close()


def _description_reasons() -> set[str]:
    """DescriptionRejected does not list its reasons: the literals it is raised with, wherever it is raised."""
    reasons = set()
    for where, call in _calls("DescriptionRejected"):
        first = call.args[0] if call.args else None
        assert isinstance(first, ast.Constant), f"{where}: a reason this test cannot read"
        reasons.add(first.value)
    return reasons


def _built(seeded_events: set[str]) -> dict[str, set[str]]:
    """Template → the values its "{}" takes, each from where the code gets it."""
    from bot.app import MENU
    from bot.cards import RETURN_REASONS
    from bot.config.schema import RANKING_RATES
    from bot.domain.deadlines import DeadlineClass
    from bot.domain.lifecycle import SPEC, ActorKind
    from bot.domain.photos import RejectReason
    from bot.domain.rating import REASONS, Satisfaction, Solved
    from bot.reports.ledger import FIGURE_HEADERS, LEDGER_HEADERS
    from bot.workflow.resident_actions import WITHDRAW_REASONS

    return {
        "state.{}": {s.value for s in TicketState},
        "event.{}": {t.event for t in SPEC.values()} | SYSTEM_EVENTS | seeded_events,
        "cls.{}": {c.value for c in DeadlineClass},
        "ask.{}": set(RETURN_REASONS),
        "photo.{}": set(get_args(RejectReason)),
        "intake.description_{}": _description_reasons(),
        # bot.cards._who: every actor kind an event records, and supervisors.
        "ops.who_{}": {k.value for k in ActorKind} | {"supervisor"},
        "cmd.{}": set(MENU),
        "report.{}": set(LEDGER_HEADERS) | set(FIGURE_HEADERS),
        "withdraw.reason_{}": set(WITHDRAW_REASONS),
        "rates.btn_{}": {s.value for s in Solved} | {s.value for s in Satisfaction},
        "rates.reason_{}": set(REASONS),
        "report.rate_{}": set(RANKING_RATES),
        "report.solved_{}": {s.value for s in Solved},
        "report.satisfaction_{}": {s.value for s in Satisfaction},
    }


def test_every_key_built_at_run_time_is_known_to_this_test(seeded_events: set[str]) -> None:
    """A new f-string key (or "prefix." + x) fails here until _built says where its values come from."""
    _, templates = _key_uses()
    known = _built(seeded_events)
    unknown = {t: sites for t, sites in templates.items() if t not in known}
    assert not unknown, f"keys built at run time that _built() does not know: {unknown}"
    stale = set(known) - set(templates)
    assert not stale, f"_built() lists templates the code no longer uses: {stale}"


def test_keys_built_at_run_time_exist(seeded_events: set[str]) -> None:
    keys = Texts().keys("zh")
    missing = []
    for template, values in _built(seeded_events).items():
        assert values, template
        missing += [template.format(v) for v in sorted(values) if template.format(v) not in keys]
    assert not missing, missing


def test_the_values_behind_built_keys_are_complete() -> None:
    """Values that are literals scattered in the code agree with the declared set the test derives keys from."""
    from bot.domain.lifecycle import ActorKind
    from bot.domain.photos import RejectReason

    raised = set()
    for where, call in _calls("ImageRejected"):
        first = call.args[0] if call.args else None
        if isinstance(first, ast.Constant):
            raised.add(first.value)
        else:  # re-raised with a variable typed RejectReason (the type checker holds it to the Literal)
            assert isinstance(first, ast.Name), f"{where}: a reason this test cannot read"
    assert raised == set(get_args(RejectReason)), "ImageRejected is raised with exactly the RejectReason values"
    kinds = {k.value.value for _, call in _calls("add_event") for k in call.keywords
             if k.arg == "actor_kind" and isinstance(k.value, ast.Constant)}
    assert kinds <= {k.value for k in ActorKind}, kinds


def test_keys_held_as_data_exist() -> None:
    """Keys kept in tables rather than at the call that shows them: routing reasons, buttons, refusals."""
    from bot.domain import routing
    from bot.domain.lifecycle import SPEC

    keys = Texts().keys("zh")
    held = set(routing.REASON_PARAMS)
    held |= {v for name, v in vars(routing).items() if name.startswith("REASON_") and isinstance(v, str)}
    assert held == set(routing.REASON_PARAMS), "every REASON_* constant is in REASON_PARAMS"
    held |= {t.button.label for t in SPEC.values() if t.button is not None}
    assert held <= keys, held - keys
    for reason, params in routing.REASON_PARAMS.items():
        for lang in LANGUAGES:
            assert _fields(catalogue(lang)[reason]) <= set(params), f"{lang}:{reason}"


def test_texts_fit_in_one_telegram_message() -> None:
    for lang in LANGUAGES:
        for key, text in catalogue(lang).items():
            assert 0 < len(text) <= 3000, f"{lang}:{key}"


def test_open_states_agree_everywhere() -> None:
    from bot.domain.lifecycle import OPEN_STATES
    from storage import states
    from storage.records import Ticket

    assert set(states.OPEN_STATES) == {s.value for s in OPEN_STATES}
    for state in TicketState:
        ticket = Ticket(*([None] * 20))  # type: ignore[arg-type]
        object.__setattr__(ticket, "state", state.value)
        assert ticket.is_open == (state in OPEN_STATES), state
    sql = " ".join(text for _, text in migration_scripts())
    listed = "(" + ", ".join(f"'{s}'" for s in states.OPEN_STATES) + ")"
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
    assert numbers == list(range(1, len(numbers) + 1)) and len(set(numbers)) == len(numbers), names


@pytest.mark.skipif(shutil.which("ruff") is None and not Path(sys.prefix, "bin", "ruff").exists(),
                    reason="ruff is part of the test extra")
def test_the_code_is_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.prefix, "bin", "ruff"))
    result = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
