"""Every text a person reads, in catalogues: `zh.toml` (the default) and `en.toml`.

Keys are dotted (`intake.ask_category`); values are `str.format` templates. Values that reach Telegram with
parse_mode HTML may carry <b>/<i>/<code>; anything a person typed is escaped by the caller before formatting.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


def language_for(code: str | None) -> str:
    """Telegram's language_code → one of our catalogues (English for en-*, Chinese otherwise)."""
    if code and code.lower().split("-")[0] == "en":
        return "en"
    return DEFAULT_LANGUAGE


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All texts of a language: `<lang>.toml` plus any `<lang>.<part>.toml` (one part per feature area)."""
    folder = resources.files("bot.texts")
    names = sorted(p.name for p in folder.iterdir()
                   if p.name == f"{lang}.toml" or (p.name.startswith(f"{lang}.") and p.name.endswith(".toml")))
    flat: dict[str, str] = {}
    for name in names:
        part: dict[str, str] = {}
        _flatten("", tomllib.loads((folder / name).read_text(encoding="utf-8")), part)
        twice = set(part) & set(flat)
        if twice:
            raise ValueError(f"text keys defined twice ({name}): {sorted(twice)}")
        flat.update(part)
    return flat


class Texts:
    """Looks texts up; a key missing from a catalogue is a bug (tests check both catalogues match)."""

    def __init__(self) -> None:
        self._cats = {lang: catalogue(lang) for lang in LANGUAGES}

    def get(self, lang: str, key: str, **kwargs: Any) -> str:
        cat = self._cats.get(lang) or self._cats[DEFAULT_LANGUAGE]
        template = cat.get(key)
        if template is None:
            template = self._cats[DEFAULT_LANGUAGE][key]
        return template.format(**kwargs) if kwargs else template

    def all_variants(self, key: str) -> set[str]:
        """The text of `key` in every language (to recognise a reply-keyboard button press)."""
        return {cat[key] for cat in self._cats.values() if key in cat}

    def keys(self, lang: str) -> set[str]:
        return set(self._cats[lang])
