"""`complaint-bot bench`: every benchmark in one run (bench/suite.py), from a checkout of the project.

``bench/`` is not an installed package (pyproject's packages.find lists bot, handlers, storage, scheduler and
sandbox only): the benches need the example city, the test data and the emulator's harness of a checkout. So this
command looks for ``bench/suite.py`` next to the installed ``bot`` package (a checkout, or an editable install)
and then in the current directory, and says so plainly when neither has it.

Wiring (in bot/cli.py): ``cli_bench.register(sub)`` in ``_parser()`` and, in ``main()`` before the config is
loaded, ``if args.command == "bench": return cli_bench.run(args)``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

EXIT_NO_BENCH = 2
SUITE = Path("bench") / "suite.py"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("bench", help="run every benchmark with its baseline: one table, one JSON file "
                                            "(from a checkout)")
    p.add_argument("--quick", action="store_true", help="smaller sizes: under 3 minutes on 2 cores")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="run only these (intake, report, sweep, reminders, routing, suggest); repeat or comma-separate")
    p.add_argument("--output", type=Path, help="JSON file (default bench/results/suite.json of the checkout)")
    return p


def find_checkout(candidates: list[Path] | None = None) -> Path | None:
    """The first directory holding bench/suite.py: the one above the bot package, then the current one."""
    for root in candidates or [Path(__file__).resolve().parent.parent, Path.cwd()]:
        if (root / SUITE).is_file():
            return root
    return None


def run(args: argparse.Namespace) -> int:
    root = find_checkout()
    if root is None:
        print("complaint-bot bench: no bench/suite.py here. The benchmarks are not installed with the package; run "
              "this command from a checkout of the project (the directory holding bench/ and examples/).",
              file=sys.stderr)
        return EXIT_NO_BENCH
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    suite = importlib.import_module("bench.suite")
    argv = (["--quick"] if args.quick else []) + [f"--only={n}" for n in args.only or []]
    if args.output is not None:
        argv += ["--output", str(args.output)]
    return int(suite.main(argv))
