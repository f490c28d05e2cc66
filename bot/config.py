"""Deployment configuration and city description: TOML in, frozen and validated dataclasses out.

Two files. The deployment config (see ``config.example.toml``) holds the Telegram, storage, intake, limit and
outbox settings and names a city file, resolved against the config file's directory. The city file (see
``examples/fuyang/city.toml``) describes the units, categories, places and group chats of one city.

A bad file stops start-up with exactly one :class:`ConfigError` whose text is ``"<file>: <key>: <problem>"``,
e.g. ``config.toml: intake.max_photos: must be an integer ≥ 1, got "six"``. Entries of an array of tables are
named by their position counted from 0 in file order: ``city.toml: units[3].kind: …``. Unknown keys are errors
(a typo must not silently fall back to a default), and missing optional keys take the defaults below.

The bot token is never read from a file: ``telegram.token_env`` names the environment variable that holds it.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar, get_args, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
from fast_geocn.coord import bd09_to_wgs84, gcj02_to_wgs84
from shapely.geometry import shape
from shapely.validation import explain_validity

from bot.domain.calendar import DeclaredYear, Fallback, WorkingCalendar
from bot.domain.deadlines import DeadlinePolicy
from bot.domain.geo import Bounds
from bot.domain.routing import CategoryRule, Router, Zone

UnitKind = Literal["district", "department", "zone"]
DeadlineClass = Literal["immediate", "general", "complex"]
GroupRole = Literal["unit", "coordination", "supervision"]

#: The value of ``Category.route`` (or of a ``routes`` entry) meaning "the unit where it happened".
LOCAL = "local"

#: Keys of units, categories, places and groups. Short and ASCII because they travel in callback data.
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
KEY_MAX_LENGTH = 32

#: Telegram hard limits that some settings must respect.
TELEGRAM_MAX_ALBUM = 10  # sendMediaGroup carries at most 10 items
TELEGRAM_MAX_TEXT = 4096  # characters in one message

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigError(Exception):
    """A configuration problem. ``str(error)`` is the whole message for the operator."""


class FrozenMap(Mapping[str, str]):
    """A read-only, hashable, picklable mapping (MappingProxyType is neither hashable nor picklable)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, str] | None = None) -> None:
        object.__setattr__(self, "_data", dict(data or {}))

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("FrozenMap is read-only")

    def __reduce__(self) -> tuple[type[FrozenMap], tuple[dict[str, str]]]:
        return (FrozenMap, (self._data,))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


def _pick(lang: str, zh: str, en: str) -> str:
    """Chinese unless the (Telegram) language code is English: "en", "en-US", "EN"…"""
    return en if lang.lower().startswith("en") else zh


# --------------------------------------------------------------------------------------------------------------
# The deployment config


@dataclass(frozen=True)
class TelegramConfig:
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    token_env: str = "TELEGRAM_BOT_TOKEN"
    poll_timeout_s: float = 30
    connect_timeout_s: float = 10
    read_timeout_s: float = 10
    write_timeout_s: float = 20
    rate_limiter: bool = True


@dataclass(frozen=True)
class StorageConfig:
    database: Path  # absolute: a relative path in the file is resolved against the config file's directory


@dataclass(frozen=True)
class IntakeConfig:
    max_photos: int = 6
    description_min_chars: int = 10
    description_max_chars: int = 1500
    duplicate_radius_m: float = 300
    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    categories_per_page: int = 6
    album_settle_s: float = 0.8


@dataclass(frozen=True)
class LimitsConfig:
    tickets_per_day: int = 5
    messages_per_minute: int = 30


@dataclass(frozen=True)
class OutboxConfig:
    max_attempts: int = 8
    poll_interval_s: float = 1.0
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300


@dataclass(frozen=True)
class DeadlinesConfig:
    """``[deadlines]``: sign-for within working hours, handling days per class, and when to warn that the
    working-day calendar runs out (days before its horizon)."""

    sign_within_working_hours: float = 4
    immediate_days: int = 2
    general_days: int = 5
    complex_days: int = 15
    warn_days_before_horizon: int = 30

    def policy(self) -> DeadlinePolicy:
        return DeadlinePolicy(
            sign_hours=self.sign_within_working_hours,
            class_days={
                "immediate": self.immediate_days,
                "general": self.general_days,
                "complex": self.complex_days,
            },
        )


UnitActors = Literal["admins_and_liaisons", "liaisons", "admins"]

#: Words that make a complaint sensitive whatever its category (the kindergarten case: tell supervisors at once).
DEFAULT_SENSITIVE_KEYWORDS = ("幼儿园", "学校", "学生", "儿童", "燃气", "煤气", "爆炸", "火灾", "坍塌", "群体",
                              "上百人", "kindergarten", "school", "gas leak")


@dataclass(frozen=True)
class HandlingConfig:
    """``[handling]``: the dispatch loop's knobs."""

    max_bounces: int = 2  # returns by units before a case is escalated to the coordinators and flagged
    unit_actors: UnitActors = "admins_and_liaisons"  # who may press a unit card's buttons
    code_ttl_hours: int = 24  # one-time binding / registration codes
    question_ttl_minutes: int = 30  # how long the bot waits for a reason or an answer typed in a group
    answer_max_chars: int = 1500
    auto_close_days: int = 7  # resolved and not rated within this many days: closed
    sensitive_keywords: tuple[str, ...] = DEFAULT_SENSITIVE_KEYWORDS


