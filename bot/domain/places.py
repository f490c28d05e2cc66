"""Match a typed place ("阜阳火车站北广场门口", "fuyang railway station") against the city's known places.

Texts are compared after normalisation (NFKC, casefold, no whitespace, punctuation or symbols), so
"阜阳 火车站。", "阜阳火车站" and full-width variants are the same. The decision, in order:

1. the text equals a name or alias of exactly one place → that place;
2. the text contains the name of exactly one place (after dropping names that are only part of a longer
   matched name, so "阜阳" does not compete with "阜阳火车站") → that place;
3. no name is contained in the text, and the text is part of the names of exactly one place → that place;
4. otherwise up to ``limit`` candidates ranked by similarity (difflib), containment hits first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

# Below this similarity a place is not worth offering.
MIN_SIMILARITY = 0.6
# Containment on a single character ("站", "a") means nothing.
MIN_CONTAINED_CHARS = 2
# A place is typed in a few words; longer texts are cut so that matching stays cheap.
MAX_QUERY_CHARS = 80


@dataclass(frozen=True)
class PlaceName:
    """One place: a stable ``key`` and every name people use for it (zh, en, aliases)."""

    key: str
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a place needs a key")
        if isinstance(self.names, str):
            raise TypeError(f"names of {self.key!r} must be a sequence of strings, not one string")
        object.__setattr__(self, "names", tuple(self.names))


@dataclass(frozen=True)
class PlaceMatch:
    """``exact`` is the key of the one place meant, if any; else ``candidates`` lists keys, best first.

    When ``exact`` is set, ``candidates`` is empty; when nothing fits, both are empty.
    """

    exact: str | None
    candidates: tuple[str, ...]


NO_MATCH = PlaceMatch(exact=None, candidates=())

_DROPPED_CATEGORIES = ("P", "Z", "C", "S")  # punctuation, separators, controls/format, symbols


def normalize(text: str) -> str:
    """NFKC, casefold, and drop whitespace, punctuation (incl. Chinese) and symbols."""
    # NFKC again after casefolding and after dropping characters: both can leave a sequence that
    # composes differently (e.g. a combining mark that followed a dropped full stop).
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(c for c in folded if not unicodedata.category(c).startswith(_DROPPED_CATEGORIES))
    return unicodedata.normalize("NFKC", kept)


def _similarity(text: str, name: str) -> float:
    """Best of the whole-string ratio and, for a longer text, the best ratio of a same-length window.

    The window catches a typo inside a longer description ("阜阳火车占北广场" vs "阜阳火车站").
    """
    best = SequenceMatcher(None, text, name, autojunk=False).ratio()
    if len(name) >= 3 and len(text) > len(name):
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(name)
        for start in range(len(text) - len(name) + 1):
            matcher.set_seq1(text[start : start + len(name)])
            if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                best = max(best, matcher.ratio())
    return best


def _index(places: Sequence[PlaceName]) -> dict[str, tuple[str, ...]]:
    """key -> distinct non-empty normalised names, in the order given; duplicate keys are merged."""
    index: dict[str, list[str]] = {}
    for place in places:
        names = index.setdefault(place.key, [])
        for name in place.names:
            if not isinstance(name, str):  # e.g. a missing English name passed as None
                continue
            norm = normalize(name)
            if norm and norm not in names:
                names.append(norm)
    return {key: tuple(names) for key, names in index.items() if names}


def _names_in_text(text: str, index: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """key -> its longest name found inside ``text``, minus places whose hit is part of a longer hit."""
    hits: dict[str, str] = {}
    for key, names in index.items():
        inside = [n for n in names if len(n) >= MIN_CONTAINED_CHARS and n in text]
        if inside:
            hits[key] = max(inside, key=len)
    return {
        key: name
        for key, name in hits.items()
        if not any(other != name and name in other for other_key, other in hits.items() if other_key != key)
    }


def match_place(text: str, places: Sequence[PlaceName], limit: int = 5) -> PlaceMatch:
    """Which of ``places`` the resident meant by ``text``; see the module docstring for the rules."""
    if limit < 0:
        raise ValueError(f"limit must not be negative: {limit}")
    query = normalize(text[: MAX_QUERY_CHARS * 4])[:MAX_QUERY_CHARS]
    if not query:
        return NO_MATCH
    index = _index(places)

    equal = [key for key, names in index.items() if query in names]
    if len(equal) == 1:
        return PlaceMatch(exact=equal[0], candidates=())

    containing = _names_in_text(query, index)
    if len(containing) == 1 and not equal:
        return PlaceMatch(exact=next(iter(containing)), candidates=())

    contained: list[str] = []
    if len(query) >= MIN_CONTAINED_CHARS:
        contained = [key for key, names in index.items() if any(query in n for n in names)]
    if not equal and not containing and len(contained) == 1:
        return PlaceMatch(exact=contained[0], candidates=())

    # Ambiguous or approximate: rank. Places hit by equality or containment come first.
    strong = set(equal) | set(containing) | set(contained)
    scored: list[tuple[bool, float, int, str]] = []
    for order, (key, names) in enumerate(index.items()):
        score = max(_similarity(query, name) for name in names)
        if key in strong or score >= MIN_SIMILARITY:
            scored.append((key in strong, score, -order, key))
    scored.sort(reverse=True)
    return PlaceMatch(exact=None, candidates=tuple(key for *_, key in scored[:limit]))
