"""What ``/reload`` may change in a running bot, decided on two loaded configs (pure: no I/O).

Read at start only, so a change needs a restart: the ``telegram`` section (the token's variable, the API URLs and
timeouts the HTTP client was built with), ``storage`` (the open database), ``outbox`` (the sender's loop),
``reminders`` and ``reports`` (the job table's times), and the city's ``timezone`` (the jobs' clock). Everything
else is read when used and is swapped at once: the city file (units' and categories' names, places, zones,
groups, calendar), ``intake``, ``limits``, ``deadlines``, ``handling`` and ``admins``.

Restart-only sections are compared as the file wrote them (``Config.file_sections``), not as the running config
holds them, so a value the process overrode at start (the sandbox's API URL, a test's database) is no change.
Keys that tickets and bindings refer to (units, categories, places) may not disappear.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config.city import City
from bot.config.schema import RESTART_ONLY_SECTIONS, Config


def _first_difference(prefix: str, old: Any, new: Any) -> str | None:
    """The dotted key of the first difference between two TOML values (tables compared key by key)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new)):
            found = _first_difference(f"{prefix}.{key}", old.get(key), new.get(key))
            if found:
                return found
        return None
    return None if old == new else prefix


def restart_only_change(running: Config, new: Config) -> str | None:
    """The first key whose change needs a restart (e.g. ``storage.database``), or None."""
    for section in RESTART_ONLY_SECTIONS:
        found = _first_difference(section, running.file_sections.get(section, {}), new.file_sections.get(section, {}))
        if found:
            return found
    if running.city.timezone != new.city.timezone:
        return "timezone"
    return None


def removed_key(running: City, new: City) -> str | None:
    """A problem naming the first unit, category or place key the new city file dropped, or None."""
    for what, old_keys, new_keys in (("units", running.units, new.units),
                                     ("categories", running.categories, new.categories),
                                     ("places", running.places, new.places)):
        gone = [item.key for item in old_keys if item.key not in {n.key for n in new_keys}]
        if gone:
            return (f"{what}: the key {gone[0]!r} is gone, but tickets and bindings refer to it"
                    " (keep the key and change its names instead)")
    return None