@dataclass(frozen=True)
class RemindersConfig:
    """``[reminders]``: what the scheduler sends about deadlines, and when it keeps quiet."""

    before_working_hours: tuple[float, ...] = (7.0, 2.0)  # reminders this much working time before a deadline
    sweep_interval_s: int = 60
    quiet_from: str = "21:00"  # local time: nothing is sent from here ...
    quiet_until: str = "08:00"  # ... until here; what falls due meanwhile waits for the morning
    morning_digest_at: str = "08:30"  # each unit chat's open cases, on working days
    escalate_overdue: bool = True  # overdue cases are also reported to the supervision group


@dataclass(frozen=True)
class ReportsConfig:
    """``[reports]``: what the supervision group receives on a schedule (local times)."""

    daily_at: str = "08:00"  # yesterday's figures: text and chart
    weekly_on: str = "monday"  # last week's figures: text, chart and the .xlsx ledger
    weekly_at: str = "08:10"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# --------------------------------------------------------------------------------------------------------------
# The city


@dataclass(frozen=True)
class Unit:
    """A body that handles cases: a district (属地), a line department (行业部门) or a special zone (园区)."""

    key: str
    kind: UnitKind
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return _pick(lang, self.name_zh, self.name_en)


@dataclass(frozen=True)
class Category:
    """What a complaint is about, its deadline class and who handles it.

    ``route`` is ``"local"`` (the district or zone where it happened) or the key of a unit (a line department).
    ``routes`` overrides that per district: ``{district key: unit key or "local"}``.
    """

    key: str
    name_zh: str
    name_en: str
    deadline_class: DeadlineClass
    route: str
    routes: Mapping[str, str] = field(default_factory=FrozenMap)
    keywords: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return _pick(lang, self.name_zh, self.name_en)

    def route_in(self, district: str | None) -> str:
        """The route for a case in ``district`` (a unit key, or None if unknown): a unit key or ``"local"``."""
        if district is not None and district in self.routes:
            return self.routes[district]
        return self.route


@dataclass(frozen=True)
class Place:
    """A well-known place a resident may type instead of sharing a location."""

    key: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]
    unit: str  # the district or zone it lies in
    lat: float
    lon: float

    def name(self, lang: str) -> str:
        return _pick(lang, self.name_zh, self.name_en)


@dataclass(frozen=True)
class Group:
    """A group chat the bot works in: a unit's liaison chat, the coordination or the supervision group."""

    key: str
    title: str
    role: GroupRole
    unit: str | None  # set iff role == "unit"


@dataclass(frozen=True)
class CalendarConfig:
    """The city file's ``[calendar]``: working hours, local extras, declared years, the unknown-year policy."""

    working_hours: tuple[tuple[time, time], ...] = ((time(8, 30), time(12)), (time(14, 30), time(17, 30)))
    fallback: Fallback = "error"
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    years: tuple[DeclaredYear, ...] = ()

    def calendar(self, tz: ZoneInfo) -> WorkingCalendar:
        return WorkingCalendar(
            tz=tz,
            hours=self.working_hours,
            declared={y.year: y for y in self.years},
            extra_holidays=self.extra_holidays,
            extra_workdays=self.extra_workdays,
            fallback=self.fallback,
        )


@dataclass(frozen=True)
class City:
    name_zh: str
    name_en: str
    timezone: ZoneInfo
    bounds: Bounds
    units: tuple[Unit, ...]
    categories: tuple[Category, ...]
    places: tuple[Place, ...]
    groups: tuple[Group, ...]
    zones: tuple[Zone, ...] = ()  # jurisdiction polygons from the city's [zones] file, in WGS84
    calendar_config: CalendarConfig = field(default_factory=CalendarConfig)

    def name(self, lang: str) -> str:
        return _pick(lang, self.name_zh, self.name_en)

    def router(self) -> Router:
        """Routing by location and category for this city (built on first use, then shared)."""
        return self._router

    def calendar(self) -> WorkingCalendar:
        """Working days and hours of this city (built on first use, then shared)."""
        return self._calendar

    def unit(self, key: str) -> Unit:
        """The unit with this key; KeyError if there is none."""
        return self._units_by_key[key]

    def category(self, key: str) -> Category:
        """The category with this key; KeyError if there is none."""
        return self._categories_by_key[key]

    def place(self, key: str) -> Place:
        """The place with this key; KeyError if there is none."""
        return self._places_by_key[key]

    def group(self, key: str) -> Group:
        """The group with this key; KeyError if there is none."""
        return self._groups_by_key[key]

    def group_for_unit(self, unit: str) -> Group | None:
        """The liaison group of a unit, if the city file declares one."""
        return next((g for g in self.groups if g.role == "unit" and g.unit == unit), None)

    def group_with_role(self, role: Literal["coordination", "supervision"]) -> Group | None:
        """The coordination or supervision group, if the city file declares one (there is at most one)."""
        return next((g for g in self.groups if g.role == role), None)

    # Lookup tables, built on first use (cached_property writes to __dict__, which a frozen dataclass allows).
    @cached_property
    def _calendar(self) -> WorkingCalendar:
        return self.calendar_config.calendar(self.timezone)

    @cached_property
    def _units_by_key(self) -> dict[str, Unit]:
        return {u.key: u for u in self.units}

    @cached_property
    def _categories_by_key(self) -> dict[str, Category]:
        return {c.key: c for c in self.categories}

    @cached_property
    def _places_by_key(self) -> dict[str, Place]:
        return {p.key: p for p in self.places}

    @cached_property
    def _groups_by_key(self) -> dict[str, Group]:
        return {g.key: g for g in self.groups}

    @cached_property
    def _router(self) -> Router:
        rules = {c.key: CategoryRule(key=c.key, route=c.route, routes=c.routes) for c in self.categories}
        return Router(self.zones, rules, frozenset(u.key for u in self.units if u.kind == "district"))


