"""The deployment config (``config.toml``): its sections, :class:`Config`, and :func:`load_config`.

Sections: ``[telegram]``, ``[storage]``, ``[intake]``, ``[limits]``, ``[outbox]``, ``[deadlines]``, ``[handling]``,
``[reminders]``, ``[reports]``, ``[open311]``, ``[hotline]``, plus the top-level ``admins`` and ``city`` (the city
file, read by :mod:`bot.config.city`). Each section is a frozen dataclass whose defaults are the defaults of a
missing key.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field, fields
from datetime import time
from pathlib import Path
from typing import Any, Literal

from bot.config.city import City, _parse_city
from bot.config.validation import ConfigError, _read_toml, _section, _show, _Table
from bot.domain.deadlines import DEFAULT_CLASS_DAYS, DeadlineClass, DeadlinePolicy
from bot.texts import LANGUAGES

#: Telegram hard limits that some settings must respect.
TELEGRAM_MAX_ALBUM = 10  # sendMediaGroup carries at most 10 items
TELEGRAM_MAX_TEXT = 4096  # characters in one message

#: The most working days ``deadlines.max_extension_days`` may allow (about a working year).
MAX_EXTENSION_DAYS = 250

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    http_client: str = "aiohttp"  # one of HTTP_CLIENTS: what carries the Bot API requests (bot/telegram_http.py)


#: ``telegram.http_client``: aiohttp (bot/telegram_http.py) or python-telegram-bot's own httpx request, to fall back.
HTTP_CLIENTS = ("aiohttp", "httpx")


#: Telegram's rule for a webhook's secret token: 1-256 characters A-Z, a-z, 0-9, _ and -.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")





@dataclass(frozen=True)
class WebhookConfig:
    """``[telegram.webhook]``: how ``complaint-bot run --webhook`` receives updates (bot/webhook.py).

    The secret token is read from the environment variable ``secret_env``, never from the file."""

    url: str = ""  # the public HTTPS URL Telegram posts to; empty: http://listen_host:listen_port/path (tests)
    listen_host: str = "127.0.0.1"
    listen_port: int = 8443  # 0: any free port (tests)
    path: str = "/telegram/webhook"
    allowed_updates: tuple[str, ...] = ()  # empty: every kind of update
    max_connections: int = 40  # Telegram's simultaneous deliveries (1-100)
    secret_env: str = "TELEGRAM_WEBHOOK_SECRET"
    lease_s: int = 120  # a claimed inbox row is taken over by another process after this long without renewal
    keep_processed_hours: int = 24  # processed inbox rows are kept this long (a later replay would be processed)

    def public_url(self, bound_port: int | None = None) -> str:
        if self.url:
            return self.url
        return f"http://{self.listen_host}:{bound_port or self.listen_port}{self.path}"


@dataclass(frozen=True)
class StorageConfig:
    #: A SQLite file's absolute path (a relative path in the file is resolved against the config file's
    #: directory), or a PostgreSQL URL as text (``postgresql://user@host:port/db``, its password from the
    #: environment only): what `storage.db.Database.open` takes.
    database: Path | str

    @property
    def is_postgresql(self) -> bool:
        return isinstance(self.database, str)


def _storage(table: _Table, config_dir: Path) -> StorageConfig:
    """``url`` (or its older name ``database``): a SQLite path, or a PostgreSQL URL without a password."""
    from urllib.parse import urlsplit

    table.check_keys(["url", "database"])
    if table.has("url") and table.has("database"):
        table.fail("database", "give the database once, as `url` (a SQLite path or a postgresql:// URL)")
    key = "database" if table.has("database") else "url"
    value = table.string(key)
    if "://" in value:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (a bad port raises here)
        except ValueError as error:
            table.fail(key, f"not a valid URL: {error}")
        if parts.scheme not in ("postgresql", "postgres"):
            table.fail(key, f"unknown database URL scheme {parts.scheme!r}: a SQLite path or postgresql://")
        if parts.password is not None or "password=" in parts.query:
            table.fail(key, "must not contain a password: give it in the environment (PGPASSWORD or "
                            "COMPLAINT_BOT_DB_PASSWORD), never in the file")
        if not parts.path.strip("/"):
            table.fail(key, "names no database: postgresql://user@host:port/DATABASE")
        return StorageConfig(database=value)
    path = Path(value)
    return StorageConfig(database=path if path.is_absolute() else config_dir / path)


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
    immediate_days: int = DEFAULT_CLASS_DAYS[DeadlineClass.IMMEDIATE]
    general_days: int = DEFAULT_CLASS_DAYS[DeadlineClass.GENERAL]
    complex_days: int = DEFAULT_CLASS_DAYS[DeadlineClass.COMPLEX]
    warn_days_before_horizon: int = 30
    max_extension_days: int = 30  # the most working days one extension request may ask for

    def policy(self) -> DeadlinePolicy:
        # One ``<class>_days`` setting per deadline class: a class added to the enum needs its setting here.
        return DeadlinePolicy(
            sign_hours=self.sign_within_working_hours,
            class_days={cls: getattr(self, f"{cls.value}_days") for cls in DeadlineClass},
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
    group_language: str = "zh"  # the catalogue language of cards, digests and alerts in the group chats


@dataclass(frozen=True)
class HotlineConfig:
    """``[hotline]``: the hotline operators' callback (回访) of their callers."""

    callback_tries: int = 3  # calls nobody answers before the case is closed as "caller unreachable"


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
    #: (rate, weight) pairs ordering the ranking by a weighted mean of those rates (``RANKING_RATES``); empty:
    #: by the on-time completion rate, as always.
    ranking_weights: tuple[tuple[str, float], ...] = ()


