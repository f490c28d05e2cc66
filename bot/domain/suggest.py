"""Category suggestions for a description: which categories a resident most likely means, best first.

Pure scoring over each category's configured suggestion words (``suggest`` in the city file, apart from the
sensitivity ``keywords``) and its name, with the description segmented into words by ``jieba``:

- a suggestion word found in the text scores ``WORD`` (scaled by its length: "井盖" says more than "水"),
  also where a 了 or 的 splits it ("停了电");
- a segmented word of the text that is part of suggestion words ("灯" of "路灯", "电" of "停电") scores
  ``PART``, shared among the categories in proportion to how many of their words hold it, so a description
  that never uses the configured words still leans the right way; weighed by how rare the piece is in ordinary
  text (jieba's IDF table), so "电梯" says more than "钱";
- a pair of neighbouring characters outside the words found whole that is also a pair in suggestion words
  scores ``BIGRAM`` (shared the same way): a weak signal that does not depend on how jieba cut the text;
- a whole word listed by several categories is divided among them (a word in two categories says less about
  each), and a category whose zone hints name the place's zone gets ``ZONE`` on top of a positive score.

Ties keep the city file's order (the platform's most frequent categories first). A text with nothing that
matches ranks nothing: the resident gets the full list.

jieba's dictionary takes about a second to load, so the segmenter is built on first use (`Suggester.load`,
which callers run off the event loop), with every suggestion word added to its dictionary so that "井盖" or
"电动车" stay one word.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

#: A full suggestion word in the text (per character of the word, up to `_WORD_LENGTH_CAP` characters).
WORD = 1.0
#: A segmented word of the text that is part of (or equal to) a suggestion word, per character.
PART = 0.4
#: A character of a segmented word that is no part of any suggestion word, when the character is one.
CHAR = 0.2
#: A pair of neighbouring characters of the text, outside the words found whole, that also stands side by side
#: in suggestion words ("光钎入户" shares "入户" with none, "翻新机" shares "翻新"…), per pair, shared like a part.
BIGRAM = 0.3
#: The place's zone is one the category hints at.
ZONE = 0.6
_WORD_LENGTH_CAP = 4
#: A piece of a suggestion word as rare in ordinary text as this (jieba's inverse document frequency) weighs
#: PART as it is; rarer pieces more ("电梯" 8.9), commoner ones less ("钱" 5.3, "问题" 4.0), by the square root
#: of the ratio and within `_RARITY_RANGE`.
_RARITY_REFERENCE = 6.0
_RARITY_RANGE = (0.3, 2.0)
#: The median IDF of jieba's table: what a piece it does not list counts as.
_IDF_MEDIAN = 11.95

#: Function words that say nothing about what is wrong ("的", "了", "我们"…); never scored as parts.
_STOP = frozenset((
    "的", "了", "吗", "呢", "啊", "吧", "呀", "哦", "嘛", "么", "我", "你", "他", "她", "它", "们", "我们", "你们",
    "他们", "是", "在", "有", "和", "与", "及", "就", "都", "也", "还", "又", "很", "太", "把", "被", "给", "让",
    "这", "那", "这个", "那个", "个", "一", "一个", "没", "没有", "人", "说", "要", "会", "能", "去", "来", "到",
    "上", "下", "里", "对", "从", "向", "跟", "得", "地", "着", "过", "请", "您", "谢谢", "已经", "什么", "怎么",
    "为什么", "可以", "能不能", "问题", "反映", "投诉", "情况", "希望", "尽快", "处理", "解决", "相关", "部门",
    "现在", "一直", "好几", "几天", "天", "年", "月", "日", "the", "a", "an", "of", "to", "and", "or", "is", "are",
    "was", "be", "in", "on", "at", "for", "with", "it", "this", "that", "my", "our", "we", "i", "you", "please",
))
_TOKEN = re.compile(r"\w+")
#: A particle between a verb and its object that hides a suggestion word ("停了电" is "停电", "漏的水" is
#: "漏水"); not where it starts a word of its own ("了解", "的士", "的确").
_PARTICLE = re.compile(r"(?<=[\u4e00-\u9fff])(?:了(?!解)|的(?![士哥确]))(?=[\u4e00-\u9fff])")
_CJK_PAIR = re.compile(r"(?=([\u4e00-\u9fff]{2}))")

Segmenter = Callable[[str], list[str]]


@dataclass(frozen=True)
class CategoryWords:
    """What a category is recognised by: its key, its names and suggestion words, the zones it is likely in."""

    key: str
    words: tuple[str, ...]
    zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scored:
    key: str
    score: float


def normalise(text: str) -> str:
    """Case-folded, full-width forms made half-width (NFKC), invisible format characters dropped."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").casefold()