@dataclass(frozen=True)
class Config:
    path: Path  # the config file, absolute
    telegram: TelegramConfig
    storage: StorageConfig
    intake: IntakeConfig
    limits: LimitsConfig
    outbox: OutboxConfig
    admins: tuple[int, ...]
    city: City
    deadlines: DeadlinesConfig = field(default_factory=DeadlinesConfig)
    handling: HandlingConfig = field(default_factory=HandlingConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)

    def token(self) -> str:
        """The bot token from the environment variable named by ``telegram.token_env``."""
        name = self.telegram.token_env
        token = os.environ.get(name, "").strip()
        if not token:
            raise ConfigError(
                f"{self.path}: telegram.token_env: set {name} to the bot's token "
                "(the token is read from the environment, never from a file)"
            )
        return token


# --------------------------------------------------------------------------------------------------------------
# Reading TOML tables with one clear message per problem

_REQUIRED: Any = object()
_T = TypeVar("_T")


def _show(value: object) -> str:
    """A value as the operator wrote it in TOML, for "got …" in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime | date | time):
        return f"a date/time ({value.isoformat()})"
    return repr(value)


def _quoted(options: Iterable[str]) -> str:
    return ", ".join(json.dumps(o, ensure_ascii=False) for o in options)


class _Table:
    """One TOML table plus where it is (file and dotted key), so every problem names both."""

    def __init__(self, file: str, where: str, data: Mapping[str, Any]) -> None:
        self.file = file
        self.where = where
        self.data = data

    def path(self, key: str | None = None) -> str:
        if key is None:
            return self.where
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str | None, problem: str) -> NoReturn:
        where = self.path(key)
        raise ConfigError(f"{self.file}: {where}: {problem}" if where else f"{self.file}: {problem}")

    def check_keys(self, known: Iterable[str]) -> None:
        known = list(known)
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(known)})"
                self.fail(None, f"unknown key {key!r}{hint}")

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, default: Any) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _REQUIRED:
            self.fail(key, "required key is missing")
        return default

    def integer(self, key: str, default: Any = _REQUIRED, minimum: int = 1) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(key, f"must be an integer ≥ {minimum}, got {_show(value)}")
        return value

    def number(self, key: str, default: Any = _REQUIRED, positive: bool = False) -> float:
        value = self._get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or (positive and value <= 0):
            self.fail(key, f"must be a number{' > 0' if positive else ''}, got {_show(value)}")
        return float(value)

    def boolean(self, key: str, default: Any = _REQUIRED) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {_show(value)}")
        return value

    def string(self, key: str, default: Any = _REQUIRED) -> str:
        """A string with something in it besides white space (surrounding white space is dropped)."""
        value = self._get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, got {_show(value)}")
        return value.strip()

    def choice(self, key: str, options: tuple[str, ...], default: Any = _REQUIRED) -> str:
        value = self._get(key, default)
        if value not in options:
            self.fail(key, f"must be one of {_quoted(options)}, got {_show(value)}")
        return value

    def key(self, key: str = "key") -> str:
        value = self._get(key, _REQUIRED)
        if not isinstance(value, str) or not KEY_PATTERN.fullmatch(value) or len(value) > KEY_MAX_LENGTH:
            self.fail(
                key,
                f"must be lowercase letters, digits and _ (starting with a letter, at most {KEY_MAX_LENGTH}),"
                f" got {_show(value)}",
            )
        return value

    def strings(self, key: str, default: Any = _REQUIRED) -> tuple[str, ...]:
        value = self._get(key, default)
        if isinstance(value, tuple):  # the default
            return value
        if not isinstance(value, list):
            self.fail(key, f"must be an array of strings, got {_show(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{key}[{i}]", f"must be a non-empty string, got {_show(item)}")
        return tuple(item.strip() for item in value)

    def table(self, key: str, required: bool = False) -> _Table:
        value = self._get(key, _REQUIRED if required else {})
        if not isinstance(value, dict):
            self.fail(key, f"must be a table ([{self.path(key)}]), got {_show(value)}")
        return _Table(self.file, self.path(key), value)

    def tables(self, key: str, required: bool = False) -> list[_Table]:
        value = self._get(key, _REQUIRED if required else [])
        if not isinstance(value, list):
            self.fail(key, f"must be an array of tables ([[{self.path(key)}]] entries), got {_show(value)}")
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail(f"{key}[{i}]", f"must be a table, got {_show(item)}")
            items.append(_Table(self.file, self.path(f"{key}[{i}]"), item))
        return items


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{shown}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{shown}: is a directory, not a file") from None
    except OSError as err:
        raise ConfigError(f"{shown}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{shown}: invalid TOML: {err}") from None


def _section(table: _Table, cls: type[_T]) -> _T:
    """Read a settings section whose fields are all str/int/float/bool with defaults.

    Every number in these sections is a size, count, interval or timeout: integers must be ≥ 1 and other
    numbers > 0.
    """
    hints = get_type_hints(cls)
    table.check_keys(f.name for f in fields(cls))  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        default = _REQUIRED if f.default is MISSING else f.default
        kind = hints[f.name]
        if kind is bool:
            values[f.name] = table.boolean(f.name, default)
        elif kind is int:
            values[f.name] = table.integer(f.name, default)
        elif kind is float:
            values[f.name] = table.number(f.name, default, positive=True)
        elif kind is str:
            values[f.name] = table.string(f.name, default)
        else:  # pragma: no cover - a programming error, not a config error
            raise TypeError(f"{cls.__name__}.{f.name}: unsupported type {kind}")
    return cls(**values)


# --------------------------------------------------------------------------------------------------------------
# Loading the deployment config

_CONFIG_KEYS = ("city", "admins", "telegram", "storage", "intake", "limits", "outbox", "deadlines", "handling",
                "reminders", "reports")


def load_config(path: str | Path) -> Config:
    """Load and validate a deployment config and the city file it names; ConfigError on any problem."""
    shown = str(path)
    config_path = Path(path).resolve()
    top = _Table(shown, "", _read_toml(config_path, shown))
    top.check_keys(_CONFIG_KEYS)

    telegram = _section(top.table("telegram"), TelegramConfig)
    _check_telegram(top.table("telegram"), telegram)

    storage_table = top.table("storage", required=True)
    storage_table.check_keys(["database"])
    database = Path(storage_table.string("database"))
    storage = StorageConfig(database=database if database.is_absolute() else config_path.parent / database)

    intake_table = top.table("intake")
    intake = _section(intake_table, IntakeConfig)
    if intake.max_photos > TELEGRAM_MAX_ALBUM:
        intake_table.fail(
            "max_photos", f"must be at most {TELEGRAM_MAX_ALBUM} (one Telegram album), got {intake.max_photos}"
        )
    if intake.description_max_chars > TELEGRAM_MAX_TEXT:
        intake_table.fail(
            "description_max_chars",
            f"must be at most {TELEGRAM_MAX_TEXT} (one Telegram message), got {intake.description_max_chars}",
        )
    if intake.description_min_chars > intake.description_max_chars:
        intake_table.fail(
            "description_min_chars",
            f"must not exceed description_max_chars ({intake.description_max_chars}),"
            f" got {intake.description_min_chars}",
        )

    limits = _section(top.table("limits"), LimitsConfig)

    outbox_table = top.table("outbox")
    outbox = _section(outbox_table, OutboxConfig)
    if outbox.backoff_base_s > outbox.backoff_max_s:
        outbox_table.fail(
            "backoff_base_s",
            f"must not exceed backoff_max_s ({outbox.backoff_max_s:g}), got {outbox.backoff_base_s:g}",
        )

    admins = _admins(top)
    deadlines = _section(top.table("deadlines"), DeadlinesConfig)
    handling = _handling(top.table("handling"))
    reminders = _reminders(top.table("reminders"))
    reports_table = top.table("reports")
    reports_table.check_keys(f.name for f in fields(ReportsConfig))
    reports = ReportsConfig(
        daily_at=_clock_time(reports_table, "daily_at", ReportsConfig.daily_at),
        weekly_on=reports_table.choice("weekly_on", WEEKDAYS, ReportsConfig.weekly_on),
        weekly_at=_clock_time(reports_table, "weekly_at", ReportsConfig.weekly_at),
    )

    city_ref = Path(top.string("city"))
    city_path = city_ref if city_ref.is_absolute() else config_path.parent / city_ref
    city_shown = str(city_ref if city_ref.is_absolute() else Path(shown).parent / city_ref)
    if not city_path.is_file():
        top.fail("city", f"no such file: {city_shown}")
    city = _parse_city(_Table(city_shown, "", _read_toml(city_path, city_shown)), city_path.parent)

    return Config(
        path=config_path,
        telegram=telegram,
        storage=storage,
        intake=intake,
        limits=limits,
        outbox=outbox,
        admins=admins,
        city=city,
        deadlines=deadlines,
        handling=handling,
        reminders=reminders,
        reports=reports,
    )


def _handling(table: _Table) -> HandlingConfig:
    defaults = HandlingConfig()
    table.check_keys(f.name for f in fields(HandlingConfig))
    keywords = table.strings("sensitive_keywords", defaults.sensitive_keywords)
    if any(not k.strip() for k in keywords):
        table.fail("sensitive_keywords", "must not contain empty words")
    return HandlingConfig(
        max_bounces=table.integer("max_bounces", defaults.max_bounces),
        unit_actors=table.choice("unit_actors", ("admins_and_liaisons", "liaisons", "admins"),  # type: ignore[arg-type]
                                 defaults.unit_actors),
        code_ttl_hours=table.integer("code_ttl_hours", defaults.code_ttl_hours),
        question_ttl_minutes=table.integer("question_ttl_minutes", defaults.question_ttl_minutes),
        answer_max_chars=table.integer("answer_max_chars", defaults.answer_max_chars),
        auto_close_days=table.integer("auto_close_days", defaults.auto_close_days),
        sensitive_keywords=tuple(k.strip() for k in keywords),
    )


def _clock_time(table: _Table, key: str, default: str) -> str:
    value = table.string(key, default)
    try:
        time.fromisoformat(value)
    except ValueError:
        table.fail(key, f"must be a local time like \"08:30\", got {_show(value)}")
    return value


def _reminders(table: _Table) -> RemindersConfig:
    defaults = RemindersConfig()
    table.check_keys(f.name for f in fields(RemindersConfig))
    raw = table._get("before_working_hours", list(defaults.before_working_hours))
    if not isinstance(raw, list) or not all(isinstance(x, int | float) and not isinstance(x, bool) and x > 0
                                            for x in raw):
        table.fail("before_working_hours", f"must be a list of positive numbers of working hours, got {_show(raw)}")
    return RemindersConfig(
        before_working_hours=tuple(sorted((float(x) for x in raw), reverse=True)),
        sweep_interval_s=table.integer("sweep_interval_s", defaults.sweep_interval_s),
        quiet_from=_clock_time(table, "quiet_from", defaults.quiet_from),
        quiet_until=_clock_time(table, "quiet_until", defaults.quiet_until),
        morning_digest_at=_clock_time(table, "morning_digest_at", defaults.morning_digest_at),
        escalate_overdue=table.boolean("escalate_overdue", defaults.escalate_overdue),
    )


def _check_telegram(table: _Table, telegram: TelegramConfig) -> None:
    for key in ("base_url", "base_file_url"):
        url = getattr(telegram, key)
        if not url.startswith(("http://", "https://")):
            table.fail(key, f"must start with http:// or https://, got {_show(url)}")
    if not _ENV_NAME.fullmatch(telegram.token_env):
        table.fail("token_env", f"must be the name of an environment variable, got {_show(telegram.token_env)}")


def _admins(top: _Table) -> tuple[int, ...]:
    value = top.data.get("admins", [])
    if not isinstance(value, list):
        top.fail("admins", f"must be an array of Telegram user ids, got {_show(value)}")
    seen: set[int] = set()
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            top.fail(f"admins[{i}]", f"must be a Telegram user id (an integer ≥ 1), got {_show(item)}")
        if item in seen:
            top.fail(f"admins[{i}]", f"duplicate user id {item}")
        seen.add(item)
    return tuple(value)


# --------------------------------------------------------------------------------------------------------------
# Loading the city

_CITY_KEYS = (
    "name_zh", "name_en", "timezone", "bounds", "units", "categories", "places", "groups", "zones", "calendar",
)
_UNIT_KEYS = ("key", "kind", "name_zh", "name_en")
_CATEGORY_KEYS = ("key", "name_zh", "name_en", "deadline_class", "route", "routes", "keywords")
_PLACE_KEYS = ("key", "name_zh", "name_en", "aliases", "unit", "lat", "lon")
_GROUP_KEYS = ("key", "title", "role", "unit")


def load_city(path: str | Path) -> City:
    """Load and validate a city file on its own; ConfigError on any problem."""
    shown = str(path)
    return _parse_city(_Table(shown, "", _read_toml(Path(path), shown)), Path(path).parent)


def _unique_key(item: _Table, seen: dict[str, str]) -> str:
    """The item's key, failing if an earlier item of the same array already has it."""
    key = item.key()
    if key in seen:
        item.fail("key", f"duplicate key {key!r} (already used by {seen[key]})")
    seen[key] = item.where
    return key


