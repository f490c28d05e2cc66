"""`complaint-bot suggest`: the ranked category keys the intake would suggest for a description, so operators can
check (and tune) the city file's ``suggest`` words.

    complaint-bot suggest --config config.example.toml "小区门口的路灯坏了三天了"
    complaint-bot suggest --config config.example.toml < descriptions.txt     # one line of keys per line

Prints every category that scores, best first, tab-separated (an empty line when none does); ``--limit N`` keeps
the first N (the intake offers three), ``--zone KEY`` ranks as for a place in that district or zone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.config import load_config


def register(subparsers: Any) -> None:
    """Add the ``suggest`` sub-command to ``complaint-bot``'s sub-parsers."""
    p = subparsers.add_parser("suggest", help="print the ranked category keys suggested for a description")
    p.add_argument("--config", required=True, type=Path)
    p.add_argument("--limit", type=int, default=None, help="print at most this many keys per text")
    p.add_argument("--zone", default=None, help="rank as for a place in this district or zone (a unit key)")
    p.add_argument("text", nargs="?", help="the description (default: each line of standard input)")


def run(args: argparse.Namespace) -> int:
    """ConfigError (a bad config) is the caller's to report."""
    city = load_config(args.config).city
    if args.zone is not None and args.zone not in {u.key for u in city.units if u.kind != "department"}:
        print(f"complaint-bot suggest: --zone: no district or zone has the key {args.zone!r}", file=sys.stderr)
        return 2
    suggester = city.suggester()
    suggester.load()
    texts = [args.text] if args.text is not None else (line.rstrip("\n") for line in sys.stdin)
    for text in texts:
        print("\t".join(s.key for s in suggester.rank(text, args.zone, args.limit)), flush=True)
    return 0