class Suggester:
    """Ranks categories for a text. Build once per city; `load` (slow, once) before `rank` on a hot path."""

    def __init__(self, categories: Sequence[CategoryWords], segmenter: Segmenter | None = None,
                 rarity: Mapping[str, float] | None = None) -> None:
        self._categories = tuple(categories)
        self._order = {c.key: i for i, c in enumerate(categories)}
        self._zones = {c.key: frozenset(c.zones) for c in categories}
        holders: dict[str, set[str]] = defaultdict(set)
        for category in categories:
            for word in category.words:
                word = normalise(word).strip()
                if word:
                    holders[word].add(category.key)
        #: suggestion word → the categories holding it
        self._words = {w: frozenset(keys) for w, keys in holders.items()}
        parts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for word, keys in self._words.items():
            for part in _parts(word):
                for key in keys:
                    parts[part][key] += 1
        #: every piece of a suggestion word → each category's share of the words with that piece ("电" is
        #: mostly power supply: 停电, 电费, 电表…)
        self._parts = {p: {k: n / sum(counts.values()) for k, n in counts.items()}
                       for p, counts in parts.items() if p not in _STOP}
        #: every pair of neighbouring characters of a suggestion word → each category's share, like a part
        self._bigrams = {p: shares for p, shares in self._parts.items() if len(p) == 2 and not p.isascii()}
        # Long words first, so "电动车" is credited once, not again as "电动"; Latin words match whole words only.
        self._cjk_words = sorted((w for w in self._words if not w.isascii()), key=len, reverse=True)
        self._latin_words = {w: re.compile(rf"(?<!\w){re.escape(w)}(?!\w)") for w in self._words if w.isascii()}
        self._segmenter = segmenter
        #: piece → how much more (or less) than usual it says, from how rare it is in ordinary text; a given
        #: segmenter without a table weighs every piece alike
        self._rarity: Mapping[str, float] = rarity if rarity is not None else {}
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[type[Suggester], tuple[tuple[CategoryWords, ...]]]:
        # Rebuilt from its categories: a pickled config does not carry the segmenter (it loads again on use).
        return (Suggester, (self._categories,))

    @property
    def words(self) -> Iterable[str]:
        return self._words

    def load(self) -> None:
        """Build the segmenter if none was given (jieba with the suggestion words added). Thread-safe, once."""
        with self._lock:
            if self._segmenter is None:
                self._segmenter = jieba_segmenter(self._words)
                if not self._rarity:
                    self._rarity = jieba_rarity(self._parts)

    @property
    def loaded(self) -> bool:
        return self._segmenter is not None

    def rank(self, text: str, zone: str | None = None, limit: int | None = None) -> list[Scored]:
        """Categories with a positive score, best first (ties in the city file's order), at most `limit`."""
        scores: dict[str, float] = defaultdict(float)
        text = normalise(text)
        if any(ch.isalnum() for ch in text):
            self._score_words(text, scores)
            self._score_parts(text, scores)
        if zone is not None:
            for key in list(scores):
                if zone in self._zones[key]:
                    scores[key] += ZONE
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self._order[kv[0]]))
        result = [Scored(key, round(score, 4)) for key, score in ranked if score > 0]
        return result[:limit] if limit is not None else result

    def _score_words(self, text: str, scores: dict[str, float]) -> None:
        remaining = self._take_words(text, set(), scores)
        for word, pattern in self._latin_words.items():
            if pattern.search(text):
                self._credit(word, self._words[word], WORD, scores)
        self._score_bigrams(remaining, scores)

    def _take_words(self, text: str, found: set[str], scores: dict[str, float]) -> str:
        """Credit each suggestion word in `text` once (long words first); the text with the words blanked.
        A second pass over the text without its particles finds words a 了 or 的 split ("停了电")."""
        remaining = text
        for word in self._cjk_words:
            if word in remaining:
                found.add(word)
                self._credit(word, self._words[word], WORD, scores)
                remaining = remaining.replace(word, "\0")
        bridged = _PARTICLE.sub("", remaining)
        if bridged != remaining:
            for word in self._cjk_words:
                if word in bridged:
                    if word not in found:
                        found.add(word)
                        self._credit(word, self._words[word], WORD, scores)
                    bridged = bridged.replace(word, "\0")
            remaining = bridged
        return remaining

    def _score_bigrams(self, remaining: str, scores: dict[str, float]) -> None:
        for pair in set(_CJK_PAIR.findall(remaining)):
            shares = self._bigrams.get(pair)
            if shares:
                for key, share in shares.items():
                    scores[key] += BIGRAM * share

    def _score_parts(self, text: str, scores: dict[str, float]) -> None:
        self.load()
        assert self._segmenter is not None
        for token in {t.strip() for t in self._segmenter(text)}:
            if not token or token in _STOP or not any(ch.isalnum() for ch in token):
                continue
            shares = self._parts.get(token)
            if shares:
                self._credit_part(token, shares, PART * self._rarity.get(token, 1.0), scores)
            elif len(token) > 1 and not token.isascii():
                # A word no category knows ("电镀厂"): its characters, for less ("厂" of "工厂").
                for ch in set(token):
                    if ch not in _STOP and ch in self._parts:
                        self._credit_part(ch, self._parts[ch], CHAR * self._rarity.get(ch, 1.0), scores)

    @staticmethod
    def _credit_part(part: str, shares: dict[str, float], weight: float, scores: dict[str, float]) -> None:
        length = _length(part)
        for key, share in shares.items():
            scores[key] += weight * length * share

    @staticmethod
    def _credit(word: str, keys: frozenset[str], weight: float, scores: dict[str, float]) -> None:
        share = weight * _length(word) / len(keys)
        for key in keys:
            scores[key] += share