#: The rates ``reports.ranking_weights`` may weigh: on-time completion and the three rates (三率).
RANKING_RATES = ("on_time", "response", "resolution", "satisfaction")


@dataclass(frozen=True)
class Open311Client:
    """``[open311.clients.<name>]``: one API client (a mini-program, a FixMyStreet installation …). Only the
    SHA-256 of its key is stored (``complaint-bot api-key NAME`` makes one); the name is the tickets' client."""

    name: str
    key_sha256: str
    requests_per_minute: int | None = None  # None: the section's ``requests_per_minute``


@dataclass(frozen=True)
class Open311Config:
    """``[open311]``: the Open311 GeoReport v2 server (``bot.api``), off unless ``enabled``."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8311
    base_path: str = "/open311/v2"
    jurisdiction_id: str = ""  # "": a jurisdiction_id a client sends is not checked (one city per endpoint)
    descriptions_public: bool = False  # the resident's words in GET requests (/status never shows them)
    max_body_bytes: int = 10 * 1024 * 1024  # a larger request is refused (413) before it is read
    requests_per_minute: int = 60  # per API key
    clients: tuple[Open311Client, ...] = ()

    def client(self, name: str) -> Open311Client:
        return next(c for c in self.clients if c.name == name)


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_OPEN311_KEYS = ("enabled", "host", "port", "base_path", "jurisdiction_id", "descriptions_public", "max_body_bytes",
                 "requests_per_minute", "clients")


def _open311(table: _Table) -> Open311Config:
    from bot.config.city import KEY_MAX_LENGTH, KEY_PATTERN

    d = Open311Config()
    table.check_keys(_OPEN311_KEYS)
    base_path = table.string("base_path", d.base_path).rstrip("/")
    if not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", base_path):
        table.fail("base_path", f'must be a URL path like "/open311/v2", got {_show(base_path)}')
    port = table.integer("port", d.port, minimum=0)
    if port > 65535:
        table.fail("port", f"must be a TCP port (0 … 65535; 0: any free port), got {port}")
    jurisdiction = table._get("jurisdiction_id", d.jurisdiction_id)
    if not isinstance(jurisdiction, str):
        table.fail("jurisdiction_id", f"must be a string, got {_show(jurisdiction)}")
    clients_table = table.table("clients")
    clients = []
    for name in clients_table.data:
        item = clients_table.table(name)
        if not KEY_PATTERN.fullmatch(name) or len(name) > KEY_MAX_LENGTH:
            clients_table.fail(name, f"a client's name must be lowercase letters, digits and _ (starting with a "
                               f"letter, at most {KEY_MAX_LENGTH}), got {_show(name)}")
        item.check_keys(("key_sha256", "requests_per_minute"))
        digest = item.string("key_sha256").lower()
        if not _SHA256_HEX.fullmatch(digest):
            item.fail("key_sha256", "must be the 64 hex digits of the key's SHA-256 (complaint-bot api-key NAME "
                      "prints it)")
        if digest in {c.key_sha256 for c in clients}:
            item.fail("key_sha256", "another client has the same key")
        rate = item.integer("requests_per_minute") if item.has("requests_per_minute") else None
        clients.append(Open311Client(name=name, key_sha256=digest, requests_per_minute=rate))
    return Open311Config(
        enabled=table.boolean("enabled", d.enabled), host=table.string("host", d.host), port=port,
        base_path=base_path, jurisdiction_id=jurisdiction.strip(),
        descriptions_public=table.boolean("descriptions_public", d.descriptions_public),
        max_body_bytes=table.integer("max_body_bytes", d.max_body_bytes),
        requests_per_minute=table.integer("requests_per_minute", d.requests_per_minute),
        clients=tuple(clients),
    )


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


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
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    open311: Open311Config = field(default_factory=Open311Config)
    hotline: HotlineConfig = field(default_factory=HotlineConfig)
    #: The restart-only sections as the file wrote them (see ``bot.config.reloading``): what /reload compares.
    file_sections: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

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

    def webhook_secret(self) -> str:
        """The webhook's secret token from the environment variable named by ``telegram.webhook.secret_env``."""
        name = self.webhook.secret_env
        secret = os.environ.get(name, "").strip()
        if not _SECRET_TOKEN.fullmatch(secret):
            raise ConfigError(
                f"{self.path}: telegram.webhook.secret_env: set {name} to the webhook's secret token, 1-256 "
                "characters A-Z, a-z, 0-9, _ and - (read from the environment, never from a file)"
                + (" (it is set, but not like that)" if secret else "")
            )
        return secret


