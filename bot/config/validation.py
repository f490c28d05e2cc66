"""The validation toolkit every config reader shares: one clear, one-line message per problem.

- :class:`ConfigError`, whose text is the whole message for the operator: ``"<file>: <key>: <problem>"``.
- :class:`FrozenMap`, the read-only, hashable mapping the loaded dataclasses hold.
- :class:`_Table`: one TOML table plus where it is (file and dotted key), with typed getters (``integer``,
  ``number``, ``boolean``, ``string``, ``choice``, ``strings``, ``table``, ``tables``) that fail with that message,
  and ``check_keys``, which refuses unknown keys with a "did you mean" hint.
- :func:`_read_toml` (a file, or the reason it cannot be read) and :func:`_section` (a flat settings section read
  from the fields and defaults of its dataclass).
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import MISSING, fields
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NoReturn, TypeVar, get_type_hints


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