def _length(word: str) -> int:
    """How much a word says: its characters (Chinese, capped), its words (Latin)."""
    return len(_TOKEN.findall(word)) if word.isascii() else min(len(word), _WORD_LENGTH_CAP)


def _parts(word: str) -> set[str]:
    """The pieces of a word a segmenter may produce: every substring (Chinese), each word (Latin)."""
    if word.isascii():
        return set(_TOKEN.findall(word))
    return {word[i:j] for i in range(len(word)) for j in range(i + 1, len(word) + 1)}


def rarity_weight(idf: float) -> float:
    """How much a piece with this inverse document frequency weighs relative to an ordinary one."""
    low, high = _RARITY_RANGE
    return min(high, max(low, (idf / _RARITY_REFERENCE) ** 0.5))


def jieba_rarity(pieces: Iterable[str]) -> dict[str, float]:
    """The weights of `pieces` from jieba's IDF table (shipped for its keyword extraction). A piece the table
    lacks is rarer than any it holds, so weighs as the table's median word (most words are rare)."""
    from pathlib import Path

    import jieba

    wanted = set(pieces)
    idf: dict[str, float] = {}
    path = Path(jieba.__file__).parent / "analyse" / "idf.txt"
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            word, _, value = line.rstrip("\n").partition(" ")
            if word in wanted:
                idf[word] = float(value)
    return {piece: rarity_weight(idf.get(piece, _IDF_MEDIAN)) for piece in wanted}


def jieba_segmenter(words: Iterable[str]) -> Segmenter:
    """A jieba tokenizer of its own (the global one is left alone) that knows `words`; loads its dictionary."""
    import jieba  # imported here: loading it is the slow part, and only the suggestions need it

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in words:
        if not word.isascii():
            tokenizer.add_word(word)
    return lambda text: tokenizer.lcut(text, HMM=True)
