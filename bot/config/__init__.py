"""Deployment configuration and city description: TOML in, frozen and validated dataclasses out.

Two files. The deployment config (see ``config.example.toml``) holds the Telegram, storage, intake, limit and
outbox settings and names a city file, resolved against the config file's directory. The city file (see
``examples/fuyang/city.toml``) describes the units, categories, places and group chats of one city.

A bad file stops start-up with exactly one :class:`ConfigError` whose text is ``"<file>: <key>: <problem>"``,
e.g. ``config.toml: intake.max_photos: must be an integer ≥ 1, got "six"``. Entries of an array of tables are
named by their position counted from 0 in file order: ``city.toml: units[3].kind: …``. Unknown keys are errors
(a typo must not silently fall back to a default), and missing optional keys take the defaults of the dataclasses.

The bot token is never read from a file: ``telegram.token_env`` names the environment variable that holds it.

Where things live:

- :mod:`bot.config.validation`: the toolkit (``ConfigError``, ``FrozenMap``, the ``_Table`` reader, TOML reading).
- :mod:`bot.config.schema`: the deployment config's sections, ``Config`` and ``load_config``.
- :mod:`bot.config.city`: units, categories, places, groups, ``City``, ``load_city`` and the key rules.
- :mod:`bot.config.zones`: the GeoJSON jurisdiction polygons and their coordinate systems (``read_zones``).
- :mod:`bot.config.calendar`: the city's working-day calendar (``CalendarConfig``).

Every public name is re-exported here: ``from bot.config import Config, load_config`` is the way to use them.
"""

from bot.config.calendar import CalendarConfig
from bot.config.city import (
    KEY_MAX_LENGTH,
    KEY_PATTERN,
    LOCAL,
    Category,
    City,
    Group,
    GroupRole,
    Place,
    Unit,
    UnitKind,
    load_city,
)
from bot.config.schema import (
    DEFAULT_SENSITIVE_KEYWORDS,
    HTTP_CLIENTS,
    TELEGRAM_MAX_ALBUM,
    TELEGRAM_MAX_TEXT,
    WEEKDAYS,
    Config,
    DeadlinesConfig,
    HandlingConfig,
    HotlineConfig,
    IntakeConfig,
    LimitsConfig,
    Open311Client,
    Open311Config,
    OutboxConfig,
    RemindersConfig,
    ReportsConfig,
    StorageConfig,
    TelegramConfig,
    UnitActors,
    WebhookConfig,
    load_config,
)
from bot.config.validation import ConfigError, FrozenMap
from bot.config.zones import ZoneCrs, read_zones
from bot.domain.deadlines import DeadlineClass

__all__ = [
    "DEFAULT_SENSITIVE_KEYWORDS",
    "HTTP_CLIENTS",
    "KEY_MAX_LENGTH",
    "KEY_PATTERN",
    "LOCAL",
    "TELEGRAM_MAX_ALBUM",
    "TELEGRAM_MAX_TEXT",
    "WEEKDAYS",
    "CalendarConfig",
    "Category",
    "City",
    "Config",
    "ConfigError",
    "DeadlineClass",
    "DeadlinesConfig",
    "FrozenMap",
    "Group",
    "GroupRole",
    "HandlingConfig",
    "HotlineConfig",
    "IntakeConfig",
    "LimitsConfig",
    "Open311Client",
    "Open311Config",
    "OutboxConfig",
    "Place",
    "RemindersConfig",
    "ReportsConfig",
    "StorageConfig",
    "TelegramConfig",
    "Unit",
    "UnitActors",
    "UnitKind",
    "WebhookConfig",
    "ZoneCrs",
    "load_city",
    "load_config",
    "read_zones",
]