def _parse_city(top: _Table, folder: Path) -> City:
    """``folder``: the city file's directory, against which a relative ``zones.file`` is resolved."""
    top.check_keys(_CITY_KEYS)
    name_zh = top.string("name_zh")
    name_en = top.string("name_en")
    timezone = _timezone(top)
    bounds = _bounds(top.table("bounds", required=True))
    units = _units(top)
    unit_by_key = {u.key: u for u in units}
    categories = _categories(top, unit_by_key)
    places = _places(top, unit_by_key, bounds)
    groups = _groups(top, unit_by_key)
    zones = _zones(top, folder, unit_by_key, bounds)
    calendar_config = _calendar(top.table("calendar"))
    return City(
        name_zh=name_zh,
        name_en=name_en,
        timezone=timezone,
        bounds=bounds,
        units=units,
        categories=categories,
        places=places,
        groups=groups,
        zones=zones,
        calendar_config=calendar_config,
    )


def _timezone(top: _Table) -> ZoneInfo:
    name = top.string("timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        top.fail("timezone", f'unknown time zone {_show(name)} (use an IANA name such as "Asia/Shanghai")')


def _bounds(table: _Table) -> Bounds:
    table.check_keys(("south", "west", "north", "east"))
    south, north = (table.number(k) for k in ("south", "north"))
    west, east = (table.number(k) for k in ("west", "east"))
    for key, value, limit in (("south", south, 90), ("north", north, 90), ("west", west, 180), ("east", east, 180)):
        if not -limit <= value <= limit:
            table.fail(key, f"must be between -{limit} and {limit}, got {value:g}")
    if south >= north:
        table.fail("south", f"must be less than north ({north:g}), got {south:g}")
    if west >= east:
        table.fail("west", f"must be less than east ({east:g}), got {west:g}")
    return Bounds(south=south, west=west, north=north, east=east)


def _units(top: _Table) -> tuple[Unit, ...]:
    seen: dict[str, str] = {}
    units = []
    for item in top.tables("units", required=True):
        item.check_keys(_UNIT_KEYS)
        units.append(
            Unit(
                key=_unique_key(item, seen),
                kind=item.choice("kind", get_args(UnitKind)),  # type: ignore[arg-type]
                name_zh=item.string("name_zh"),
                name_en=item.string("name_en"),
            )
        )
    return tuple(units)


def _categories(top: _Table, units: Mapping[str, Unit]) -> tuple[Category, ...]:
    items = top.tables("categories", required=True)
    if not items:
        top.fail("categories", "at least one category is required")
    has_district = any(u.kind == "district" for u in units.values())
    seen: dict[str, str] = {}
    categories = []
    for item in items:
        item.check_keys(_CATEGORY_KEYS)
        key = _unique_key(item, seen)
        name_zh = item.string("name_zh")
        name_en = item.string("name_en")
        deadline_class = item.choice("deadline_class", get_args(DeadlineClass))
        route = _route(item, "route", units)
        if route == LOCAL and not has_district:
            item.fail("route", '"local" needs at least one unit of kind "district"')
        routes_table = item.table("routes")
        routes: dict[str, str] = {}
        for district in routes_table.data:
            unit = units.get(district)
            if unit is None or unit.kind != "district":
                what = "no unit has that key" if unit is None else f"that unit is a {unit.kind}"
                routes_table.fail(None, f"{district!r} is not a district ({what})")
            routes[district] = _route(routes_table, district, units)
        categories.append(
            Category(
                key=key,
                name_zh=name_zh,
                name_en=name_en,
                deadline_class=deadline_class,  # type: ignore[arg-type]
                route=route,
                routes=FrozenMap(routes),
                keywords=item.strings("keywords", ()),
            )
        )
    return tuple(categories)


def _route(table: _Table, key: str, units: Mapping[str, Unit]) -> str:
    value = table.string(key)
    if value != LOCAL and value not in units:
        close = difflib.get_close_matches(value, list(units), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        table.fail(key, f'must be "local" or the key of a unit, got {_show(value)}: no such unit{hint}')
    return value


def _places(top: _Table, units: Mapping[str, Unit], bounds: Bounds) -> tuple[Place, ...]:
    seen: dict[str, str] = {}
    names: dict[str, str] = {}  # casefolded name or alias -> key of the place that has it
    places = []
    for item in top.tables("places"):
        item.check_keys(_PLACE_KEYS)
        key = _unique_key(item, seen)
        name_zh = item.string("name_zh")
        name_en = item.string("name_en")
        aliases = item.strings("aliases", ())
        for field_name, label in (("name_zh", name_zh), ("name_en", name_en), *(("aliases", a) for a in aliases)):
            other = names.setdefault(label.casefold(), key)
            if other != key:
                item.fail(field_name, f"{_show(label)} is already a name or alias of place {other!r}")
        unit_key = item.string("unit")
        unit = units.get(unit_key)
        if unit is None or unit.kind == "department":
            what = "no unit has that key" if unit is None else "that unit is a department"
            item.fail("unit", f"must be the key of a district or zone, got {_show(unit_key)} ({what})")
        lat = item.number("lat")
        lon = item.number("lon")
        if not -90 <= lat <= 90:
            item.fail("lat", f"must be a latitude between -90 and 90, got {lat:g}")
        if not -180 <= lon <= 180:
            item.fail("lon", f"must be a longitude between -180 and 180, got {lon:g}")
        if not bounds.contains(lat, lon):
            outside = "lat" if not bounds.south <= lat <= bounds.north else "lon"
            item.fail(
                outside,
                f"({lat:g}, {lon:g}) lies outside the city's bounds (south {bounds.south:g}, west {bounds.west:g},"
                f" north {bounds.north:g}, east {bounds.east:g})",
            )
        places.append(
            Place(key=key, name_zh=name_zh, name_en=name_en, aliases=aliases, unit=unit_key, lat=lat, lon=lon)
        )
    return tuple(places)


def _groups(top: _Table, units: Mapping[str, Unit]) -> tuple[Group, ...]:
    seen: dict[str, str] = {}
    unit_taken: dict[str, str] = {}  # unit key -> where its group was declared
    role_taken: dict[str, str] = {}  # "coordination"/"supervision" -> where it was declared
    groups = []
    for item in top.tables("groups"):
        item.check_keys(_GROUP_KEYS)
        key = _unique_key(item, seen)
        title = item.string("title")
        role = item.choice("role", get_args(GroupRole))
        unit: str | None = None
        if role == "unit":
            unit = item.string("unit")
            if unit not in units:
                close = difflib.get_close_matches(unit, list(units), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                item.fail("unit", f"no unit has the key {_show(unit)}{hint}")
            if unit in unit_taken:
                item.fail("unit", f"unit {unit!r} already has a group ({unit_taken[unit]})")
            unit_taken[unit] = item.where
        else:
            if item.has("unit"):
                item.fail("unit", f'only a group with role "unit" has a unit; this one is {role}')
            if role in role_taken:
                item.fail("role", f"there can be only one {role} group (already {role_taken[role]})")
            role_taken[role] = item.where
        groups.append(Group(key=key, title=title, role=role, unit=unit))  # type: ignore[arg-type]
    return tuple(groups)


# --------------------------------------------------------------------------------------------------------------
# Loading the zones: [zones] in the city file names a GeoJSON file of district and zone polygons

ZoneCrs = Literal["wgs84", "gcj02", "bd09"]
_ZONES_KEYS = ("file", "crs")
# Properties a zone feature may carry: the routing ones, plus names and notes for the people editing the file.
_ZONE_PROPERTIES = ("unit", "priority", "approximate", "name", "gb", "note")
_ZONE_GEOMETRIES = ("Polygon", "MultiPolygon")


def _zones(top: _Table, folder: Path, units: Mapping[str, Unit], bounds: Bounds) -> tuple[Zone, ...]:
    if not top.has("zones"):
        return ()
    table = top.table("zones")
    table.check_keys(_ZONES_KEYS)
    ref = Path(table.string("file"))
    crs: ZoneCrs = table.choice("crs", get_args(ZoneCrs))  # type: ignore[assignment]
    path = ref if ref.is_absolute() else folder / ref
    shown = str(ref if ref.is_absolute() else Path(top.file).parent / ref)
    if not path.is_file():
        table.fail("file", f"no such file: {shown}")
    return read_zones(path, units, bounds, crs=crs, shown=shown)


def read_zones(
    path: Path, units: Mapping[str, Unit], bounds: Bounds, *, crs: ZoneCrs = "wgs84", shown: str | None = None
) -> tuple[Zone, ...]:
    """Read and validate a zones GeoJSON file; geometries come back in WGS84. ConfigError on any problem.

    Each Feature is a Polygon or MultiPolygon with properties ``unit`` (a district or zone unit key),
    ``priority`` (integer ≥ 0, default 0) and ``approximate`` (default false). Once a file is configured, every
    district and zone unit must have at least one feature: a district without a polygon would silently send all
    its cases to the coordinators.
    """
    shown = shown or str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{shown}: not GeoJSON: invalid JSON: {err}") from None
    except OSError as err:
        raise ConfigError(f"{shown}: cannot read: {err.strerror or err}") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(features, list):
        what = _show(data.get("type")) if isinstance(data, dict) and "type" in data else _show(data)
        raise ConfigError(
            f'{shown}: not GeoJSON: expected an object with "type": "FeatureCollection" and "features", got {what}'
        )
    zones = [_zone(shown, i, feature, units, bounds, crs) for i, feature in enumerate(features)]
    covered = {z.unit for z in zones}
    for unit in units.values():
        if unit.kind != "department" and unit.key not in covered:
            raise ConfigError(
                f"{shown}: unit {unit.key!r} ({unit.kind}) has no feature: once zones are configured, every district"
                " and zone needs its polygon (otherwise its cases would all go to the coordinators)"
            )
    return tuple(zones)


def _zone(shown: str, index: int, feature: object, units: Mapping[str, Unit], bounds: Bounds, crs: ZoneCrs) -> Zone:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ConfigError(f'{shown}: features[{index}]: must be a GeoJSON object with "type": "Feature"')
    item = _Table(shown, f"features[{index}]", feature)
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        item.fail("properties", 'must be an object with at least "unit" (the district or zone it belongs to)')
    props = _Table(shown, item.path("properties"), properties)
    props.check_keys(_ZONE_PROPERTIES)
    unit_key = props.string("unit")
    unit = units.get(unit_key)
    if unit is None:
        close = difflib.get_close_matches(unit_key, list(units), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        props.fail("unit", f"no unit has the key {_show(unit_key)}{hint}")
    if unit.kind == "department":
        props.fail("unit", f"{unit_key!r} is a department: only districts and zones have an area")
    priority = props.integer("priority", 0, minimum=0)
    approximate = props.boolean("approximate", False)
    geometry = _zone_geometry(item, bounds, crs)
    return Zone(unit=unit_key, priority=priority, approximate=approximate, geometry=geometry)


def _zone_geometry(item: _Table, bounds: Bounds, crs: ZoneCrs) -> shapely.Geometry:
    raw = item.data.get("geometry")
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in _ZONE_GEOMETRIES:
        got = json.dumps(kind if kind else raw, ensure_ascii=False)
        item.fail("geometry", f"must be a Polygon or MultiPolygon, got {got[:60]}")
    if not all(_finite(number) for number in _numbers(raw.get("coordinates"))):
        item.fail("geometry", "has a coordinate that is not a finite number")
    try:
        geometry = shapely.force_2d(shape(raw))
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.ShapelyError) as err:
        item.fail("geometry", f"cannot be read as a {kind}: {err}")
    if geometry.is_empty:
        item.fail("geometry", "is empty")
    if not geometry.is_valid:
        item.fail(
            "geometry",
            f"is not a valid {kind}: {explain_validity(geometry)}"
            ' (a GIS can repair it, e.g. QGIS "Fix geometries" or shapely.make_valid)',
        )
    if crs != "wgs84":
        geometry = shapely.transform(geometry, _TO_WGS84[crs])
    box = shapely.box(bounds.west, bounds.south, bounds.east, bounds.north)
    west, south, east, north = geometry.bounds
    if not geometry.intersects(box):
        item.fail(
            "geometry",
            f"lies outside the city's bounds (lon {west:g}..{east:g}, lat {south:g}..{north:g}; GeoJSON coordinates"
            " are [longitude, latitude])",
        )
    if not box.covers(geometry):
        # A location outside [bounds] counts as "not in this city", so that part of the zone could never be hit.
        item.fail(
            "geometry",
            f"extends beyond the city's bounds (lon {west:g}..{east:g}, lat {south:g}..{north:g}; bounds: west"
            f" {bounds.west:g}, east {bounds.east:g}, south {bounds.south:g}, north {bounds.north:g}): widen [bounds]",
        )
    return geometry


def _numbers(value: object) -> Iterator[object]:
    """The leaves of GeoJSON ``coordinates`` (nested arrays of numbers)."""
    if isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    else:
        yield value


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _converter(point: Any) -> Any:
    """A shapely.transform function from a (lon, lat) → (lon, lat) point conversion."""

    def convert(coords: np.ndarray) -> np.ndarray:
        return np.array([point(x, y) for x, y in coords], dtype=float).reshape(-1, 2)

    return convert


#: Conversions of a zones file to WGS84 (Chinese web maps use GCJ-02: AMap, Tencent; or BD-09: Baidu).
_TO_WGS84 = {"gcj02": _converter(gcj02_to_wgs84), "bd09": _converter(bd09_to_wgs84)}


# --------------------------------------------------------------------------------------------------------------
# The city's working-day calendar ([calendar] and [[calendar.years]])

_CALENDAR_KEYS = ("working_hours", "fallback", "extra_holidays", "extra_workdays", "years")
_CALENDAR_YEAR_KEYS = ("year", "holidays", "workdays")
_HOURS_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def _calendar(table: _Table) -> CalendarConfig:
    table.check_keys(_CALENDAR_KEYS)
    defaults = CalendarConfig()
    hours = _working_hours(table) if table.has("working_hours") else defaults.working_hours
    fallback = table.choice("fallback", get_args(Fallback), defaults.fallback)
    extra_holidays = _dates(table, "extra_holidays")
    extra_workdays = _dates(table, "extra_workdays")
    both = extra_holidays.keys() & extra_workdays.keys()
    if both:
        day = min(both)
        table.fail(extra_workdays[day], f"{day.isoformat()} is also an extra holiday ({extra_holidays[day]})")
    years: dict[int, str] = {}
    declared = []
    for item in table.tables("years"):
        item.check_keys(_CALENDAR_YEAR_KEYS)
        year = item.integer("year", minimum=1900)
        if year in years:
            item.fail("year", f"{year} is already declared ({years[year]})")
        years[year] = item.where
        holidays = _dates(item, "holidays", year)
        workdays = _dates(item, "workdays", year)
        for day, where in workdays.items():
            if day in holidays:
                item.fail(where, f"{day.isoformat()} is also a holiday ({holidays[day]})")
            if day.weekday() < 5:
                item.fail(
                    where,
                    f"{day.isoformat()} is a {day.strftime('%A')}, a working day anyway: list only the adjusted"
                    " working weekend days (调休上班)",
                )
        declared.append(DeclaredYear(year=year, holidays=frozenset(holidays), workdays=frozenset(workdays)))
    return CalendarConfig(
        working_hours=hours,
        fallback=fallback,  # type: ignore[arg-type]
        extra_holidays=frozenset(extra_holidays),
        extra_workdays=frozenset(extra_workdays),
        years=tuple(declared),
    )


def _working_hours(table: _Table) -> tuple[tuple[time, time], ...]:
    """``["08:30-12:00", "14:30-17:30"]``: at least one interval, each start before its end, none overlapping."""
    texts = table.strings("working_hours")
    if not texts:
        table.fail("working_hours", 'at least one interval is required, e.g. ["08:30-12:00", "14:30-17:30"]')
    intervals: list[tuple[time, time, str, str]] = []  # start, end, where, text
    for i, text in enumerate(texts):
        where = f"working_hours[{i}]"
        match = _HOURS_RANGE.fullmatch(text)
        try:
            if match is None:
                raise ValueError
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            start, end = time(h1, m1), time(h2, m2)
        except ValueError:
            table.fail(where, f'must be a time range "HH:MM-HH:MM" such as "08:30-12:00", got {_show(text)}')
        if start >= end:
            table.fail(where, f"the start must be before the end, got {_show(text)}")
        intervals.append((start, end, where, text))
    intervals.sort()
    for (_, end, before, before_text), (start, _, where, text) in itertools.pairwise(intervals):
        if start < end:
            table.fail(where, f"{_show(text)} overlaps {_show(before_text)} ({before})")
    return tuple((start, end) for start, end, _, _ in intervals)


def _dates(table: _Table, key: str, year: int | None = None) -> dict[date, str]:
    """An array of dates: TOML dates or strings, a string may be an inclusive range "2027-02-05..2027-02-11".

    Returns each day with the ``key[i]`` it came from (for messages). With ``year``, every day must lie in it.
    """
    value = table.data.get(key, [])
    if not isinstance(value, list):
        table.fail(key, f'must be an array of dates or ranges ("2027-10-01..2027-10-07"), got {_show(value)}')
    days: dict[date, str] = {}
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        first, last = _date_range(table, where, item)
        for day in (first, last):
            if year is not None and day.year != year:
                table.fail(where, f"{day.isoformat()} is not in the declared year {year}")
        day = first
        while day <= last:
            days.setdefault(day, where)
            day = date.fromordinal(day.toordinal() + 1)
    return days


def _date_range(table: _Table, where: str, item: object) -> tuple[date, date]:
    if isinstance(item, date) and not isinstance(item, datetime):
        return item, item
    problem = f'must be a date "YYYY-MM-DD" or an inclusive range "YYYY-MM-DD..YYYY-MM-DD", got {_show(item)}'
    if not isinstance(item, str):
        table.fail(where, problem)
    first_text, dots, last_text = item.strip().partition("..")
    try:
        first = date.fromisoformat(first_text.strip())
        last = date.fromisoformat(last_text.strip()) if dots else first
    except ValueError:
        table.fail(where, problem)
    if last < first:
        table.fail(where, f"the range ends before it starts, got {_show(item)}")
    return first, last