# --------------------------------------------------------------------------------------------------------------
# Loading the deployment config

#: Sections read only at start: changing one needs a restart (``/reload`` refuses it, naming the key).
RESTART_ONLY_SECTIONS = ("telegram", "storage", "outbox", "reminders", "reports", "open311")

_CONFIG_KEYS = ("city", "admins", "telegram", "storage", "intake", "limits", "outbox", "deadlines", "handling",
                "reminders", "reports", "open311", "hotline")


def load_config(path: str | Path) -> Config:
    """Load and validate a deployment config and the city file it names; ConfigError on any problem."""
    shown = str(path)
    config_path = Path(path).resolve()
    top = _Table(shown, "", _read_toml(config_path, shown))
    top.check_keys(_CONFIG_KEYS)

    telegram_table = top.table("telegram")
    webhook = _webhook(telegram_table.table("webhook"))
    telegram_table = _Table(telegram_table.file, telegram_table.where,
                            {k: v for k, v in telegram_table.data.items() if k != "webhook"})
    telegram = _section(telegram_table, TelegramConfig)
    _check_telegram(telegram_table, telegram)

    storage_table = top.table("storage", required=True)
    storage = _storage(storage_table, config_path.parent)

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
    if deadlines.max_extension_days > MAX_EXTENSION_DAYS:
        top.table("deadlines").fail("max_extension_days", f"must be at most {MAX_EXTENSION_DAYS} (about a working"
                                    f" year), got {deadlines.max_extension_days}")
    handling = _handling(top.table("handling"))
    hotline = _section(top.table("hotline"), HotlineConfig)
    reminders = _reminders(top.table("reminders"))
    reports_table = top.table("reports")
    reports_table.check_keys(f.name for f in fields(ReportsConfig))
    reports = ReportsConfig(
        daily_at=_clock_time(reports_table, "daily_at", ReportsConfig.daily_at),
        weekly_on=reports_table.choice("weekly_on", WEEKDAYS, ReportsConfig.weekly_on),
        weekly_at=_clock_time(reports_table, "weekly_at", ReportsConfig.weekly_at),
        ranking_weights=_ranking_weights(reports_table),
    )

    open311 = _open311(top.table("open311"))

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
        webhook=webhook,
        open311=open311,
        hotline=hotline,
        file_sections={name: copy.deepcopy(top.data.get(name, {})) for name in RESTART_ONLY_SECTIONS},
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
        group_language=table.choice("group_language", LANGUAGES, defaults.group_language),
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
    table.choice("http_client", HTTP_CLIENTS, telegram.http_client)
    if not _ENV_NAME.fullmatch(telegram.token_env):
        table.fail("token_env", f"must be the name of an environment variable, got {_show(telegram.token_env)}")


