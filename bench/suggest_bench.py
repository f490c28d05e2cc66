"""Category suggestions: top-1 and top-3 accuracy on the labelled descriptions, per category and overall.

    python -m bench.suggest_bench                         # tests/data/suggest_labelled.tsv, the example city
    python -m bench.suggest_bench --data FILE --config config.example.toml --output bench/results/suggest.json

The sets (``category_key<TAB>description``, ``#`` comments) were written for this benchmark. Within each
category the rows of ``suggest_labelled.tsv`` alternate between two halves: the suggestion words were tuned
looking at half A only, so half B is held out. ``suggest_fresh.tsv`` (half C) was written after the tuning and
never tuned on. ``suggest_independent.tsv`` ("indep") was written by someone else from the category names
and domain knowledge alone, before reading the suggestion words or the other sets; it is the honest measure,
and the scorer's words and weights must not be tuned on it. Two baselines run on the same rows: "frequency order" always
offers the city file's first three categories, and "words only" is the scorer without segmentation (suggestion
words found verbatim). A row whose category scores nothing counts as a miss. Zone hints are not exercised (the
rows carry no location). Nothing here asserts anything; `tests/unit/test_suggest_accuracy.py` holds the line.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import machine_info, write_json
from bot.config import load_config
from bot.domain.suggest import CategoryWords, Suggester

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "suggest_labelled.tsv"
FRESH = REPO / "tests" / "data" / "suggest_fresh.tsv"
INDEPENDENT = REPO / "tests" / "data" / "suggest_independent.tsv"

Ranker = Callable[[str], Sequence[str]]


@dataclass(frozen=True)
class Row:
    key: str
    text: str
    half: str  # "A" (looked at while writing the words), "B" (held out), "C" (fresh), "indep" (independent)


def load_labelled(path: Path = DATA, half: str | None = None) -> list[Row]:
    """The labelled rows, each assigned to `half`, or to half A or B by its position within its category."""
    rows: list[Row] = []
    seen: dict[str, int] = defaultdict(int)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise ValueError(f"{path}:{number}: expected category_key<TAB>text")
        rows.append(Row(key, text.strip(), half or ("A" if seen[key] % 2 == 0 else "B")))
        seen[key] += 1
    return rows


@dataclass
class Tally:
    n: int = 0
    top1: int = 0
    top3: int = 0

    def add(self, key: str, ranked: Sequence[str]) -> None:
        self.n += 1
        self.top1 += bool(ranked) and ranked[0] == key
        self.top3 += key in ranked[:3]

    def figures(self) -> dict[str, float | int]:
        return {"n": self.n, "top1": round(self.top1 / self.n, 4) if self.n else 0.0,
                "top3": round(self.top3 / self.n, 4) if self.n else 0.0}


def evaluate(rank: Ranker, rows: Sequence[Row]) -> dict[str, Any]:
    """Accuracy overall, per half and per category; the misses (at top 3) with what was ranked instead."""
    overall, halves, per_category = Tally(), defaultdict(Tally), defaultdict(Tally)
    misses = []
    for row in rows:
        ranked = list(rank(row.text))
        for tally in (overall, halves[row.half], per_category[row.key]):
            tally.add(row.key, ranked)
        if row.key not in ranked[:3]:
            misses.append({"key": row.key, "half": row.half, "text": row.text, "ranked": ranked[:3]})
    return {"overall": overall.figures(), "halves": {h: t.figures() for h, t in sorted(halves.items())},
            "categories": {k: t.figures() for k, t in sorted(per_category.items())}, "misses": misses}


def suggester_for(config_path: Path) -> Suggester:
    suggester = load_config(config_path).city.suggester()
    suggester.load()
    return suggester


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="rows split into halves A and B")
    parser.add_argument("--fresh", type=Path, default=FRESH, help="rows never tuned on (half C); '' for none")
    parser.add_argument("--independent", type=Path, default=INDEPENDENT,
                        help="rows written independently of the words ('indep'); '' for none")
    parser.add_argument("--config", type=Path, default=REPO / "config.example.toml")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "suggest.json")
    parser.add_argument("--misses", action="store_true", help="print the rows missed at top 3")
    args = parser.parse_args(argv)

    rows = load_labelled(args.data)
    for path, half in ((args.fresh, "C"), (args.independent, "indep")):
        if str(path) not in ("", "."):
            rows += load_labelled(path, half)
    city = load_config(args.config).city
    started = time.perf_counter()
    suggester = city.suggester()
    suggester.load()
    load_s = time.perf_counter() - started
    words_only = Suggester([CategoryWords(c.key, (c.name_zh, *c.suggest)) for c in city.categories],
                           segmenter=lambda text: [])
    first_three = [c.key for c in city.categories[:3]]

    started = time.perf_counter()
    ours = evaluate(lambda text: [s.key for s in suggester.rank(text)], rows)
    rank_ms = (time.perf_counter() - started) * 1000 / len(rows)
    baselines = {
        "frequency order": evaluate(lambda text: first_three, rows),
        "words only": evaluate(lambda text: [s.key for s in words_only.rank(text)], rows),
    }

    print(f"{len(rows)} labelled descriptions over {len(ours['categories'])} categories;"
          f" segmenter loaded in {load_s:.2f} s, {rank_ms:.2f} ms per ranking\n")
    print(f"{'category':<20} {'n':>3} {'top-1':>7} {'top-3':>7}")
    for key, fig in ours["categories"].items():
        print(f"{key:<20} {fig['n']:>3} {fig['top1']:>7.0%} {fig['top3']:>7.0%}")
    print()
    lines = [("ours, overall", ours["overall"])]
    label = {"A": " (words tuned on it)", "B": " (held out)", "C": " (written later, never tuned on)",
             "indep": " (independent author)"}
    lines += [(f"ours, half {h}{label.get(h, '')}", f) for h, f in ours["halves"].items()]
    lines += [(f"baseline: {name}", b["overall"]) for name, b in baselines.items()]
    for name, fig in lines:
        print(f"{name:<52} top-1 {fig['top1']:>6.1%}   top-3 {fig['top3']:>6.1%}   (n={fig['n']})")
    if args.misses:
        print("\nmissed at top 3:")
        for miss in ours["misses"]:
            print(f"  [{miss['half']}] {miss['key']:<18} → {','.join(miss['ranked']) or '-'}   {miss['text']}")

    write_json(args.output, {
        "benchmark": "suggest", "data": [str(args.data), str(args.fresh), str(args.independent)],
        "rows": len(rows), "segmenter_load_s": round(load_s, 3), "ms_per_ranking": round(rank_ms, 3),
        "ours": ours, "baselines": {k: {"overall": v["overall"], "halves": v["halves"]} for k, v in baselines.items()},
        "machine": machine_info(),
    })
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