def _webhook(table: _Table) -> WebhookConfig:
    defaults = WebhookConfig()
    for key in ("secret", "secret_token", "token"):
        if table.has(key):
            table.fail(key, "the secret token is never read from a file: set the environment variable named by"
                            f" secret_env ({defaults.secret_env} unless you name another) and remove this key")
    table.check_keys(f.name for f in fields(WebhookConfig))
    url = table.data.get("url", "")
    if not isinstance(url, str):
        table.fail("url", f"must be the public https:// URL Telegram posts to, got {_show(url)}")
    url = url.strip()
    if url and not url.startswith(("https://", "http://")):
        table.fail("url", f"must be the public https:// URL Telegram posts to, got {_show(url)}")
    path = table.string("path", defaults.path)
    if not path.startswith("/"):
        table.fail("path", f"must start with /, got {_show(path)}")
    max_connections = table.integer("max_connections", defaults.max_connections)
    if max_connections > 100:
        table.fail("max_connections", f"must be at most 100 (Telegram's limit), got {max_connections}")
    secret_env = table.string("secret_env", defaults.secret_env)
    if not _ENV_NAME.fullmatch(secret_env):
        table.fail("secret_env", f"must be the name of an environment variable, got {_show(secret_env)}")
    return WebhookConfig(
        url=url,
        listen_host=table.string("listen_host", defaults.listen_host),
        listen_port=table.integer("listen_port", defaults.listen_port, minimum=0),
        path=path,
        allowed_updates=table.strings("allowed_updates", defaults.allowed_updates),
        max_connections=max_connections,
        secret_env=secret_env,
        lease_s=table.integer("lease_s", defaults.lease_s),
        keep_processed_hours=table.integer("keep_processed_hours", defaults.keep_processed_hours),
    )


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


def _ranking_weights(reports: _Table) -> tuple[tuple[str, float], ...]:
    """``[reports.ranking_weights]``: a weight ≥ 0 per rate named (RANKING_RATES), at least one of them > 0."""
    table = reports.table("ranking_weights")
    table.check_keys(RANKING_RATES)
    weights = []
    for name in RANKING_RATES:
        if table.has(name):
            weight = table.number(name)
            if weight < 0:
                table.fail(name, f"must be a weight ≥ 0, got {weight:g}")
            weights.append((name, weight))
    if weights and not any(weight > 0 for _, weight in weights):
        table.fail(None, "at least one weight must be > 0 (leave the table out to rank by on-time completion)")
    return tuple(weights)
